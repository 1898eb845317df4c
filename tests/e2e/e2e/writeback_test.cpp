// End to end: write-back ([services.writeback], the SQL_UPDATE) through the
// real binaries on SQLite: the remote id lands in the ERP row; a trigger that
// bumps S_T_A_M_P_ on that update (as DBAccess does) brings the rows back once
// with unchanged content, and they are skipped: no loop. A statement the
// database refuses for some rows is visible in `log show`, retried, and leaves
// the delivery status alone.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace e2e;

namespace {

const std::map<std::string, std::string> kFast{{"page_size", "200"},
                                                {"batch_records", "100"},
                                                {"safety_delay", "\"100ms\""},
                                                {"retry_backoff_base", "\"1ms\""},
                                                {"retry_backoff_max", "\"5ms\""}};

const std::string kService1 =
  "\nid = 1\nname = \"taxpayers\"\ntable = \"CONTRIBUINTES\"\ntarget = \"portal\"\n"
  "schedule = \"daily 20:00\"\n";

void add_writeback(const fs::path& cfg) {
  replace_in_file(cfg, kService1,
              kService1 + "\n[services.writeback]\n"
                          "sql = \"UPDATE CONTRIBUINTES SET IDERP = :id WHERE R_E_C_N_O_ = :key\"\n");
}

/// The "N unchanged" of service 1's cycle line (human log format).
std::uint64_t unchanged_of(const std::string& out) {
  std::smatch m;
  static const std::regex re(R"(service 1 'taxpayers': [\w ]+cycle done: 0 created, 0 updated, 0 deleted, 0 failed, 0 cancelled, (\d+) unchanged)");
  if (!std::regex_search(out, m, re))
    return 0;
  return std::stoull(m[1]);
}

} // namespace

TEST_CASE("write-back: the remote id lands in the row, the stamp-bumping trigger brings the rows "
          "back once, unchanged, and nothing loops") {
  world w(0.02, kFast);
  sql_exec(w.db, "ALTER TABLE CONTRIBUINTES ADD COLUMN IDERP TEXT");
  // As DBAccess does: the update moves the stamp (and the test counts the bumps).
  sql_exec(w.db, "CREATE TABLE BUMPS (RECNO INTEGER)");
  sql_exec(w.db,
           "CREATE TRIGGER bump_stamp AFTER UPDATE OF IDERP ON CONTRIBUINTES BEGIN "
           "UPDATE CONTRIBUINTES SET S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f', 'now') "
           "WHERE R_E_C_N_O_ = NEW.R_E_C_N_O_; INSERT INTO BUMPS VALUES (NEW.R_E_C_N_O_); END");
  add_writeback(w.cfg);
  auto chk = w.stampede_plain("check");
  INFO(chk.out);
  REQUIRE(chk.rc == 0);

  auto r = w.stampede("run --once --services 1 --log-format human");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto live = w.live_rows("CONTRIBUINTES");
  REQUIRE(live > 0);
  // Every delivered row holds the id the target gave it.
  CHECK(sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE IDERP IS NOT NULL") == live);
  const auto at_target = target_records(w.target->url(), 1);
  REQUIRE(at_target.size() == static_cast<std::size_t>(live));
  std::int64_t matching = 0;
  for (const auto& [key, rec] : at_target)
    matching += sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE R_E_C_N_O_ = " + key +
                                " AND IDERP = '" + rec.id + "'");
  CHECK(matching == live);
  // The write-back is its own item in the log monitor.
  const auto key = at_target.begin()->first;
  auto show = w.stampede_plain("log show 1 " + key);
  INFO(show.out);
  CHECK(show.rc == 0);
  CHECK(show.out.find("write-back: 1 row changed") != std::string::npos);

  // The trigger moved the stamps past the checkpoint: the rows come back once,
  // with unchanged content, and are skipped; nothing is written back again.
  auto bumps = [&] { return sql_int(w.db, "SELECT COUNT(*) FROM BUMPS"); };
  CHECK(bumps() == live);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto second = w.stampede("run --once --services 1 --log-format human");
  INFO(second.out);
  CHECK(second.rc == 0);
  CHECK(unchanged_of(second.out) >= static_cast<std::uint64_t>(live));
  CHECK(bumps() == live);  // no write-back ran again: no stamp moved
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto third = w.stampede("run --once --services 1 --log-format human");
  INFO(third.out);
  CHECK(third.rc == 0);
  CHECK(third.out.find("0 created, 0 updated, 0 deleted") != std::string::npos);
  CHECK(bumps() == live);
  auto st = get_stats(w.target->url());
  CHECK(st.services[1].creates == static_cast<std::uint64_t>(live));
  CHECK(st.services[1].updates == 0);
  CHECK(st.services[1].duplicates == 0);
}

TEST_CASE("write-back: a statement the database refuses is retried, visible in log show, and "
          "never changes the delivery status") {
  world w(0.02, kFast);
  sql_exec(w.db, "ALTER TABLE CONTRIBUINTES ADD COLUMN IDERP TEXT");
  sql_exec(w.db,
           "CREATE TRIGGER refuse_even BEFORE UPDATE OF IDERP ON CONTRIBUINTES "
           "WHEN NEW.R_E_C_N_O_ % 2 = 0 BEGIN SELECT RAISE(ABORT, 'IDERP is locked for even "
           "records'); END");
  add_writeback(w.cfg);
  auto r = w.stampede("run --once --services 1 --log-format human");
  INFO(r.out);
  CHECK(r.rc == 0);  // delivered: a write-back never fails the run
  const auto live = w.live_rows("CONTRIBUINTES");
  CHECK(get_stats(w.target->url()).services[1].creates == static_cast<std::uint64_t>(live));
  const auto even = sql_int(w.db, "SELECT MIN(R_E_C_N_O_) FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*' "
                                  "AND R_E_C_N_O_ % 2 = 0");
  const auto odd = sql_int(w.db, "SELECT MIN(R_E_C_N_O_) FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*' "
                                 "AND R_E_C_N_O_ % 2 = 1");
  REQUIRE(even > 0);
  REQUIRE(odd > 0);
  // Odd rows were written (alone, after the batch's tries), even ones not.
  CHECK(sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE IDERP IS NOT NULL AND "
                      "R_E_C_N_O_ % 2 = 0") == 0);
  CHECK(sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE IDERP IS NOT NULL AND "
                      "R_E_C_N_O_ % 2 = 1 AND D_E_L_E_T_ <> '*'") ==
        sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE R_E_C_N_O_ % 2 = 1 AND "
                      "D_E_L_E_T_ <> '*'"));
  auto show = w.stampede_plain("log show 1 " + std::to_string(even));
  INFO(show.out);
  CHECK(show.rc == 0);
  CHECK(show.out.find("write-back failed after 4 tries: IDERP is locked for even records") !=
        std::string::npos);
  auto ok = w.stampede_plain("log show 1 " + std::to_string(odd));
  INFO(ok.out);
  CHECK(ok.out.find("write-back: 1 row changed (alone, after 3 failed tries") != std::string::npos);
  // The delivery status is untouched: nothing in Error, every record a success.
  auto errors = w.stampede_plain("log --service 1 --status error --json");
  CHECK(errors.rc == 0);
  CHECK(errors.out.find("\"status\":\"error\"") == std::string::npos);
  auto even_json = w.stampede_plain("log show 1 " + std::to_string(even) + " --json");
  CHECK(even_json.out.find("\"status\":\"success\"") != std::string::npos);
}

TEST_CASE("write-back: check prepares the statement and rejects a bad one or a typo with exit 2") {
  world w(0.01, kFast);
  replace_in_file(w.cfg, kService1,
              kService1 + "\n[services.writeback]\n"
                          "sql = \"UPDATE CONTRIBUINTES SET NO_SUCH_COLUMN = :id WHERE R_E_C_N_O_ = :key\"\n");
  auto r = w.stampede_plain("check");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("services[0].writeback.sql") != std::string::npos);
  CHECK(r.out.find("no such column: NO_SUCH_COLUMN") != std::string::npos);
  replace_in_file(w.cfg, "NO_SUCH_COLUMN = :id WHERE R_E_C_N_O_ = :key",
              "CT_NOME = :id WHERE R_E_C_N_O_ = :kye");
  r = w.stampede_plain("check");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("parameter :kye is not :id, :key or a mapped field") != std::string::npos);
  CHECK(r.out.find("did you mean :key?") != std::string::npos);
  CHECK_FALSE(fs::exists(w.state));
}
