// Per-service source options on the SQLite source (issue 7): other column
// names, no soft-delete column, padded and composite keys, where with bound
// parameters, a join query paged as a subquery. The PostgreSQL counterparts
// are in tests/integration/source/postgres_options_test.cpp.
#include "../config/helpers.hpp"

#include "source/source.hpp"
#include "tests/source_walk.hpp"

#include <string>
#include <vector>

using namespace stampede;
using namespace stampede::test;
using stampede::test::walk;

namespace {

source_config sqlite_at(const std::string& db) {
  source_config c;
  c.path = db;
  return c;
}

} // namespace

TEST_CASE("sqlite: a table without a soft-delete column and with its own column names",
          "[source][source_options]") {
  temp_dir dir;
  const std::string db = dir.file("o.db");
  sql_exec(db,
           "CREATE TABLE CUST (ID INTEGER, UPDATED TEXT, CODE TEXT, NAME TEXT);"
           "CREATE INDEX CUST_UPD ON CUST(UPDATED, ID);"
           "INSERT INTO CUST VALUES (1, '2024-01-01 10:00:00.000', 'c1', 'a'),"
           " (2, '2024-01-01 10:00:01.000', 'c2', 'b'), (3, '2024-01-01 10:00:01.000', 'c3', 'c'),"
           " (4, '2024-01-01 10:00:02.000', 'c4', 'd');"
           "CREATE TABLE FLAGGED (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, DEL TEXT, NAME TEXT);"
           "INSERT INTO FLAGGED VALUES (1, '2024-01-01 10:00:00.000', 'Y', 'x'),"
           " (2, '2024-01-01 10:00:00.000', 'N', 'y'), (3, '2024-01-01 10:00:00.000', 'Y  ', 'z');");
  auto src = source::open(sqlite_at(db));

  page_query q;
  q.table = "CUST";
  q.stamp_column = "UPDATED";
  q.recno_column = "ID";
  q.deleted_column = "";
  q.key_column = "CODE";
  q.columns = {"NAME"};
  q.limit = 1;
  CHECK(walk(*src, q) == std::vector<std::string>{"c1|a", "c2|b", "c3|c", "c4|d"});
  CHECK(src->count_rows(q, parse_stamp("2024-01-01 10:00:01")) == 3);
  q.after = src->start_at(q, *parse_stamp("2024-01-01 10:00:01"));
  CHECK(walk(*src, q) == std::vector<std::string>{"c2|b", "c3|c", "c4|d"});
  row_page p;
  CHECK(src->read_by_keys(q, {"c3", "c9"}, p) == std::vector<std::string>{"c9"});
  REQUIRE(p.size() == 1);
  CHECK(p.rows[0].key == "c3");
  CHECK(src->sample_stamps(q, 10).rows == 4);
  auto info = src->describe(q);
  REQUIRE(info);
  CHECK(info->has_stamp_index);  // the index on the service's own stamp column

  // deleted_value: "Y" (trailing spaces ignored) marks a row deleted.
  page_query f;
  f.table = "FLAGGED";
  f.deleted_column = "DEL";
  f.deleted_value = "Y";
  f.key_column = "R_E_C_N_O_";
  f.columns = {"NAME"};
  CHECK(walk(*src, f) == std::vector<std::string>{"1|x|deleted", "2|y", "3|z|deleted"});
}

TEST_CASE("sqlite: CHAR padding is trimmed from keys and read_by_keys finds the padded row",
          "[source][source_options]") {
  temp_dir dir;
  const std::string db = dir.file("k.db");
  sql_exec(db,
           "CREATE TABLE SA1 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ CHAR(1), "
           "A1_FILIAL CHAR(4), A1_COD CHAR(8), A1_NOME TEXT);"
           "CREATE INDEX SA1_COD ON SA1(A1_COD);"
           "INSERT INTO SA1 VALUES (1, '2024-01-01 10:00:00.000', ' ', '01  ', '000001  ', 'a'),"
           " (2, '2024-01-01 10:00:00.000', ' ', '02  ', '000001  ', 'b'),"
           " (3, '2024-01-01 10:00:00.000', ' ', '01  ', '0000011 ', 'c'),"
           " (4, '2024-01-01 10:00:00.000', ' ', '01|x', 'a\\b', 'd');");
  auto src = source::open(sqlite_at(db));
  page_query q;
  q.table = "SA1";
  q.key_column = "A1_COD";
  q.columns = {"A1_NOME"};
  q.limit = 2;
  CHECK(walk(*src, q) ==
        std::vector<std::string>{"000001|a", "000001|b", "0000011|c", "a\\b|d"});
  row_page p;
  auto missing = src->read_by_keys(q, {"0000011", "000001", "00000"}, p);
  CHECK(missing == std::vector<std::string>{"00000"});
  REQUIRE(p.size() == 2);
  CHECK(p.rows[0].key == "0000011");
  CHECK(p.rows[1].key == "000001");

  // trim_key = false keeps the padding, and only the padded key finds the row.
  q.trim_key = false;
  CHECK(walk(*src, q).front() == "000001  |a");
  CHECK(src->read_by_keys(q, {"000001"}, p) == std::vector<std::string>{"000001"});
  CHECK(src->read_by_keys(q, {"0000011 "}, p).empty());

  // A composite key: values trimmed, joined by '|', '|' and '\' escaped.
  q.trim_key = true;
  q.key_column.clear();
  q.key_columns = {"A1_FILIAL", "A1_COD"};
  CHECK(walk(*src, q) == std::vector<std::string>{"01|000001|a", "02|000001|b",
                                                  "01|0000011|c", "01\\|x|a\\\\b|d"});
  missing = src->read_by_keys(q, {"02|000001", "01\\|x|a\\\\b", "03|000001", "nonsense",
                                  "<NULL A1_FILIAL|A1_COD> R_E_C_N_O_ 9"},
                              p);
  CHECK(missing == std::vector<std::string>{"03|000001", "nonsense",
                                            "<NULL A1_FILIAL|A1_COD> R_E_C_N_O_ 9"});
  REQUIRE(p.size() == 2);
  CHECK(p.rows[0].key == "02|000001");
  bool null = false;
  CHECK(p.at(0, 0, null) == "b");
  CHECK(p.rows[1].key == "01\\|x|a\\\\b");
  CHECK(p.at(1, 0, null) == "d");
}

TEST_CASE("composite keys split back into their values", "[source][source_options]") {
  std::string k;
  append_key_part(k, "01", 0);
  append_key_part(k, "a|b\\c", 1);
  append_key_part(k, "", 2);
  CHECK(k == "01|a\\|b\\\\c|");
  auto parts = split_composite_key(k, 3);
  REQUIRE(parts);
  CHECK(*parts == std::vector<std::string>{"01", "a|b\\c", ""});
  CHECK_FALSE(split_composite_key(k, 2));
  CHECK_FALSE(split_composite_key("01\\", 1));
}

TEST_CASE("sqlite: where with bound parameters and a join query", "[source][source_options]") {
  temp_dir dir;
  const std::string db = dir.file("w.db");
  sql_exec(db,
           "CREATE TABLE SA1 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ CHAR(1), "
           "A1_FILIAL TEXT, A1_COD TEXT, A1_NOME TEXT);"
           "CREATE TABLE SA2 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, A2_COD TEXT, A2_CITY TEXT);"
           "INSERT INTO SA1 VALUES (1, '2024-01-01 10:00:00.000', ' ', '01', 'c1', 'a'),"
           " (2, '2024-01-01 10:00:01.000', ' ', '02', 'c2', 'b'),"
           " (3, '2024-01-01 10:00:02.000', ' ', '01', 'c3', 'O''Brien'),"
           " (4, '2024-01-01 10:00:03.000', '*', '01', 'c4', 'd');"
           "INSERT INTO SA2 VALUES (1, '2024-01-01 09:00:00.000', 'c1', 'X'),"
           " (2, '2024-01-01 11:00:00.000', 'c3', 'Y');");
  auto src = source::open(sqlite_at(db));
  page_query q;
  q.table = "SA1";
  q.key_column = "A1_COD";
  q.columns = {"A1_NOME"};
  q.where = "A1_FILIAL = :filial";
  q.params = {{"filial", "01"}};
  q.limit = 1;
  // A join: the newer of both stamps is the row's stamp; paged as a subquery.
  page_query j;
  j.query =
      "SELECT SA1.R_E_C_N_O_, SA1.A1_COD, SA1.D_E_L_E_T_, SA1.A1_NOME, SA2.A2_CITY, "
      "max(SA1.S_T_A_M_P_, SA2.S_T_A_M_P_) AS S_T_A_M_P_ FROM SA1 JOIN SA2 ON SA2.A2_COD = "
      "SA1.A1_COD WHERE SA1.A1_NOME <> 'zz'";
  j.key_column = "A1_COD";
  j.columns = {"A2_CITY"};
  j.limit = 1;
  check_filter_and_join(*src, q, "A1_NOME = :name OR A1_NOME = ':name'", j, "A2_CITY = :c");
  auto info = src->describe(j);
  REQUIRE(info);
  CHECK(std::find(info->columns.begin(), info->columns.end(), "A2_CITY") != info->columns.end());
  // a query that does not prepare: the database's message
  j.query = "SELECT NOPE FROM SA1";
  try {
    src->describe(j);
    FAIL("a query naming a missing column must not describe");
  } catch (const source_error& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("NOPE"));
  }
}

TEST_CASE("spec_of: the service's own options, else the source's", "[source][source_options]") {
  source_config sc;
  sc.stamp_column = "ST";
  sc.deleted_column = "";
  service_config s;
  s.table = "T";
  s.key_column = "K";
  auto t = spec_of(sc, s);
  CHECK(t.stamp_column == "ST");
  CHECK(t.recno_column == "R_E_C_N_O_");
  CHECK(t.deleted_column.empty());
  CHECK(t.deleted_value == "*");
  CHECK(t.key_column == "K");
  CHECK(t.trim_key);
  s.stamp_column = "MINE";
  s.deleted_column = "DEL";
  s.key_columns = {"A", "B"};
  s.trim_key = false;
  t = spec_of(sc, s);
  CHECK(t.stamp_column == "MINE");
  CHECK(t.deleted_column == "DEL");
  CHECK(t.keys() == std::vector<std::string>{"A", "B"});
  CHECK(t.key_name() == "A|B");
  CHECK_FALSE(t.trim_key);
}

TEST_CASE("sqlite: the backlog counts the rows after a checkpoint, ties and where included",
          "[source][backlog]") {
  temp_dir dir;
  const std::string db = dir.file("b.db");
  sql_exec(db,
           "CREATE TABLE BL (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT DEFAULT ' ',"
           " KEY TEXT, BRANCH TEXT);"
           "CREATE INDEX BL_STAMP ON BL(S_T_A_M_P_, R_E_C_N_O_);"
           "INSERT INTO BL (R_E_C_N_O_, S_T_A_M_P_, KEY, BRANCH) VALUES"
           " (4, '2024-01-01 10:00:01.000', 'k4', '01'), (1, '2024-01-01 10:00:00.000', 'k1', '01'),"
           " (6, '2024-01-01 10:00:03.000', 'k6', '02'), (3, '2024-01-01 10:00:01.000', 'k3', '02'),"
           " (2, '2024-01-01 10:00:01.000', 'k2', '01'), (5, '2024-01-01 10:00:02.000', 'k5', '01');");
  auto src = source::open(sqlite_at(db));
  page_query q;
  q.table = "BL";
  q.key_column = "KEY";
  q.columns = {"BRANCH"};
  stampede::test::check_backlog(*src, q, "BRANCH = :b", "SELECT * FROM BL WHERE BRANCH = '02'");

  // The SQLite clock is the age's reference: a row stamped an hour ago.
  sql_exec(db, "INSERT INTO BL (R_E_C_N_O_, S_T_A_M_P_, KEY, BRANCH) VALUES (7, "
               "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour'), 'k7', '01')");
  const auto b = src->backlog(q, stampede::test::position_after(*src, q, 6), 100);
  CHECK(b.rows == 1);
  REQUIRE(b.oldest);
  const auto age_s = (src->now().unix_us() - b.oldest->unix_us()) / 1e6;
  CHECK(age_s > 3590);
  CHECK(age_s < 3700);
}
