// Per-service source options on the PostgreSQL source (issue 7), against a
// real PostgreSQL 15 server: other column names and no soft-delete column,
// a padded char(8) key and a padded varchar key, a composite key read back
// by key, a where with bound parameters and a join query paged as a
// subquery. The SQLite counterparts are in tests/unit/source/source_options_test.cpp.
#include "source/source.hpp"
#include "tests/source_walk.hpp"
#include "tests/pg_test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace stampede;
using stampede::test::check_filter_and_join;
using stampede::test::walk;

namespace {

source_config pg_config() {
  source_config c;
  c.kind = source_kind::postgres;
  c.dsn = pg_test::server().dsn();
  return c;
}

} // namespace

TEST_CASE("postgres: a table without a soft-delete column and with its own column names",
          "[postgres][source_options]") {
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS cust");
  db.exec("CREATE TABLE cust (id bigint, updated_at timestamp, code text, name text)");
  db.exec("CREATE INDEX ON cust (updated_at, id)");
  db.exec("INSERT INTO cust VALUES (1, '2024-01-01 10:00:00', 'c1', 'a'), "
          "(2, '2024-01-01 10:00:01', 'c2', 'b'), (3, '2024-01-01 10:00:01', 'c3', 'c'), "
          "(4, '2024-01-01 10:00:02', 'c4', 'd')");
  auto src = source::open(pg_config());
  page_query q;
  q.table = "cust";
  q.stamp_column = "updated_at";
  q.recno_column = "id";
  q.deleted_column = "";
  q.key_column = "code";
  q.columns = {"name"};
  q.limit = 1;
  CHECK(walk(*src, q) == std::vector<std::string>{"c1|a", "c2|b", "c3|c", "c4|d"});
  CHECK(src->count_rows(q, parse_stamp("2024-01-01 10:00:01")) == 3);
  q.after = src->start_at(q, *parse_stamp("2024-01-01 10:00:01"));
  CHECK(walk(*src, q) == std::vector<std::string>{"c2|b", "c3|c", "c4|d"});
  row_page p;
  CHECK(src->read_by_keys(q, {"c3", "c9"}, p) == std::vector<std::string>{"c9"});
  CHECK(src->sample_stamps(q, 10).rows == 4);
  auto info = src->describe(q);
  REQUIRE(info);
  CHECK(info->has_stamp_index);

  db.exec("DROP TABLE IF EXISTS flagged");
  db.exec("CREATE TABLE flagged (\"R_E_C_N_O_\" int, \"S_T_A_M_P_\" text, del char(3), n text)");
  db.exec("INSERT INTO flagged VALUES (1, '2024-01-01 10:00:00.000', 'Y', 'x'), "
          "(2, '2024-01-01 10:00:00.000', 'N', 'y')");
  page_query f;
  f.table = "flagged";
  f.deleted_column = "del";
  f.deleted_value = "Y";
  f.key_column = "R_E_C_N_O_";
  f.columns = {"n"};
  CHECK(walk(*src, f) == std::vector<std::string>{"1|x|deleted", "2|y"});
}

TEST_CASE("postgres: char(8) and varchar keys lose their padding and are found again by key",
          "[postgres][source_options]") {
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS padded");
  db.exec("CREATE TABLE padded (\"S_T_A_M_P_\" timestamp, \"R_E_C_N_O_\" int, "
          "\"D_E_L_E_T_\" char(1) DEFAULT ' ', \"A1_FILIAL\" varchar(4), \"A1_COD\" char(8), "
          "\"A1_NOME\" text)");
  db.exec("CREATE INDEX ON padded (\"A1_COD\")");
  db.exec("INSERT INTO padded VALUES ('2024-01-01 10:00:00', 1, ' ', '01  ', '000001', 'a'), "
          "('2024-01-01 10:00:00', 2, ' ', '02  ', '000001', 'b'), "
          "('2024-01-01 10:00:01', 3, ' ', '01|x', 'a\\b', 'c')");
  auto src = source::open(pg_config());
  page_query q;
  q.table = "padded";
  q.key_column = "A1_COD";
  q.columns = {"A1_NOME"};
  q.limit = 2;
  CHECK(walk(*src, q) == std::vector<std::string>{"000001|a", "000001|b", "a\\b|c"});
  row_page p;
  CHECK(src->read_by_keys(q, {"000001", "000002"}, p) == std::vector<std::string>{"000002"});
  REQUIRE(p.size() == 1);
  CHECK(p.rows[0].key == "000001");

  q.trim_key = false;  // the padding the server writes for char(8) stays
  CHECK(walk(*src, q).front() == "000001  |a");

  // varchar(4) holding "01  ": trimmed, and found by "01" (padded to 4).
  q.trim_key = true;
  q.key_column = "A1_FILIAL";
  CHECK(walk(*src, q) == std::vector<std::string>{"01|a", "02|b", "01|x|c"});
  CHECK(src->read_by_keys(q, {"02"}, p).empty());
  REQUIRE(p.size() == 1);
  bool null = false;
  CHECK(p.at(0, 0, null) == "b");

  // A composite key.
  q.key_column.clear();
  q.key_columns = {"A1_FILIAL", "A1_COD"};
  CHECK(walk(*src, q) ==
        std::vector<std::string>{"01|000001|a", "02|000001|b", "01\\|x|a\\\\b|c"});
  auto missing = src->read_by_keys(q, {"02|000001", "01\\|x|a\\\\b", "03|000001", "x"}, p);
  CHECK(missing == std::vector<std::string>{"03|000001", "x"});
  REQUIRE(p.size() == 2);
  CHECK(p.rows[0].key == "02|000001");
  CHECK(p.at(0, 0, null) == "b");
  CHECK(p.rows[1].key == "01\\|x|a\\\\b");
}

TEST_CASE("postgres: where with bound parameters and a join query",
          "[postgres][source_options]") {
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS wsa1");
  db.exec("DROP TABLE IF EXISTS wsa2");
  db.exec("CREATE TABLE wsa1 (\"R_E_C_N_O_\" int, \"S_T_A_M_P_\" timestamp, "
          "\"D_E_L_E_T_\" char(1), \"A1_FILIAL\" char(2), \"A1_COD\" text, \"A1_NOME\" text)");
  db.exec("CREATE TABLE wsa2 (\"R_E_C_N_O_\" int, \"S_T_A_M_P_\" timestamp, \"A2_COD\" text, "
          "\"A2_CITY\" text)");
  db.exec("INSERT INTO wsa1 VALUES (1, '2024-01-01 10:00:00', ' ', '01', 'c1', 'a'), "
          "(2, '2024-01-01 10:00:01', ' ', '02', 'c2', 'b'), "
          "(3, '2024-01-01 10:00:02', ' ', '01', 'c3', 'O''Brien'), "
          "(4, '2024-01-01 10:00:03', '*', '01', 'c4', 'd')");
  db.exec("INSERT INTO wsa2 VALUES (1, '2024-01-01 09:00:00', 'c1', 'X'), "
          "(2, '2024-01-01 11:00:00', 'c3', 'Y')");
  auto src = source::open(pg_config());
  page_query q;
  q.table = "wsa1";
  q.key_column = "A1_COD";
  q.columns = {"A1_NOME"};
  q.where = "\"A1_FILIAL\" = :filial";
  q.params = {{"filial", "01"}};
  q.limit = 1;
  page_query j;
  j.query =
      "SELECT a.\"R_E_C_N_O_\", a.\"A1_COD\", a.\"D_E_L_E_T_\", b.\"A2_CITY\", "
      "greatest(a.\"S_T_A_M_P_\", b.\"S_T_A_M_P_\") AS \"S_T_A_M_P_\" FROM wsa1 a JOIN wsa2 b "
      "ON b.\"A2_COD\" = a.\"A1_COD\"";
  j.key_column = "A1_COD";
  j.columns = {"A2_CITY"};
  j.limit = 1;
  check_filter_and_join(*src, q, "\"A1_NOME\" = :name OR \"A1_NOME\" = ':name'", j,
                        "\"A2_CITY\" = :c");
  row_page p;

  // A query without the stamp column: a clear error naming the column.
  page_query bad = j;
  bad.query = "SELECT \"R_E_C_N_O_\", \"A1_COD\" FROM wsa1";
  bad.where.clear();
  bad.params.clear();
  try {
    src->read_page(bad, p);
    FAIL("a query without the stamp column must not be read");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::no_such_column);
    CHECK_THAT(std::string(e.what()), Catch::Contains("the query's result has no column S_T_A_M_P_"));
  }
  auto info = src->describe(bad);  // check lists the result's columns
  REQUIRE(info);
  CHECK(info->columns == std::vector<std::string>{"R_E_C_N_O_", "A1_COD"});
}

TEST_CASE("postgres: the backlog counts the rows after a checkpoint, ties and where included",
          "[postgres][backlog]") {
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS bl");
  db.exec("CREATE TABLE bl (\"R_E_C_N_O_\" bigint, \"S_T_A_M_P_\" timestamp, "
          "\"D_E_L_E_T_\" char(1) DEFAULT ' ', \"KEY\" text, \"BRANCH\" char(2))");
  db.exec("CREATE INDEX ON bl (\"S_T_A_M_P_\", \"R_E_C_N_O_\")");
  db.exec("INSERT INTO bl (\"R_E_C_N_O_\", \"S_T_A_M_P_\", \"KEY\", \"BRANCH\") VALUES "
          "(4, '2024-01-01 10:00:01', 'k4', '01'), (1, '2024-01-01 10:00:00', 'k1', '01'), "
          "(6, '2024-01-01 10:00:03', 'k6', '02'), (3, '2024-01-01 10:00:01', 'k3', '02'), "
          "(2, '2024-01-01 10:00:01', 'k2', '01'), (5, '2024-01-01 10:00:02', 'k5', '01')");
  auto src = source::open(pg_config());
  page_query q;
  q.table = "bl";
  q.key_column = "KEY";
  q.columns = {"BRANCH"};
  stampede::test::check_backlog(*src, q, "\"BRANCH\" = :b",
                                "SELECT * FROM bl WHERE \"BRANCH\" = '02'");

  // NULL recnos sort last at their stamp: after (10:00:01, 4) a NULL-recno
  // row at 10:00:01 is still ahead; a position "done with" the stamp is past it.
  db.exec("INSERT INTO bl (\"R_E_C_N_O_\", \"S_T_A_M_P_\", \"KEY\", \"BRANCH\") VALUES "
          "(NULL, '2024-01-01 10:00:01', 'kn', '01')");
  const keyset_pos after4{"2024-01-01 10:00:01.000000", 4};
  auto b = src->backlog(q, after4, 100);
  CHECK(b.rows == 3);  // kn, k5, k6
  CHECK(b.oldest == parse_stamp("2024-01-01 10:00:01"));
  b = src->backlog(q, keyset_pos{"2024-01-01 10:00:01.000000", null_recno}, 100);
  CHECK(b.rows == 2);
  CHECK(b.oldest == parse_stamp("2024-01-01 10:00:02"));
  page_query from = q;
  from.after = after4;
  CHECK(walk(*src, from).size() == 3);

  // The age's reference is the server's clock: a row stamped an hour ago.
  db.exec("INSERT INTO bl (\"R_E_C_N_O_\", \"S_T_A_M_P_\", \"KEY\", \"BRANCH\") VALUES "
          "(7, (clock_timestamp() AT TIME ZONE 'UTC') - interval '1 hour', 'k7', '01')");
  b = src->backlog(q, keyset_pos{"2024-01-01 10:00:03.000000", 6}, 100);
  CHECK(b.rows == 1);
  REQUIRE(b.oldest);
  const auto age_s = (src->now().unix_us() - b.oldest->unix_us()) / 1e6;
  CHECK(age_s > 3590);
  CHECK(age_s < 3700);
}
