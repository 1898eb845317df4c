// End to end through the real SQLite source: stamps written in other layouts
// (ISO 8601 with T and Z), stamps that are not date-times, NULL and empty
// keys, and NULL record numbers on a page boundary (issue 11, "Stamps" and
// "Keys"), with `stampede run --once`, `stampede log` and the reference target.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {

struct stamp_world {
  temp_dir tmp;
  fs::path db = tmp.path / "erp.db", state = tmp.path / "state", cfg = tmp.path / "s.toml";
  target_process target{tmp.path};

  // Table T: R_E_C_N_O_ (nullable, not the rowid), S_T_A_M_P_ text, K, NAME.
  explicit stamp_world(const std::string& key_column, int page_size) {
    sql_exec(db, "CREATE TABLE T (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT DEFAULT ' ', "
                 "K TEXT, NAME TEXT);"
                 "CREATE INDEX T_STAMP ON T (S_T_A_M_P_, R_E_C_N_O_);");
    std::ofstream(cfg) << "[source]\npath = \"" << db.string() << "\"\npage_size = " << page_size
                       << "\nlookback = \"10m\"\nsafety_delay = \"1s\"\n\n[state]\ndir = \""
                       << state.string() << "\"\n\n[targets.portal]\nbase_url = \"" << target.url()
                       << "\"\nprotocol = \"sync_batch\"\nmax_attempts = 0\n\n"
                       << "[[services]]\nid = 1\nname = \"people\"\ntable = \"T\"\ntarget = "
                          "\"portal\"\nkey_column = \""
                       << key_column << "\"\n\n[[services.fields]]\nname = \"name\"\ncolumn = \"NAME\"\n";
  }
  cmd_result stampede(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string() +
               " --progress never");
  }
  cmd_result plain(const std::string& args) {  // commands without --progress
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string());
  }
  /// `stampede log --json --status error`: one line per record in Error.
  std::vector<std::string> errors() {
    auto r = plain("log --json --service 1 --status error --limit 1000");
    INFO(r.out);
    REQUIRE(r.rc == 0);
    std::vector<std::string> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.find("\"status\":\"error\"") != std::string::npos) out.push_back(line);
    return out;
  }
  std::string checkpoint() {
    auto r = plain("status --json --services 1");
    REQUIRE(r.rc == 0);
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(r.out);
    return std::string(std::string_view(doc["services"].at(0)["checkpoint"]["stamp"]));
  }
  std::map<std::string, target_record> delivered() {
    auto all = target_records(target.url(), 1);
    std::map<std::string, target_record> live;
    for (auto& [k, v] : all)
      if (!v.deleted) live.emplace(k, v);
    return live;
  }
};

// SQLite's clock `minutes` from now, in the layout of strftime `fmt`.
std::string sql_now(const fs::path& db, const std::string& fmt, int minutes) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string q =
      "SELECT strftime('" + fmt + "', 'now', '" + std::to_string(minutes) + " minutes')";
  REQUIRE(sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

bool has(const std::vector<std::string>& lines, const std::string& a, const std::string& b) {
  for (const auto& l : lines)
    if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("stamps: an ISO stamp like 2024-01-01T10:00:00Z becomes the checkpoint and later cycles "
          "go on and an unreadable stamp is a record error that never becomes the checkpoint") {
  stamp_world w("R_E_C_N_O_", 2);
  const std::string canon = "%Y-%m-%d %H:%M:%f", iso = "%Y-%m-%dT%H:%M:%SZ";
  sql_exec(w.db, "INSERT INTO T VALUES (1, '" + sql_now(w.db, canon, -30) + "', ' ', 'a', 'one');"
                 "INSERT INTO T VALUES (2, '01/02/2024', ' ', 'b', 'two');"
                 "INSERT INTO T VALUES (3, '" + sql_now(w.db, canon, -20) + "', ' ', 'c', 'three');"
                 "INSERT INTO T VALUES (4, '" + sql_now(w.db, iso, -5) + "', ' ', 'd', 'four');");
  auto r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 4);  // records in Error
  auto got = w.delivered();
  CHECK(got.size() == 3);
  CHECK(got.count("1") == 1);
  CHECK(got.count("3") == 1);
  CHECK(got.count("4") == 1);
  // The newest row (text order) is the ISO one: it is the checkpoint.
  const std::string cp = w.checkpoint();
  CHECK(cp.find('T') == 10);
  CHECK(cp.back() == 'Z');
  auto errs = w.errors();
  REQUIRE(errs.size() == 1);
  CHECK(has(errs, "\"key\":\"2\"", "is not a date-time"));

  // Later cycles: a change written in the usual layout after the ISO
  // checkpoint (it sorts below it as text) and the fixed bad row both go out.
  sql_exec(w.db, "UPDATE T SET NAME = 'three v2', S_T_A_M_P_ = '" + sql_now(w.db, canon, -2) +
                     "' WHERE R_E_C_N_O_ = 3;"
                     "UPDATE T SET S_T_A_M_P_ = '" + sql_now(w.db, canon, -2) +
                     "' WHERE R_E_C_N_O_ = 2;");
  for (int cycle = 0; cycle < 2; ++cycle) {
    r = w.stampede("run --once");
    INFO(r.out);
    CHECK(r.rc == 0);
  }
  got = w.delivered();
  CHECK(got.size() == 4);
  CHECK(got["3"].data.find("three v2") != std::string::npos);
  CHECK(got["2"].data.find("two") != std::string::npos);
  CHECK(w.errors().empty());
  CHECK(w.checkpoint() != "01/02/2024");
}

TEST_CASE("keys: NULL and empty keys are record errors of their own and a second NULL-recno row "
          "on a page boundary is not skipped") {
  SECTION("NULL and empty keys") {
    stamp_world w("K", 2);
    const std::string s = sql_now(w.db, "%Y-%m-%d %H:%M:%f", -30);
    sql_exec(w.db, "INSERT INTO T VALUES (1, '" + s + "', ' ', NULL, 'one');"
                   "INSERT INTO T VALUES (2, '" + s + "', ' ', '', 'two');"
                   "INSERT INTO T VALUES (3, '" + s + "', ' ', NULL, 'three');"
                   "INSERT INTO T VALUES (4, '" + s + "', ' ', 'k4', 'four');");
    auto r = w.stampede("run --once");
    INFO(r.out);
    CHECK(r.rc == 4);
    auto got = w.delivered();
    CHECK(got.size() == 1);
    CHECK(got.count("k4") == 1);
    CHECK(got.count("") == 0);  // nothing collapsed onto key ""
    auto errs = w.errors();
    CHECK(errs.size() == 3);
    CHECK(has(errs, "<NULL K> R_E_C_N_O_ 1", "the key column K is NULL"));
    CHECK(has(errs, "<empty K> R_E_C_N_O_ 2", "the key column K is empty"));
    CHECK(has(errs, "<NULL K> R_E_C_N_O_ 3", "the key column K is NULL"));
  }
  SECTION("NULL record numbers at one stamp across a page boundary") {
    stamp_world w("K", 2);
    const std::string s1 = sql_now(w.db, "%Y-%m-%d %H:%M:%f", -30),
                      s2 = sql_now(w.db, "%Y-%m-%d %H:%M:%f", -20);
    // Page 1 ends on the first NULL-recno row; before the fix the second one
    // (same stamp) was skipped by the next page's "recno > 0".
    sql_exec(w.db, "INSERT INTO T VALUES (1, '" + s1 + "', ' ', 'a', 'one');"
                   "INSERT INTO T VALUES (NULL, '" + s2 + "', ' ', 'n1', 'n one');"
                   "INSERT INTO T VALUES (NULL, '" + s2 + "', ' ', 'n2', 'n two');"
                   "INSERT INTO T VALUES (NULL, '" + s2 + "', ' ', 'n3', 'n three');"
                   "INSERT INTO T VALUES (5, '" + s2 + "', ' ', 'e', 'five');");
    auto r = w.stampede("run --once");
    INFO(r.out);
    CHECK(r.rc == 0);
    auto got = w.delivered();
    CHECK(got.size() == 5);
    for (const char* k : {"a", "n1", "n2", "n3", "e"}) {
      INFO(k);
      CHECK(got.count(k) == 1);
    }
  }
}
