// End to end: per-service source options (issue 7) through the real binaries
// and the reference target, on SQLite and on PostgreSQL: a table with its
// own column names and no soft-delete column, a branch filter (`where` with
// `params`), a composite key of padded CHAR columns (delivered trimmed,
// resent by key, written back by its columns), a join `query` that picks up
// a change in either table; and the bad input `stampede check` and `run`
// refuse with exit 2 before writing anything.
#include "e2e_support.hpp"
#include "tests/pg_test_server.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>

using namespace e2e;

namespace {

// The services of both worlds; `q` quotes a name (PostgreSQL keeps upper case only quoted).
std::string services(const std::string& q, const std::string& newest) {
  auto n = [&](const std::string& name) { return q + name + q; };
  return "[[services]]\nid = 1\nname = \"customers\"\ntable = \"CUST\"\ntarget = \"portal\"\n"
         "stamp_column = \"UPDATED\"\nrecno_column = \"ID\"\ndeleted_column = \"\"\n"
         "key_column = \"CODE\"\n\n[[services.fields]]\nname = \"name\"\ncolumn = \"NAME\"\n\n"
         "[[services]]\nid = 2\nname = \"branch01\"\ntable = \"SA1\"\ntarget = \"portal\"\n"
         "key_columns = [\"A1_FILIAL\", \"A1_COD\"]\n"
         "where = \"" + n("A1_FILIAL") + " = :filial\"\nparams = { filial = \"01\" }\n\n"
         "[services.writeback]\nsql = \"UPDATE " + n("SA1") + " SET " + n("A1_IDERP") +
         " = :id WHERE " + n("A1_FILIAL") + " = :A1_FILIAL AND rtrim(" + n("A1_COD") +
         ") = :A1_COD\"\n\n[[services.fields]]\nname = \"name\"\ncolumn = \"A1_NOME\"\n\n"
         "[[services]]\nid = 3\nname = \"joined\"\ntarget = \"portal\"\nkey_column = \"A1_COD\"\n"
         "query = \"SELECT a." + n("R_E_C_N_O_") + ", a." + n("D_E_L_E_T_") + ", a." +
         n("A1_COD") + ", a." + n("A1_NOME") + ", b." + n("A2_CITY") + ", " + newest + "(a." +
         n("S_T_A_M_P_") + ", b." + n("S_T_A_M_P_") + ") AS " + n("S_T_A_M_P_") + " FROM " +
         n("SA1") + " a JOIN " + n("SA2") + " b ON b." + n("A2_COD") + " = a." + n("A1_COD") +
         " WHERE a." + n("A1_FILIAL") + " = '01'\"\n\n"
         "[[services.fields]]\nname = \"name\"\ncolumn = \"A1_NOME\"\n\n"
         "[[services.fields]]\nname = \"city\"\ncolumn = \"A2_CITY\"\n";
}

std::string common(const fs::path& state, const std::string& url) {
  return "page_size = 2\nlookback = \"10m\"\nsafety_delay = \"1s\"\n\n[state]\ndir = \"" +
         state.string() + "\"\n\n[targets.portal]\nbase_url = \"" + url +
         "\"\nprotocol = \"sync_batch\"\n\n";
}

struct options_world {
  temp_dir tmp;
  fs::path db = tmp.path / "erp.db", state = tmp.path / "state", cfg = tmp.path / "o.toml";
  target_process target{tmp.path};
  std::function<void(const std::string&)> exec;            // the source database's SQL
  std::function<std::string(const std::string&)> value;   // one value of a SELECT, as text

  cmd_result stampede(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string() +
               " --progress never");
  }
  cmd_result plain(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string());
  }
};

// The same scenario on either database: `ago(s)` is an SQL expression for the
// time `s` seconds ago in the stamp columns' type.
void scenario(options_world& w, const std::function<std::string(int)>& ago,
              const std::function<std::string(const std::string&)>& q) {
  auto chk = w.plain("check");
  INFO(chk.out);
  REQUIRE(chk.rc == 0);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);

  // 1: own column names, no soft-delete column.
  auto cust = target_records(w.target.url(), 1);
  REQUIRE(cust.size() == 3);
  CHECK(cust["c2"].data == R"({"name":"Bea"})");
  // 2: only branch 01, keys trimmed and joined.
  auto sa1 = target_records(w.target.url(), 2);
  REQUIRE(sa1.size() == 2);
  REQUIRE(sa1.count("01|000001") == 1);
  REQUIRE(sa1.count("01|000002") == 1);
  CHECK(sa1["01|000002"].data == R"({"name":"Two"})");
  // ...and the write-back found each row by its key columns.
  CHECK(w.value("SELECT " + q("A1_IDERP") + " FROM " + q("SA1") + " WHERE " +
                         q("R_E_C_N_O_") + " = 2") == sa1["01|000002"].id);
  CHECK(w.value("SELECT count(*) FROM " + q("SA1") + " WHERE " + q("A1_IDERP") +
                         " IS NOT NULL") == "2");
  // 3: the join.
  auto joined = target_records(w.target.url(), 3);
  REQUIRE(joined.size() == 2);
  CHECK(joined["000001"].data == R"({"name":"One","city":"Recife"})");

  // Changes: a customer; the city of 000002 (only SA2's stamp moves); a row
  // of branch 02 (not exported).
  w.exec("UPDATE " + q("CUST") + " SET " + q("NAME") + " = 'Bea 2', " + q("UPDATED") + " = " +
         ago(3) + " WHERE " + q("CODE") + " = 'c2'");
  w.exec("UPDATE " + q("SA2") + " SET " + q("A2_CITY") + " = 'Natal', " + q("S_T_A_M_P_") +
         " = " + ago(3) + " WHERE rtrim(" + q("A2_COD") + ") = '000002'");
  w.exec("UPDATE " + q("SA1") + " SET " + q("A1_NOME") + " = 'Other', " + q("S_T_A_M_P_") +
         " = " + ago(3) + " WHERE " + q("A1_FILIAL") + " = '02'");
  auto before = get_stats(w.target.url());
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto after = get_stats(w.target.url());
  CHECK(after.services[1].updates - before.services[1].updates == 1);
  CHECK(target_records(w.target.url(), 1)["c2"].data == R"({"name":"Bea 2"})");
  CHECK(after.services[2].records == before.services[2].records);  // branch 02 stays out
  CHECK(after.services[3].updates - before.services[3].updates == 1);
  CHECK(target_records(w.target.url(), 3)["000002"].data == R"({"name":"Two","city":"Natal"})");

  // A resend of a composite key reads the row back by its two columns.
  w.exec("UPDATE " + q("SA1") + " SET " + q("A1_NOME") + " = 'Quiet' WHERE " +
         q("R_E_C_N_O_") + " = 1");
  auto rs = w.plain("resend --service 2 --key '01|000001' --by tester");
  INFO(rs.out);
  REQUIRE(rs.rc == 0);
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  CHECK(target_records(w.target.url(), 2)["01|000001"].data == R"({"name":"Quiet"})");
  CHECK(get_stats(w.target.url()).services[2].updates - after.services[2].updates == 1);
  auto log = w.plain("log --service 2 --key '01|000001'");
  INFO(log.out);
  CHECK(log.rc == 0);
  CHECK(log.out.find("A1_FILIAL|A1_COD=01|000001") != std::string::npos);

  // A change in the join's first table (SA1's stamp) reaches both services reading it.
  const auto mid = get_stats(w.target.url());
  w.exec("UPDATE " + q("SA1") + " SET " + q("A1_NOME") + " = 'Two 2', " + q("S_T_A_M_P_") +
         " = " + ago(3) + " WHERE " + q("R_E_C_N_O_") + " = 2");
  r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto last = get_stats(w.target.url());
  CHECK(last.services[2].updates - mid.services.at(2).updates == 1);
  CHECK(last.services[3].updates - mid.services.at(3).updates == 1);
  CHECK(target_records(w.target.url(), 3)["000002"].data == R"({"name":"Two 2","city":"Natal"})");
}

// Bad input: check and run exit 2 with the file, line and what is wrong, and write nothing.
void refused(options_world& w, const std::string& config, const std::string& expect) {
  std::ofstream(w.cfg) << config;
  for (const std::string cmd : {"check", "run --once"}) {
    auto r = cmd == "check" ? w.plain(cmd) : w.stampede(cmd);
    INFO(cmd << ": " << r.out);
    CHECK(r.rc == 2);
    CHECK(r.out.find(expect) != std::string::npos);
    CHECK(r.out.find(w.cfg.string() + ":") != std::string::npos);  // file:line:column
  }
  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target.url()).records == 0);
}

} // namespace

TEST_CASE("source options on SQLite: own column names without soft deletes, a branch filter, a "
          "padded composite key resent and written back, a join query") {
  options_world w;
  sql_exec(w.db,
           "CREATE TABLE CUST (ID INTEGER, UPDATED TEXT, CODE TEXT, NAME TEXT);"
           "CREATE INDEX CUST_UPD ON CUST (UPDATED, ID);"
           "CREATE TABLE SA1 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ CHAR(1) DEFAULT ' ', "
           "A1_FILIAL CHAR(2), A1_COD CHAR(8), A1_NOME TEXT, A1_IDERP TEXT);"
           "CREATE INDEX SA1_STAMP ON SA1 (S_T_A_M_P_, R_E_C_N_O_);"
           "CREATE TABLE SA2 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, A2_COD CHAR(8), A2_CITY TEXT);");
  const std::string old = "strftime('%Y-%m-%d %H:%M:%f', 'now', '-60 seconds')";
  sql_exec(w.db, "INSERT INTO CUST VALUES (1, " + old + ", 'c1', 'Ana'), (2, " + old +
                     ", 'c2', 'Bea'), (3, " + old + ", 'c3', 'Caio');"
                     "INSERT INTO SA1 VALUES (1, " + old + ", ' ', '01', '000001  ', 'One', NULL),"
                     " (2, " + old + ", ' ', '01', '000002  ', 'Two', NULL),"
                     " (3, " + old + ", ' ', '02', '000001  ', 'Elsewhere', NULL);"
                     "INSERT INTO SA2 VALUES (1, " + old + ", '000001  ', 'Recife'), (2, " + old +
                     ", '000002  ', 'Olinda');");
  std::ofstream(w.cfg) << "[source]\npath = \"" << w.db.string() << "\"\n"
                       << common(w.state, w.target.url()) << services("", "max");
  w.exec = [&](const std::string& sql) { sql_exec(w.db, sql); };
  w.value = [&](const std::string& sql) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(w.db.c_str(), &h) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const auto* t = sqlite3_column_text(st, 0);
    std::string v = t ? reinterpret_cast<const char*>(t) : "";
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
  };
  scenario(
      w, [](int s) { return "strftime('%Y-%m-%d %H:%M:%f', 'now', '-" + std::to_string(s) + " seconds')"; },
      [](const std::string& n) { return n; });
}

TEST_CASE("source options on PostgreSQL: own column names without soft deletes, a branch "
          "filter, a char(8) composite key resent and written back, a join query") {
  options_world w;
  pg_test::conn db;
  for (const char* t : {"CUST", "SA1", "SA2"}) db.exec("DROP TABLE IF EXISTS \"" + std::string(t) + "\"");
  db.exec("CREATE TABLE \"CUST\" (\"ID\" bigint, \"UPDATED\" timestamp, \"CODE\" text, "
          "\"NAME\" text)");
  db.exec("CREATE INDEX ON \"CUST\" (\"UPDATED\", \"ID\")");
  db.exec("CREATE TABLE \"SA1\" (\"R_E_C_N_O_\" int, \"S_T_A_M_P_\" timestamp, \"D_E_L_E_T_\" "
          "char(1) DEFAULT ' ', \"A1_FILIAL\" char(2), \"A1_COD\" char(8), \"A1_NOME\" text, "
          "\"A1_IDERP\" text)");
  db.exec("CREATE INDEX ON \"SA1\" (\"S_T_A_M_P_\", \"R_E_C_N_O_\")");
  db.exec("CREATE TABLE \"SA2\" (\"R_E_C_N_O_\" int, \"S_T_A_M_P_\" timestamp, \"A2_COD\" char(8), "
          "\"A2_CITY\" text)");
  const std::string old = "(now() AT TIME ZONE 'UTC') - interval '60 seconds'";
  db.exec("INSERT INTO \"CUST\" VALUES (1, " + old + ", 'c1', 'Ana'), (2, " + old +
          ", 'c2', 'Bea'), (3, " + old + ", 'c3', 'Caio')");
  db.exec("INSERT INTO \"SA1\" VALUES (1, " + old + ", ' ', '01', '000001', 'One', NULL), (2, " +
          old + ", ' ', '01', '000002', 'Two', NULL), (3, " + old +
          ", ' ', '02', '000001', 'Elsewhere', NULL)");
  db.exec("INSERT INTO \"SA2\" VALUES (1, " + old + ", '000001', 'Recife'), (2, " + old +
          ", '000002', 'Olinda')");
  ::setenv("PG_PASSWORD", pg_test::password, 1);
  std::ofstream(w.cfg) << "[source]\nkind = \"postgres\"\ndsn = \""
                       << pg_test::server().dsn_no_password() << " password=${PG_PASSWORD}\"\n"
                       << common(w.state, w.target.url()) << services("\\\"", "greatest");
  w.exec = [&](const std::string& sql) { db.exec(sql); };
  w.value = [&](const std::string& sql) { return db.value(sql); };
  scenario(
      w,
      [](int s) {
        return "(clock_timestamp() AT TIME ZONE 'UTC') - interval '" + std::to_string(s) +
               " seconds'";
      },
      [](const std::string& n) { return "\"" + n + "\""; });
}

TEST_CASE("source options: a where with an unknown parameter and a query without the stamp "
          "column exit 2 from check and run, and nothing is written") {
  options_world w;
  sql_exec(w.db, "CREATE TABLE SA1 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT, "
                 "A1_FILIAL TEXT, A1_COD TEXT, A1_NOME TEXT);"
                 "INSERT INTO SA1 VALUES (1, '2024-01-01 10:00:00.000', ' ', '01', 'x', 'n');");
  const std::string head = "[source]\npath = \"" + w.db.string() + "\"\n" +
                           common(w.state, w.target.url()) +
                           "[[services]]\nid = 1\nname = \"s\"\ntarget = \"portal\"\n";
  const std::string fields = "\n[[services.fields]]\nname = \"name\"\ncolumn = \"A1_NOME\"\n";
  refused(w,
          head + "table = \"SA1\"\nwhere = \"A1_FILIAL = :filial\"\n"
                 "params = { branch = \"01\" }\n" + fields,
          "services[0].where: parameter :filial has no value in `params`");
  refused(w,
          head + "query = \"SELECT R_E_C_N_O_, D_E_L_E_T_, A1_COD, A1_NOME FROM SA1\"\n" + fields,
          "column `S_T_A_M_P_` does not exist in the query's result");
  refused(w, head + "query = \"SELECT * FROM SA1 JOIN NOPE\"\n" + fields,
          "services[0].query: service 1 (s): the query does not run");
}
