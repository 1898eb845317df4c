// End to end through a PostgreSQL source (`[source] kind = "postgres"`): the
// real stampede binary reads a table the test creates on a throwaway
// PostgreSQL 15 server (tests/pg_test_server.hpp) and delivers to the
// reference target: initial load, changes and soft deletes, a transaction
// held open across a cycle, `stampede check`, and bad connection settings.
#include "e2e_support.hpp"
#include "tests/pg_test_server.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace e2e;

namespace {

// A CONTRIBUINTES table like the demo's service 1 (CHAR code, names, e-mail).
struct pg_world {
  temp_dir tmp;
  fs::path state = tmp.path / "state", cfg = tmp.path / "pg.toml";
  target_process target{tmp.path};
  pg_test::conn db;
  std::string table;

  explicit pg_world(const std::string& table_name, const std::string& lookback = "10m")
      : table(table_name) {
    ::setenv("PG_PASSWORD", pg_test::password, 1);
    ::unsetenv("PGPASSWORD");
    db.exec("DROP TABLE IF EXISTS \"" + table + "\"");
    db.exec("CREATE TABLE \"" + table + "\" (\"R_E_C_N_O_\" integer PRIMARY KEY, "
            "\"S_T_A_M_P_\" timestamp, \"D_E_L_E_T_\" char(1) NOT NULL DEFAULT ' ', "
            "\"CT_CODIGO\" char(8), \"CT_NOME\" varchar(60), \"CT_EMAIL\" varchar(60))");
    db.exec("CREATE INDEX ON \"" + table + "\" (\"S_T_A_M_P_\", \"R_E_C_N_O_\")");
    write_config(pg_test::server().dsn_no_password() + " password=${PG_PASSWORD}", lookback);
  }

  void write_config(const std::string& dsn, const std::string& lookback) {
    std::ofstream(cfg) << "[source]\nkind = \"postgres\"\ndsn = \"" << dsn
                       << "\"\npage_size = 7\nsafety_delay = \"1s\"\nlookback = \"" << lookback
                       << "\"\n\n[state]\ndir = \"" << state.string()
                       << "\"\n\n[targets.portal]\nbase_url = \"" << target.url()
                       << "\"\nprotocol = \"sync_batch\"\n\n"
                       << "[[services]]\nid = 1\nname = \"taxpayers\"\ntable = \"" << table
                       << "\"\ntarget = \"portal\"\n\n"
                       << "[[services.fields]]\nname = \"code\"\ncolumn = \"CT_CODIGO\"\n"
                          "type = \"string\"\nnullable = false\n\n"
                       << "[[services.fields]]\nname = \"name\"\ncolumn = \"CT_NOME\"\n"
                          "type = \"string\"\n\n"
                       << "[[services.fields]]\nname = \"email\"\ncolumn = \"CT_EMAIL\"\n"
                          "type = \"string\"\n";
  }

  // Rows recno from..to, all stamped `ago` before the statement's start (one
  // stamp: ties across the 7-row pages).
  void insert(int from, int to, const std::string& ago = "1 minute") {
    db.exec("INSERT INTO \"" + table + "\" SELECT g, (now() AT TIME ZONE 'UTC') - "
            "interval '" + ago + "', ' ', lpad(g::text, 6, '0'), 'Name ' || g, "
            "CASE WHEN g % 3 = 0 THEN NULL ELSE 'c' || g || '@example.com' END "
            "FROM generate_series(" + std::to_string(from) + ", " + std::to_string(to) + ") g");
  }

  cmd_result stampede(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string() +
               " --progress never");
  }
  cmd_result plain(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string());
  }
};

} // namespace

TEST_CASE("postgres: run --once delivers every row, then exactly the changed and soft-deleted "
          "ones") {
  pg_world w("CONTRIBUINTES");
  w.insert(1, 40);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto got = target_records(w.target.url(), 1);
  REQUIRE(got.size() == 40);
  // The key is R_E_C_N_O_; the CHAR(8) code goes out without its padding.
  REQUIRE(got.count("7") == 1);
  CHECK(got["7"].data == R"({"code":"000007","name":"Name 7","email":"c7@example.com"})");
  CHECK(got["9"].data == R"({"code":"000009","name":"Name 9","email":null})");
  const auto before = get_stats(w.target.url()).services[1];
  CHECK(before.creates == 40);

  // Five changed rows, three soft deletes; a second run sends exactly those.
  w.db.exec("UPDATE \"CONTRIBUINTES\" SET \"CT_NOME\" = 'Changed ' || \"R_E_C_N_O_\", "
            "\"S_T_A_M_P_\" = (clock_timestamp() AT TIME ZONE 'UTC') - interval '3 seconds' "
            "WHERE \"R_E_C_N_O_\" IN (2, 11, 17, 30, 39)");
  w.db.exec("UPDATE \"CONTRIBUINTES\" SET \"D_E_L_E_T_\" = '*', "
            "\"S_T_A_M_P_\" = (clock_timestamp() AT TIME ZONE 'UTC') - interval '3 seconds' "
            "WHERE \"R_E_C_N_O_\" IN (5, 21, 33)");
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto after = get_stats(w.target.url()).services[1];
  CHECK(after.creates == 40);
  CHECK(after.updates - before.updates == 5);
  CHECK(after.deletes - before.deletes == 3);
  CHECK(after.records - before.records == 8);
  got = target_records(w.target.url(), 1);
  CHECK(got["11"].data == R"({"code":"000011","name":"Changed 11","email":"c11@example.com"})");
  CHECK(got["21"].deleted);
  CHECK_FALSE(got["22"].deleted);

  // Nothing changed: a third run sends nothing.
  r = w.stampede("run --once");
  REQUIRE(r.rc == 0);
  CHECK(get_stats(w.target.url()).services[1].records == after.records);
  // The password never reaches the output or the state.
  CHECK(r.out.find(pg_test::password) == std::string::npos);
  CHECK(bytes_under(w.state).find(pg_test::password) == std::string::npos);
}

TEST_CASE("postgres: a source connection killed during the initial load is reopened and every "
          "row is delivered once") {
  pg_world w("CONTRIB_KILL");
  w.insert(1, 30);
  w.db.exec("UPDATE \"CONTRIB_KILL\" SET \"CT_NOME\" = 'SLOW' WHERE \"R_E_C_N_O_\" = 17");
  // Reading the row named SLOW sleeps until the killer terminates the
  // page's backend: the SELECT is in flight when its connection dies.
  pg_test::create_slow_view(w.db, "CONTRIB_KILL", "CONTRIB_KILLV",
                            {"R_E_C_N_O_", "S_T_A_M_P_", "D_E_L_E_T_", "CT_CODIGO", "CT_NOME",
                             "CT_EMAIL"},
                            "CT_NOME");
  replace_in_file(w.cfg, "table = \"CONTRIB_KILL\"", "table = \"CONTRIB_KILLV\"");
  pg_test::backend_killer killer;
  auto r = w.stampede("run --once");
  killer.join();
  INFO(r.out);
  CHECK(killer.error().empty());
  CHECK(killer.killed());
  REQUIRE(r.rc == 0);
  auto got = target_records(w.target.url(), 1);
  CHECK(got.size() == 30);
  CHECK(got["17"].data == R"({"code":"000017","name":"SLOW","email":"c17@example.com"})");
  const auto st = get_stats(w.target.url()).services[1];
  CHECK(st.creates == 30);
  CHECK(st.records == 30);
}

TEST_CASE("postgres: audit finds a hard delete and a change the cycle missed") {
  pg_world w("CONTRIB_AUDIT");
  w.insert(1, 20);
  REQUIRE(w.stampede("run --once").rc == 0);
  REQUIRE(target_records(w.target.url(), 1).size() == 20);
  // A hard DELETE, and a change that kept its stamp (no cycle can see it).
  w.db.exec("DELETE FROM \"CONTRIB_AUDIT\" WHERE \"R_E_C_N_O_\" = 4");
  w.db.exec("UPDATE \"CONTRIB_AUDIT\" SET \"CT_NOME\" = 'Quiet' WHERE \"R_E_C_N_O_\" = 8");
  auto r = w.plain("audit --service 1 --json");
  INFO(r.out);
  REQUIRE(r.rc == 4);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r.out.substr(0, r.out.find('\n')));
  CHECK(std::uint64_t(doc["deleted"]) == 1);
  CHECK(std::uint64_t(doc["changed"]) == 1);
  CHECK(std::uint64_t(doc["missing"]) == 0);
  CHECK(std::uint64_t(doc["source_rows"]) == 19);
}

TEST_CASE("postgres: a row held in a transaction open across a cycle is delivered after its "
          "commit, even without a lookback") {
  pg_world w("CONTRIB_HELD", "0s");
  w.insert(1, 5);
  // A second connection inserts a row stamped with its transaction's start
  // and keeps the transaction open; a later row commits meanwhile.
  pg_test::conn held;
  held.exec("BEGIN");
  held.exec("INSERT INTO \"CONTRIB_HELD\" VALUES (100, now() AT TIME ZONE 'UTC', ' ', 'H', "
            "'Held', NULL)");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  w.db.exec("INSERT INTO \"CONTRIB_HELD\" VALUES (101, (clock_timestamp() AT TIME ZONE 'UTC'), "
            "' ', 'L', 'Later', NULL)");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the safety delay

  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto got = target_records(w.target.url(), 1);
  CHECK(got.size() == 5);  // the later row waits below the open transaction
  CHECK(got.count("101") == 0);
  CHECK(r.out.find("upper bound held below the oldest open transaction") != std::string::npos);

  held.exec("COMMIT");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  got = target_records(w.target.url(), 1);
  CHECK(got.size() == 7);
  CHECK(got.count("100") == 1);
  CHECK(got.count("101") == 1);
  CHECK(r.out.find("open transaction") == std::string::npos);
}

TEST_CASE("postgres: check names a missing table and a missing column") {
  pg_world w("CONTRIB_CHECK");
  w.insert(1, 3);
  auto ok = w.plain("check");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  CHECK(ok.out.find("PostgreSQL host=127.0.0.1") != std::string::npos);
  CHECK(ok.out.find("stamp index present") != std::string::npos);

  // Without the (stamp, recno) index: a warning with the statement to run.
  w.db.exec("DROP INDEX \"CONTRIB_CHECK_S_T_A_M_P__R_E_C_N_O__idx\"");
  auto noidx = w.plain("check");
  INFO(noidx.out);
  CHECK(noidx.rc == 0);
  CHECK(noidx.out.find("has no index starting with S_T_A_M_P_") != std::string::npos);
  CHECK(noidx.out.find("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"CONTRIB_CHECK_stamp\" ON "
                       "\"CONTRIB_CHECK\" (\"S_T_A_M_P_\", \"R_E_C_N_O_\");") !=
        std::string::npos);

  replace_in_file(w.cfg, "column = \"CT_NOME\"", "column = \"CT_NOMX\"");
  auto col = w.plain("check");
  INFO(col.out);
  CHECK(col.rc == 2);
  CHECK(col.out.find("column `CT_NOMX` does not exist in table CONTRIB_CHECK") !=
        std::string::npos);
  CHECK(col.out.find("did you mean `CT_NOME`?") != std::string::npos);

  // Names are quoted, so case matters: ct_email is not CT_EMAIL.
  replace_in_file(w.cfg, "column = \"CT_NOMX\"", "column = \"CT_NOME\"");
  replace_in_file(w.cfg, "column = \"CT_EMAIL\"", "column = \"ct_email\"");
  auto lower = w.plain("check");
  INFO(lower.out);
  CHECK(lower.rc == 2);
  CHECK(lower.out.find("column `ct_email` does not exist in table CONTRIB_CHECK") !=
        std::string::npos);
  CHECK(lower.out.find("did you mean `CT_EMAIL`?") != std::string::npos);

  replace_in_file(w.cfg, "table = \"CONTRIB_CHECK\"", "table = \"CONTRIB_CHEK\"");
  auto tab = w.plain("check");
  INFO(tab.out);
  CHECK(tab.rc == 2);
  CHECK(tab.out.find("table CONTRIB_CHEK does not exist in PostgreSQL") != std::string::npos);
  CHECK(tab.out.find("did you mean `CONTRIB_CHECK`?") != std::string::npos);
  CHECK_FALSE(fs::exists(w.state));
}

TEST_CASE("postgres: check warns when the user cannot see other sessions' open transactions") {
  pg_world w("CONTRIB_ROLE");
  w.insert(1, 3);
  w.db.exec("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN "
            "CREATE ROLE reader LOGIN PASSWORD 'reader-pass-31'; END IF; END $$");
  w.db.exec("REVOKE pg_read_all_stats FROM reader");
  w.db.exec("GRANT SELECT ON \"CONTRIB_ROLE\" TO reader");
  ::setenv("PG_PASSWORD", "reader-pass-31", 1);
  w.write_config("host=127.0.0.1 port=" + std::to_string(pg_test::server().port()) +
                     " dbname=erp user=reader password=${PG_PASSWORD}",
                 "10m");
  auto r = w.plain("check");
  INFO(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("user reader cannot see other users' open transactions") != std::string::npos);
  CHECK(r.out.find("GRANT pg_read_all_stats TO \"reader\"") != std::string::npos);
  CHECK(r.out.find("reader-pass-31") == std::string::npos);

  w.db.exec("GRANT pg_read_all_stats TO reader");
  r = w.plain("check");
  INFO(r.out);
  CHECK(r.rc == 0);
  CHECK(r.out.find("open transactions") == std::string::npos);
}

TEST_CASE("postgres: a wrong DSN, a wrong password and a missing password variable exit 2 with "
          "a clear message and write nothing") {
  pg_world w("CONTRIB_BAD");
  w.insert(1, 3);
  const std::string good = pg_test::server().dsn_no_password();

  // Nothing listens on port 1.
  w.write_config("host=127.0.0.1 port=1 dbname=erp user=stampede password=${PG_PASSWORD}", "10m");
  auto r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("cannot connect to PostgreSQL (PostgreSQL host=127.0.0.1 port=1") !=
        std::string::npos);
  CHECK(r.out.find(pg_test::password) == std::string::npos);

  // A wrong password: said so, never printed.
  ::setenv("PG_PASSWORD", "Wrong-Password-2718", 1);
  w.write_config(good + " password=${PG_PASSWORD}", "10m");
  r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("password authentication failed") != std::string::npos);
  CHECK(r.out.find("Wrong-Password-2718") == std::string::npos);

  // The password variable is not exported: a config error naming it.
  ::unsetenv("PG_PASSWORD");
  r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("environment variable `PG_PASSWORD` is not set") != std::string::npos);
  CHECK(r.out.find("source.dsn") != std::string::npos);

  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target.url()).records == 0);
}

TEST_CASE("postgres: examples/postgres.toml exports an SA1010 table") {
  temp_dir tmp;
  target_process target{tmp.path};
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS \"SA1010\"");
  db.exec("CREATE TABLE \"SA1010\" (\"R_E_C_N_O_\" integer PRIMARY KEY, \"S_T_A_M_P_\" "
          "timestamptz, \"D_E_L_E_T_\" char(1) NOT NULL DEFAULT ' ', \"A1_COD\" char(6), "
          "\"A1_NOME\" varchar(40), \"A1_CGC\" char(14), \"A1_EMAIL\" varchar(60))");
  db.exec("CREATE INDEX ON \"SA1010\" (\"S_T_A_M_P_\", \"R_E_C_N_O_\")");
  db.exec("INSERT INTO \"SA1010\" SELECT g, clock_timestamp() - interval '1 hour', ' ', "
          "lpad(g::text, 4, '0'), 'Cliente ' || g, '1234567800019' || (g % 10), NULL "
          "FROM generate_series(1, 25) g");
  const auto& srv = pg_test::server();
  ::setenv("PG_HOST", "127.0.0.1", 1);
  ::setenv("PG_PORT", std::to_string(srv.port()).c_str(), 1);
  ::setenv("PG_DATABASE", "erp", 1);
  ::setenv("PG_USER", "stampede", 1);
  ::setenv("PG_PASSWORD", pg_test::password, 1);
  ::setenv("STAMPEDE_STATE_DIR", (tmp.path / "state").c_str(), 1);
  ::setenv("STAMPEDE_TARGET_URL", target.url().c_str(), 1);
  const std::string cfg = std::string(STAMPEDE_SOURCE_DIR) + "/examples/postgres.toml";
  auto check = run(bin("tools/stampede/stampede") + " check -c " + cfg);
  INFO(check.out);
  CHECK(check.rc == 0);
  auto r = run(bin("tools/stampede/stampede") + " run --once --progress never -c " + cfg);
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto got = target_records(target.url(), 1);
  REQUIRE(got.size() == 25);
  CHECK(got["3"].data ==
        R"({"code":"0003","name":"Cliente 3","document":"12345678000193","email":null})");
}

namespace {

// Service 1 of pg_world with a write-back of the remote id into IDERP.
void add_pg_writeback(pg_world& w, const std::string& sql) {
  w.db.exec("ALTER TABLE \"" + w.table + "\" ADD COLUMN \"IDERP\" text");
  replace_in_file(w.cfg, "target = \"portal\"\n",
                  "target = \"portal\"\n\n[services.writeback]\nsql = '" + sql + "'\n");
}

std::int64_t pg_count(pg_world& w, const std::string& where) {
  return std::stoll(w.db.value("SELECT count(*) FROM \"" + w.table + "\" WHERE " + where));
}

} // namespace

TEST_CASE("postgres: write-back puts the remote id in the row, the stamp-bumping trigger brings "
          "the rows back once, unchanged, and nothing loops") {
  pg_world w("CONTRIB_WB");
  w.insert(1, 20);
  add_pg_writeback(w, "UPDATE \"CONTRIB_WB\" SET \"IDERP\" = :id WHERE \"R_E_C_N_O_\" = :key");
  // As DBAccess does: the update moves the stamp (and the test counts the bumps).
  w.db.exec("DROP TABLE IF EXISTS wb_bumps");
  w.db.exec("CREATE TABLE wb_bumps (recno int)");
  w.db.exec("CREATE OR REPLACE FUNCTION wb_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.\"S_T_A_M_P_\" := clock_timestamp() AT TIME ZONE 'UTC'; "
            "INSERT INTO wb_bumps VALUES (NEW.\"R_E_C_N_O_\"); RETURN NEW; END $$");
  w.db.exec("CREATE TRIGGER wb_bump BEFORE UPDATE OF \"IDERP\" ON \"CONTRIB_WB\" FOR EACH ROW "
            "EXECUTE FUNCTION wb_bump()");
  auto chk = w.plain("check");
  INFO(chk.out);
  REQUIRE(chk.rc == 0);

  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto at_target = target_records(w.target.url(), 1);
  REQUIRE(at_target.size() == 20);
  CHECK(pg_count(w, "\"IDERP\" IS NOT NULL") == 20);
  std::int64_t matching = 0;
  for (const auto& [key, rec] : at_target)
    matching += pg_count(w, "\"R_E_C_N_O_\" = " + key + " AND \"IDERP\" = '" + rec.id + "'");
  CHECK(matching == 20);
  auto show = w.plain("log show 1 " + at_target.begin()->first);
  INFO(show.out);
  CHECK(show.out.find("write-back: 1 row changed") != std::string::npos);

  // The bumped rows come back once with unchanged content: nothing is sent
  // or written back again.
  auto bumps = [&] { return std::stoll(w.db.value("SELECT count(*) FROM wb_bumps")); };
  CHECK(bumps() == 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the safety delay
  for (int run = 0; run < 2; ++run) {
    r = w.stampede("run --once");
    INFO(r.out);
    CHECK(r.rc == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  CHECK(bumps() == 20);
  const auto st = get_stats(w.target.url()).services[1];
  CHECK(st.creates == 20);
  CHECK(st.updates == 0);
  CHECK(st.records == 20);
}

TEST_CASE("postgres: check prepares the write-back statement: a missing column or an unknown "
          "parameter is exit 2") {
  pg_world w("CONTRIB_WBCHK");
  w.insert(1, 2);
  add_pg_writeback(w, "UPDATE \"CONTRIB_WBCHK\" SET \"NO_SUCH\" = :id WHERE \"R_E_C_N_O_\" = :key");
  auto r = w.plain("check");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("services[0].writeback.sql") != std::string::npos);
  CHECK(r.out.find("column \"NO_SUCH\" of relation \"CONTRIB_WBCHK\" does not exist") !=
        std::string::npos);
  replace_in_file(w.cfg, "\"NO_SUCH\" = :id WHERE \"R_E_C_N_O_\" = :key",
                  "\"IDERP\" = :id WHERE \"R_E_C_N_O_\" = :kye");
  r = w.plain("check");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("did you mean :key?") != std::string::npos);
  CHECK(pg_count(w, "\"IDERP\" IS NOT NULL") == 0);
  CHECK_FALSE(fs::exists(w.state));
}

TEST_CASE("postgres: a write-back the database refuses for some rows is retried, shown in log "
          "show, and leaves the delivery alone") {
  pg_world w("CONTRIB_WBERR");
  w.insert(1, 10);
  add_pg_writeback(w, "UPDATE \"CONTRIB_WBERR\" SET \"IDERP\" = :id WHERE \"R_E_C_N_O_\" = :key");
  w.db.exec("CREATE OR REPLACE FUNCTION wb_refuse_even() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.\"R_E_C_N_O_\" % 2 = 0 THEN RAISE EXCEPTION 'IDERP is locked for even "
            "records'; END IF; RETURN NEW; END $$");
  w.db.exec("CREATE TRIGGER wb_refuse BEFORE UPDATE OF \"IDERP\" ON \"CONTRIB_WBERR\" FOR EACH "
            "ROW EXECUTE FUNCTION wb_refuse_even()");
  auto r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 0);  // delivered: a write-back never fails the run
  CHECK(get_stats(w.target.url()).services[1].creates == 10);
  CHECK(pg_count(w, "\"IDERP\" IS NOT NULL AND \"R_E_C_N_O_\" % 2 = 0") == 0);
  CHECK(pg_count(w, "\"IDERP\" IS NOT NULL AND \"R_E_C_N_O_\" % 2 = 1") == 5);
  auto even = w.plain("log show 1 4");
  INFO(even.out);
  CHECK(even.out.find("write-back failed after 4 tries: IDERP is locked for even records") !=
        std::string::npos);
  auto odd = w.plain("log show 1 3");
  INFO(odd.out);
  CHECK(odd.out.find("write-back: 1 row changed (alone, after 3 failed tries") !=
        std::string::npos);
  auto errors = w.plain("log --service 1 --status error --json");
  CHECK(errors.rc == 0);
  CHECK(errors.out.find("\"status\":\"error\"") == std::string::npos);
}

TEST_CASE("postgres: a replay of a stamp range and a resend by key are delivered by the next run") {
  pg_world w("CONTRIB_REPLAY");
  w.insert(1, 10, "2 minutes");
  w.insert(11, 20, "1 minute");
  // Millisecond stamps: `replay --to` keeps milliseconds only (engine/requests.cpp
  // normalize_stamp), so a microsecond stamp would fall past its own --to.
  w.db.exec("UPDATE \"CONTRIB_REPLAY\" SET \"S_T_A_M_P_\" = date_trunc('milliseconds', "
            "\"S_T_A_M_P_\")");
  REQUIRE(w.stampede("run --once").rc == 0);
  REQUIRE(get_stats(w.target.url()).services[1].creates == 20);
  const std::string newer = w.db.value(
      "SELECT to_char(max(\"S_T_A_M_P_\"), 'YYYY-MM-DD HH24:MI:SS.US') FROM \"CONTRIB_REPLAY\"");

  // Replay the newer stamp: its 10 live rows go out again (updates, same content).
  auto rp = w.plain("replay --service 1 --from \"" + newer + "\" --to \"" + newer + "\"");
  INFO(rp.out);
  REQUIRE(rp.rc == 0);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto st = get_stats(w.target.url()).services[1];
  CHECK(st.creates == 20);
  CHECK(st.updates == 10);

  // Resend two keys (read back by key from PostgreSQL), one of them changed meanwhile
  // without a stamp change (the cycle cannot see it, the resend reads the row as it is).
  w.db.exec("UPDATE \"CONTRIB_REPLAY\" SET \"CT_NOME\" = 'Quietly changed' WHERE \"R_E_C_N_O_\" = 3");
  auto rs = w.plain("resend --service 1 --key 3 --key 5 --by tester");
  INFO(rs.out);
  REQUIRE(rs.rc == 0);
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto got = target_records(w.target.url(), 1);
  CHECK(got["3"].data == R"({"code":"000003","name":"Quietly changed","email":null})");
  // Both keys went out again (key 5 unchanged, as an update all the same).
  CHECK(get_stats(w.target.url()).services[1].updates - st.updates == 2);
}
