// The PostgreSQL source against a real PostgreSQL 15 server
// (tests/pg_test_server.hpp starts one for this binary): keyset pages, stamp
// column types, row problems, read_by_keys, the open-transaction bound, a
// connection killed mid-page, and connection errors without the password.
#include "pipeline/cycle_bounds.hpp"
#include "source/source.hpp"
#include "tests/pg_test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <tuple>

using namespace stampede;

namespace {

source_config pg_config() {
  source_config c;
  c.kind = source_kind::postgres;
  c.dsn = pg_test::server().dsn();
  return c;
}

page_query query_of(const std::string& table, std::uint32_t limit) {
  page_query q;
  q.table = table;
  q.columns = {"A1_COD", "A1_NOME"};
  q.key_column = "A1_COD";
  q.limit = limit;
  return q;
}

void create_table(pg_test::conn& db, const std::string& table, const std::string& stamp_type) {
  db.exec("DROP TABLE IF EXISTS \"" + table + "\" CASCADE");
  db.exec("CREATE TABLE \"" + table + "\" (\"S_T_A_M_P_\" " + stamp_type +
          ", \"R_E_C_N_O_\" integer, \"D_E_L_E_T_\" char(1) NOT NULL DEFAULT ' ', "
          "\"A1_COD\" varchar(10), \"A1_NOME\" varchar(40))");
  db.exec("CREATE INDEX ON \"" + table + "\" (\"S_T_A_M_P_\", \"R_E_C_N_O_\")");
}

void insert(pg_test::conn& db, const std::string& table, const std::string& stamp_sql, int recno,
            const std::string& key_sql, const std::string& name = "N",
            const std::string& deleted = " ") {
  db.exec("INSERT INTO \"" + table + "\" VALUES (" + stamp_sql + ", " + std::to_string(recno) +
          ", '" + deleted + "', " + key_sql + ", '" + name + "')");
}

struct read_row {
  std::string key, stamp;
  std::int64_t recno;
  std::string name;
};

// Pages through `q` until `last`; every page but the last holds exactly q.limit rows.
std::vector<read_row> read_all(source& src, page_query q, std::size_t* pages = nullptr) {
  std::vector<read_row> out;
  row_page page;
  for (int guard = 0; guard < 1000; ++guard) {
    src.read_page(q, page);
    if (pages) ++*pages;
    if (!page.last) REQUIRE(page.rows.size() == q.limit);
    for (std::size_t i = 0; i < page.rows.size(); ++i) {
      bool null = false;
      std::string name(page.at(i, 1, null));
      out.push_back({page.rows[i].key, page.rows[i].stamp, page.rows[i].recno, name});
    }
    if (page.last) return out;
    q.after = page.next;
  }
  FAIL("paging did not end");
  return out;
}

std::string stamp_literal(const std::string& type, int second) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2024-01-01 10:00:%02d", second);
  if (type == "timestamptz") return std::string("'") + buf + "+00'";
  if (type == "text") return std::string("'") + buf + ".000'";
  return std::string("'") + buf + "'";
}

} // namespace

TEST_CASE("postgres: a table is read in (stamp, recno) order across pages, ties split across "
          "page boundaries, for timestamp, timestamptz and text stamps",
          "[postgres]") {
  pg_test::conn db;
  for (const std::string type : {"timestamp", "timestamptz", "text"}) {
    INFO("stamp column type " << type);
    const std::string table = "ORD_" + type;
    create_table(db, table, type);
    // 30 rows over 10 stamps (3 per stamp), inserted out of order.
    std::vector<std::tuple<int, int>> expected;  // (second, recno)
    for (int i = 30; i >= 1; --i) {
      const int second = (i * 7) % 10;
      insert(db, table, stamp_literal(type, second), i, "'K" + std::to_string(i) + "'");
      expected.emplace_back(second, i);
    }
    std::sort(expected.begin(), expected.end());
    auto src = source::open(pg_config());
    for (std::uint32_t limit : {4u, 5u, 7u, 100u}) {
      INFO("page size " << limit);
      std::size_t pages = 0;
      auto rows = read_all(*src, query_of(table, limit), &pages);
      REQUIRE(rows.size() == expected.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].recno == std::get<1>(expected[i]));
        CHECK(rows[i].key == "K" + std::to_string(std::get<1>(expected[i])));
        auto s = parse_stamp(rows[i].stamp);
        REQUIRE(s);
        CHECK(*s == *parse_stamp("2024-01-01 10:00:0" + std::to_string(std::get<0>(expected[i]))));
      }
      CHECK(pages == 30 / limit + 1);
    }

    // The upper bound: stamp <= 10:00:04.
    auto q = query_of(table, 4);
    q.upper = *parse_stamp("2024-01-01 10:00:04");
    auto rows = read_all(*src, q);
    CHECK(rows.size() == 15);
    for (const auto& r : rows) CHECK(*parse_stamp(r.stamp) <= *q.upper);

    // start_at: every row with stamp >= 10:00:05, none before.
    q = query_of(table, 4);
    q.after = src->start_at(table, *parse_stamp("2024-01-01 10:00:05"));
    rows = read_all(*src, q);
    CHECK(rows.size() == 15);
    for (const auto& r : rows) CHECK(*parse_stamp(r.stamp) >= *parse_stamp("2024-01-01 10:00:05"));
    // A `from` between two stamps: the rows at the earlier stamp are older.
    q.after = src->start_at(table, *parse_stamp("2024-01-01 10:00:04.5"));
    CHECK(read_all(*src, q).size() == 15);

    CHECK(src->count_rows(table, std::nullopt) == 30);
    CHECK(src->count_rows(table, *parse_stamp("2024-01-01 10:00:01")) == 6);
  }
}

TEST_CASE("postgres: ten rows at one stamp are read whole across pages of three", "[postgres]") {
  pg_test::conn db;
  create_table(db, "TIES", "timestamp");
  for (int i = 10; i >= 1; --i) insert(db, "TIES", "'2024-03-01 08:00:00'", i * 10, "'T" + std::to_string(i) + "'");
  insert(db, "TIES", "'2024-03-01 07:59:59.25'", 5, "'EARLY'");
  insert(db, "TIES", "'2024-03-01 08:00:01'", 1, "'LATE'");
  auto src = source::open(pg_config());
  auto rows = read_all(*src, query_of("TIES", 3));
  REQUIRE(rows.size() == 12);
  CHECK(rows.front().key == "EARLY");
  for (int i = 1; i <= 10; ++i) CHECK(rows[std::size_t(i)].recno == i * 10);
  CHECK(rows.back().key == "LATE");
  // A timestamp reads as one layout, with microseconds (PostgreSQL's own
  // text drops trailing zeros: "07:59:59.25", "08:00:01").
  CHECK(rows.front().stamp == "2024-03-01 07:59:59.250000");
  CHECK(rows.back().stamp == "2024-03-01 08:00:01.000000");
  CHECK(src->sample_stamps("TIES", 5).layouts.size() == 1);

  // The record number as the key (the default): the ORDER BY stays on the
  // table's columns, not the select list's text copies.
  auto q = query_of("TIES", 3);
  q.key_column = "R_E_C_N_O_";
  rows = read_all(*src, q);
  REQUIRE(rows.size() == 12);
  CHECK(rows[1].key == "10");
  CHECK(rows[10].key == "100");
  CHECK(rows[11].key == "1");
}

TEST_CASE("postgres: NULL record numbers come last in their stamp and are never split or "
          "repeated across pages",
          "[postgres]") {
  pg_test::conn db;
  create_table(db, "NULLREC", "timestamp");
  insert(db, "NULLREC", "'2024-05-01 00:00:00'", 1, "'FIRST'");
  for (int i = 5; i >= 1; --i)
    insert(db, "NULLREC", "'2024-05-01 00:00:01'", i, "'R" + std::to_string(i) + "'");
  for (int i = 1; i <= 3; ++i)
    db.exec("INSERT INTO \"NULLREC\" VALUES ('2024-05-01 00:00:01', NULL, ' ', 'N" +
            std::to_string(i) + "', 'n')");
  insert(db, "NULLREC", "'2024-05-01 00:00:02'", 9, "'AFTER'");
  auto src = source::open(pg_config());
  for (std::uint32_t limit : {1u, 2u, 3u, 4u, 6u, 7u, 20u}) {
    INFO("page size " << limit);
    std::vector<std::string> keys;
    auto q = query_of("NULLREC", limit);
    row_page page;
    for (int guard = 0; guard < 100; ++guard) {
      src->read_page(q, page);
      for (const auto& r : page.rows) keys.push_back(r.key);
      if (page.last) break;
      q.after = page.next;
    }
    REQUIRE(keys.size() == 10);
    CHECK(keys[0] == "FIRST");
    for (int i = 1; i <= 5; ++i) CHECK(keys[std::size_t(i)] == "R" + std::to_string(i));
    std::vector<std::string> nulls(keys.begin() + 6, keys.begin() + 9);
    std::sort(nulls.begin(), nulls.end());
    CHECK(nulls == std::vector<std::string>{"N1", "N2", "N3"});
    CHECK(keys[9] == "AFTER");
  }
}

TEST_CASE("postgres: soft deletes, NULL and empty keys", "[postgres]") {
  pg_test::conn db;
  create_table(db, "ROWPROB", "timestamp");
  insert(db, "ROWPROB", "'2024-01-02 00:00:01'", 1, "'DEL1'", "gone", "*");
  insert(db, "ROWPROB", "'2024-01-02 00:00:02'", 2, "NULL");
  insert(db, "ROWPROB", "'2024-01-02 00:00:03'", 3, "''");
  insert(db, "ROWPROB", "'2024-01-02 00:00:04'", 4, "'OK4'");
  auto src = source::open(pg_config());
  row_page page;
  src->read_page(query_of("ROWPROB", 10), page);
  REQUIRE(page.rows.size() == 4);
  CHECK(page.rows[0].deleted);
  CHECK(page.rows[0].problem.empty());
  CHECK_FALSE(page.rows[3].deleted);
  CHECK(page.rows[1].key_null);
  CHECK_THAT(page.rows[1].problem, Catch::Contains("A1_COD is NULL"));
  CHECK_THAT(page.rows[1].key, Catch::Contains("R_E_C_N_O_ 2"));
  CHECK_THAT(page.rows[2].problem, Catch::Contains("A1_COD is empty"));
  CHECK_THAT(page.rows[2].key, Catch::Contains("R_E_C_N_O_ 3"));
  CHECK(page.rows[3].problem.empty());
  CHECK(page.rows[3].key == "OK4");
  // The checkpoint candidate is the last row without a problem.
  CHECK(page.end.recno == 4);
  CHECK(page.last);
}

TEST_CASE("postgres: read_by_keys returns the rows in key order and the missing keys",
          "[postgres]") {
  pg_test::conn db;
  create_table(db, "BYKEY", "timestamp");
  for (int i = 1; i <= 5; ++i)
    insert(db, "BYKEY", "'2024-01-03 00:00:0" + std::to_string(i) + "'", i,
           "'K" + std::to_string(i) + "'", "name" + std::to_string(i));
  auto src = source::open(pg_config());
  row_page page;
  auto missing = src->read_by_keys(query_of("BYKEY", 10), {"K4", "NOPE", "K2"}, page);
  CHECK(missing == std::vector<std::string>{"NOPE"});
  REQUIRE(page.rows.size() == 2);
  CHECK(page.rows[0].key == "K4");
  CHECK(page.rows[1].key == "K2");
  bool null = false;
  CHECK(page.at(0, 1, null) == "name4");
  CHECK(page.at(1, 1, null) == "name2");
  CHECK(page.last);
  CHECK(page.end.stamp.empty());

  // An integer key column: a key that is no integer of its range (a label
  // key of a row without a key, a typo) is missing, not a failed statement.
  auto q = query_of("BYKEY", 10);
  q.key_column = "R_E_C_N_O_";
  missing = src->read_by_keys(q, {"<NULL A1_COD> R_E_C_N_O_ 9", "3", "99999999999", " 5 "}, page);
  CHECK(missing == std::vector<std::string>{"<NULL A1_COD> R_E_C_N_O_ 9", "99999999999"});
  REQUIRE(page.rows.size() == 2);
  CHECK(page.rows[0].key == "3");
  CHECK(page.rows[1].key == "5");
}

TEST_CASE("postgres: a table in another schema is read through the DSN's search_path",
          "[postgres]") {
  pg_test::conn db;
  db.exec("CREATE SCHEMA IF NOT EXISTS protheus");
  db.exec("DROP TABLE IF EXISTS protheus.\"SCHEMAT\"");
  db.exec("CREATE TABLE protheus.\"SCHEMAT\" (\"S_T_A_M_P_\" timestamp, \"R_E_C_N_O_\" integer, "
          "\"D_E_L_E_T_\" char(1) DEFAULT ' ', \"A1_COD\" text, \"A1_NOME\" text)");
  db.exec("INSERT INTO protheus.\"SCHEMAT\" VALUES ('2024-01-01', 1, ' ', 'S1', 'n')");
  source_config c = pg_config();
  CHECK_FALSE(source::open(c)->describe("SCHEMAT"));
  c.dsn += " options='-c search_path=protheus'";
  auto src = source::open(c);
  CHECK(src->describe("SCHEMAT"));
  row_page page;
  src->read_page(query_of("SCHEMAT", 10), page);
  REQUIRE(page.rows.size() == 1);
  CHECK(page.rows[0].key == "S1");
}

TEST_CASE("postgres: cells read as text, a timestamptz cell as its UTC time without a zone",
          "[postgres]") {
  pg_test::conn db;
  db.exec("DROP TABLE IF EXISTS \"TYPES\"");
  db.exec("CREATE TABLE \"TYPES\" (\"S_T_A_M_P_\" timestamp, \"R_E_C_N_O_\" integer, "
          "\"D_E_L_E_T_\" char(1) DEFAULT ' ', \"A1_COD\" char(6), \"A1_WHEN\" timestamptz, "
          "\"A1_DAY\" date, \"A1_VAL\" numeric(12,2), \"A1_OK\" boolean, \"A1_F\" double precision)");
  db.exec("INSERT INTO \"TYPES\" VALUES ('2024-01-01', 1, ' ', '42', "
          "'2024-03-01 10:00:00-03', '2024-02-29', 1234.5, true, 0.1)");
  db.exec("INSERT INTO \"TYPES\" VALUES ('2024-01-02', 2, ' ', '43', NULL, NULL, NULL, NULL, NULL)");
  auto src = source::open(pg_config());
  page_query q;
  q.table = "TYPES";
  q.key_column = "A1_COD";
  q.columns = {"A1_WHEN", "A1_DAY", "A1_VAL", "A1_OK", "A1_F", "A1_COD"};
  row_page page;
  src->read_page(q, page);
  REQUIRE(page.rows.size() == 2);
  CHECK(page.rows[0].key == "42");  // CHAR padding: text drops it
  bool null = false;
  CHECK(page.at(0, 0, null) == "2024-03-01 13:00:00");
  CHECK(page.at(0, 1, null) == "2024-02-29");
  CHECK(page.at(0, 2, null) == "1234.50");
  CHECK(page.at(0, 3, null) == "true");
  CHECK(page.at(0, 4, null) == "0.1");
  for (std::size_t c = 0; c < 5; ++c) {
    page.at(1, c, null);
    CHECK(null);
  }
}

TEST_CASE("postgres: a missing table or column is a source error that names it", "[postgres]") {
  pg_test::conn db;
  create_table(db, "HASCOLS", "timestamp");
  auto src = source::open(pg_config());
  row_page page;
  try {
    src->read_page(query_of("NO_SUCH_TABLE", 10), page);
    FAIL("read a missing table");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::no_such_table);
    CHECK_THAT(std::string(e.what()), Catch::Contains("NO_SUCH_TABLE"));
  }
  auto q = query_of("HASCOLS", 10);
  q.columns.push_back("A1_NOPE");
  try {
    src->read_page(q, page);
    FAIL("read a missing column");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::no_such_column);
    CHECK_THAT(std::string(e.what()), Catch::Contains("A1_NOPE"));
  }
  CHECK_FALSE(src->describe("NO_SUCH_TABLE"));
  auto info = src->describe("HASCOLS");
  REQUIRE(info);
  CHECK(info->columns.size() == 5);
  CHECK(info->has_stamp_index);
  // Still usable after the errors.
  src->read_page(query_of("HASCOLS", 10), page);
  CHECK(page.rows.empty());
}

TEST_CASE("postgres: the upper bound stays below an open transaction's start, and its row is "
          "read after the commit",
          "[postgres]") {
  pg_test::conn db;
  create_table(db, "OPENTX", "timestamp");
  insert(db, "OPENTX", "'2024-01-01 00:00:00'", 1, "'OLD'");
  auto src = source::open(pg_config());
  CHECK_FALSE(src->oldest_open_transaction());

  // A second connection opens a transaction and inserts a row stamped with
  // its start (as DBAccess stamps a row), and holds it.
  pg_test::conn held;
  held.exec("BEGIN");
  insert(held, "OPENTX", "now() AT TIME ZONE 'UTC'", 2, "'HELD'");
  const stamp held_stamp =
      *parse_stamp(held.value("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Meanwhile another row commits with a later stamp.
  insert(db, "OPENTX", "clock_timestamp() AT TIME ZONE 'UTC'", 3, "'LATER'");

  auto oldest = src->oldest_open_transaction();
  REQUIRE(oldest);
  CHECK(*oldest <= held_stamp);
  bounds_input in;
  in.source_now = src->now();
  in.oldest_open = oldest;
  const cycle_bounds b = plan_bounds(in);
  CHECK(b.upper < held_stamp);

  auto q = query_of("OPENTX", 10);
  q.upper = b.upper;
  row_page page;
  src->read_page(q, page);
  REQUIRE(page.rows.size() == 1);
  CHECK(page.rows[0].key == "OLD");
  const keyset_pos checkpoint = page.end;

  // Without the bound the checkpoint would pass the held row's stamp.
  q.upper = in.source_now;
  src->read_page(q, page);
  REQUIRE(page.rows.size() == 2);
  CHECK(page.rows[1].key == "LATER");
  CHECK(*parse_stamp(page.end.stamp) > held_stamp);

  held.exec("COMMIT");
  CHECK_FALSE(src->oldest_open_transaction());
  q.after = checkpoint;
  q.upper = src->now();
  src->read_page(q, page);
  REQUIRE(page.rows.size() == 2);
  CHECK(page.rows[0].key == "HELD");
  CHECK(page.rows[1].key == "LATER");
}

TEST_CASE("postgres: a connection killed in the middle of a page is reopened and the page read "
          "whole",
          "[postgres]") {
  pg_test::conn db;
  create_table(db, "KILLT", "timestamp");
  for (int i = 1; i <= 20; ++i)
    insert(db, "KILLT", "'2024-01-04 00:00:00'::timestamp + interval '" + std::to_string(i) +
                            " seconds'",
           i, "'K" + std::to_string(i) + "'", i == 6 ? "SLOW" : "n" + std::to_string(i));
  // Reading the row named SLOW sleeps until the killer terminates the
  // page's backend: the SELECT is in flight when its connection dies.
  pg_test::create_slow_view(db, "KILLT", "KILLV",
                            {"S_T_A_M_P_", "R_E_C_N_O_", "D_E_L_E_T_", "A1_COD", "A1_NOME"},
                            "A1_NOME");
  auto src = source::open(pg_config());
  pg_test::backend_killer killer;
  std::vector<read_row> rows = read_all(*src, query_of("KILLV", 10));
  killer.join();
  CHECK(killer.error().empty());
  CHECK(killer.killed());
  REQUIRE(rows.size() == 20);
  for (int i = 1; i <= 20; ++i) {
    CHECK(rows[std::size_t(i - 1)].recno == i);
    CHECK(rows[std::size_t(i - 1)].name == (i == 6 ? "SLOW" : "n" + std::to_string(i)));
  }
}

TEST_CASE("postgres: a wrong password or an unreadable DSN is a source error without the "
          "password",
          "[postgres]") {
  auto& srv = pg_test::server();
  source_config c = pg_config();
  c.dsn = srv.dsn_no_password() + " password=wrong-Secret-4711";
  try {
    source::open(c);
    FAIL("opened with a wrong password");
  } catch (const source_error& e) {
    const std::string what = e.what();
    CHECK(e.code == source_errc::open_failed);
    CHECK_THAT(what, Catch::Contains("password authentication failed"));
    CHECK_THAT(what, Catch::Contains("port=" + std::to_string(srv.port())));
    CHECK_THAT(what, !Catch::Contains("wrong-Secret-4711"));
  }
  // Not key=value pairs: libpq's parse error would quote the tokens.
  c.dsn = srv.dsn_no_password() + " password = Other-Secret-815 trailing";
  try {
    source::open(c);
    FAIL("opened an unreadable DSN");
  } catch (const source_error& e) {
    const std::string what = e.what();
    CHECK(e.code == source_errc::open_failed);
    CHECK_THAT(what, !Catch::Contains("Other-Secret-815"));
  }
  c.dsn = "postgresql://stampede:Uri-Secret-99@127.0.0.1:1/erp";
  try {
    source::open(c);
    FAIL("connected to port 1");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::open_failed);
    CHECK_THAT(std::string(e.what()), Catch::Contains("127.0.0.1"));
    CHECK_THAT(std::string(e.what()), !Catch::Contains("Uri-Secret-99"));
  }
}
