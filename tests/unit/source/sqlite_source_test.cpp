// The SQLite source: keyset pagination, cell rendering, plans, stamp arithmetic.
#include "../config/helpers.hpp"

#include "source/source.hpp"
#include "source/sqlite/sqlite_source.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <tuple>

using namespace stampede;
using namespace stampede::test;
using namespace std::chrono_literals;

namespace {

struct expected_row {
  std::string stamp;
  std::int64_t recno;
};

// T1: 200 rows; 90 share one stamp (inserted in scrambled recno order), the
// rest spread over a few stamps, and 10 rows newer than the upper bound.
struct fixture {
  temp_dir dir;
  std::string db = dir.file("src.db");
  std::vector<expected_row> rows;  // <= upper, in (stamp, recno) order
  const std::string upper = "2024-03-01 00:00:00.000";

  fixture() {
    std::string sql =
        "CREATE TABLE T1 (R_E_C_N_O_ INTEGER NOT NULL, S_T_A_M_P_ TEXT, D_E_L_E_T_ CHAR(1) "
        "DEFAULT ' ', NAME TEXT, AMOUNT REAL, QTY INTEGER);"
        "CREATE INDEX T1_STAMP ON T1(S_T_A_M_P_, R_E_C_N_O_);"
        "CREATE TABLE NOIDX (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT, X TEXT);"
        "BEGIN;";
    auto stamp_for = [](int i) -> std::string {
      if (i % 2 == 0 && i < 180) return "2024-01-15 10:00:00.000";  // 90 ties
      if (i >= 190) return "2024-03-01 00:00:00.001";               // beyond upper
      if (i == 189) return "2024-03-01 00:00:00.000";               // exactly upper
      return "2024-0" + std::to_string(1 + i % 2) + "-0" + std::to_string(1 + i % 9) +
             " 08:00:00.000";
    };
    for (int k = 0; k < 200; ++k) {
      int i = (k * 37) % 200;  // scrambled insertion order
      std::int64_t recno = 1000 + i;
      std::string st = stamp_for(i);
      sql += "INSERT INTO T1 VALUES (" + std::to_string(recno) + ", '" + st + "', '" +
             (i % 10 == 3 ? "*" : " ") + "', 'name " + std::to_string(i) + "  ', " +
             std::to_string(i) + ".5, " + std::to_string(i) + ");";
      if (st <= upper) rows.push_back({st, recno});
    }
    sql += "COMMIT;";
    sql_exec(db, sql);
    std::sort(rows.begin(), rows.end(), [](const expected_row& a, const expected_row& b) {
      return std::tie(a.stamp, a.recno) < std::tie(b.stamp, b.recno);
    });
  }

  source_config cfg() const {
    source_config c;
    c.path = db;
    return c;
  }
};

// "" = no bound.
std::optional<stamp> bound(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto v = parse_stamp(text);
  REQUIRE(v);
  return v;
}

page_query query(std::uint32_t limit, const std::string& upper) {
  page_query q;
  q.table = "T1";
  q.columns = {"NAME", "AMOUNT", "QTY"};
  q.key_column = "R_E_C_N_O_";
  q.upper = bound(upper);
  q.limit = limit;
  return q;
}

std::string cell(const row_page& p, std::size_t r, std::size_t c) {
  bool null = false;
  auto v = p.at(r, c, null);
  return null ? "<null>" : std::string(v);
}

} // namespace

TEST_CASE("keyset pagination never loses or repeats rows across ties", "[source]") {
  fixture f;
  REQUIRE(f.rows.size() == 190);
  auto src = source::open(f.cfg());
  for (std::uint32_t limit : {1u, 2u, 3u, 7u, 1000u}) {
    INFO("page size " << limit);
    page_query q = query(limit, f.upper);
    std::vector<expected_row> got;
    row_page page;
    page.service = 9;
    page.seq = 4;
    std::size_t pages = 0;
    for (;;) {
      src->read_page(q, page);
      ++pages;
      REQUIRE(page.size() <= limit);
      REQUIRE(page.cells.size() == page.size() * 3);
      REQUIRE(page.columns);
      CHECK(*page.columns == q.columns);
      CHECK(page.service == 9);  // caller's fields are kept
      CHECK(page.seq == 4);
      for (const auto& r : page.rows) {
        got.push_back({r.stamp, r.recno});
        CHECK(r.key == std::to_string(r.recno));
        CHECK_FALSE(r.prior.has_value());
      }
      if (page.size() > 0) {
        CHECK(page.end.stamp == page.rows.back().stamp);
        CHECK(page.end.recno == page.rows.back().recno);
      } else {
        CHECK(page.end == q.after);
      }
      CHECK(page.next == page.end);  // every row is valid here
      CHECK(page.last == (page.size() < limit));
      if (page.last) break;
      q.after = page.next;
      REQUIRE(pages < 1000);
    }
    REQUIRE(got.size() == f.rows.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("row " << i);
      CHECK(got[i].stamp == f.rows[i].stamp);
      CHECK(got[i].recno == f.rows[i].recno);
    }
    CHECK(pages == f.rows.size() / limit + 1);
  }
}

TEST_CASE("the upper bound excludes newer rows, empty upper means none", "[source]") {
  fixture f;
  auto src = source::open(f.cfg());
  row_page page;
  src->read_page(query(1000, f.upper), page);
  CHECK(page.size() == 190);
  CHECK(page.rows.back().stamp == f.upper);  // stamp == upper is included
  CHECK(page.last);
  src->read_page(query(1000, ""), page);
  CHECK(page.size() == 200);
  src->read_page(query(1000, "2024-01-15 10:00:00.000"), page);
  for (const auto& r : page.rows) CHECK(r.stamp <= "2024-01-15 10:00:00.000");

  CHECK(src->count_rows("T1", bound(f.upper)) == 190);
  CHECK(src->count_rows("T1", std::nullopt) == 200);
  CHECK(src->count_rows("T1", bound("2000-01-01 00:00:00.000")) == 0);
}

TEST_CASE("deleted flag and cell rendering", "[source]") {
  fixture f;
  auto src = source::open(f.cfg());
  row_page page;
  src->read_page(query(1000, ""), page);
  std::size_t deleted = 0;
  for (std::size_t i = 0; i < page.size(); ++i) {
    std::int64_t n = page.rows[i].recno - 1000;
    CHECK(page.rows[i].deleted == (n % 10 == 3));
    deleted += page.rows[i].deleted;
    CHECK(cell(page, i, 0) == "name " + std::to_string(n) + "  ");  // TEXT as stored
    CHECK(cell(page, i, 1) == std::to_string(n) + ".5");            // REAL shortest
    CHECK(cell(page, i, 2) == std::to_string(n));                   // INTEGER decimal
  }
  CHECK(deleted == 20);
}

TEST_CASE("REAL cells are the shortest round-trip decimal", "[source]") {
  temp_dir dir;
  std::string db = dir.file("real.db");
  sql_exec(db,
           "CREATE TABLE R (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT, V, K TEXT);"
           "INSERT INTO R VALUES (1, '2024-01-01 00:00:00.000', '*', 0.1, 'a'),"
           " (2, '2024-01-01 00:00:00.000', NULL, 0.1 + 0.2, 'b'),"
           " (3, '2024-01-01 00:00:00.000', '', 100.0, 'c'),"
           " (4, '2024-01-01 00:00:00.000', ' ', -2.25, 'd'),"
           " (5, '2024-01-01 00:00:00.000', ' ', 1e20, 'e'),"
           " (6, '2024-01-01 00:00:00.000', ' ', 123456789.125, 'f'),"
           " (7, '2024-01-01 00:00:00.000', ' ', NULL, 'g'),"
           " (8, '2024-01-01 00:00:00.000', ' ', 9007199254740993, 'h'),"
           " (9, '2024-01-01 00:00:00.000', ' ', x'41420043', 'i'),"
           " (10, '2024-01-01 00:00:00.000', ' ', '', 'j');");
  source_config c;
  c.path = db;
  auto src = source::open(c);
  page_query q;
  q.table = "R";
  q.columns = {"V"};
  q.key_column = "K";
  q.limit = 100;
  row_page page;
  src->read_page(q, page);
  REQUIRE(page.size() == 10);
  CHECK(cell(page, 0, 0) == "0.1");
  CHECK(cell(page, 1, 0) == "0.30000000000000004");
  CHECK(cell(page, 2, 0) == "100");
  CHECK(cell(page, 3, 0) == "-2.25");
  CHECK(cell(page, 4, 0) == "1e+20");
  CHECK(cell(page, 5, 0) == "123456789.125");
  CHECK(cell(page, 6, 0) == "<null>");
  CHECK(cell(page, 7, 0) == "9007199254740993");  // INTEGER stays exact
  CHECK(cell(page, 8, 0) == std::string("AB\0C", 4));  // BLOB as-is
  CHECK(cell(page, 9, 0) == "");                       // empty text is not null
  CHECK(page.rows[0].deleted);
  CHECK_FALSE(page.rows[1].deleted);  // NULL
  CHECK_FALSE(page.rows[2].deleted);  // ''
  CHECK(page.rows[0].key == "a");
  CHECK(page.rows[9].key == "j");
}

namespace {
std::string plan_of(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr) ==
          SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "\n";
  sqlite3_finalize(st);
  sqlite3_close(db);
  return plan;
}
} // namespace

TEST_CASE("the page queries seek the (stamp, recno) index", "[source]") {
  fixture f;
  // Also a table whose recno is the rowid (INTEGER PRIMARY KEY).
  sql_exec(f.db, "CREATE TABLE T2 (R_E_C_N_O_ INTEGER PRIMARY KEY, S_T_A_M_P_ TEXT, "
                 "D_E_L_E_T_ TEXT, NAME TEXT, AMOUNT REAL, QTY INTEGER);"
                 "CREATE INDEX T2_STAMP ON T2(S_T_A_M_P_, R_E_C_N_O_);");
  for (std::string table : {"T1", "T2"}) {
    page_query q = query(10, f.upper);
    q.table = table;
    auto sql = sqlite_page_sql(f.cfg(), q);
    std::string ties = plan_of(f.db, sql.ties), rest = plan_of(f.db, sql.rest);
    INFO(sql.ties << "\n" << ties << sql.rest << "\n" << rest);
    CHECK_THAT(ties, Catch::Contains("SEARCH " + table + " USING INDEX " + table +
                                     "_STAMP (S_T_A_M_P_=? AND R_E_C_N_O_>?)"));
    CHECK_THAT(rest, Catch::Contains("SEARCH " + table + " USING INDEX " + table +
                                     "_STAMP (S_T_A_M_P_>? AND S_T_A_M_P_<?)"));
    CHECK_THAT(ties + rest, !Catch::Contains("TEMP B-TREE"));  // no sort step
  }
}

TEST_CASE("describe reports columns and the stamp index", "[source]") {
  fixture f;
  auto src = source::open(f.cfg());
  auto t1 = src->describe("T1");
  REQUIRE(t1);
  CHECK(t1->columns ==
        std::vector<std::string>{"R_E_C_N_O_", "S_T_A_M_P_", "D_E_L_E_T_", "NAME", "AMOUNT", "QTY"});
  CHECK(t1->has_stamp_index);
  auto n = src->describe("NOIDX");
  REQUIRE(n);
  CHECK_FALSE(n->has_stamp_index);
  CHECK_FALSE(src->describe("NOPE").has_value());
  CHECK_FALSE(src->describe("T1'; DROP TABLE T1; --").has_value());  // bound, not quoted
}

TEST_CASE("source errors", "[source]") {
  fixture f;
  auto src = source::open(f.cfg());
  row_page page;
  auto code_of = [&](page_query q) {
    try {
      src->read_page(q, page);
    } catch (const source_error& e) {
      return e.code;
    }
    return source_errc::ok;
  };
  page_query q = query(10, "");
  q.table = "NOPE";
  CHECK(code_of(q) == source_errc::no_such_table);
  q = query(10, "");
  q.columns.push_back("MISSING");
  CHECK(code_of(q) == source_errc::no_such_column);
  q = query(10, "");
  q.columns.push_back("NAME\" FROM T1; --");
  CHECK(code_of(q) == source_errc::invalid_identifier);
  q = query(10, "");
  q.table = "";
  CHECK(code_of(q) == source_errc::invalid_identifier);
  CHECK(code_of(query(10, "")) == source_errc::ok);  // still usable afterwards

  source_config pg;
  pg.kind = source_kind::postgres;
  try {
    source::open(pg);
    FAIL("postgres without a dsn should not open");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::open_failed);
    CHECK_THAT(std::string(e.what()), Catch::Contains("source.dsn is empty"));
  }
}

TEST_CASE("a missing database file is not created", "[source]") {
  temp_dir dir;
  source_config c;
  c.path = dir.file("absent.db");
  try {
    source::open(c);
    FAIL("should not open");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::open_failed);
    CHECK_THAT(std::string(e.what()), Catch::Contains(c.path));
  }
  CHECK_FALSE(std::filesystem::exists(c.path));

  // not a database
  std::string junk = dir.file("junk.db");
  { std::FILE* fp = std::fopen(junk.c_str(), "wb"); std::fputs(std::string(4096, 'x').c_str(), fp); std::fclose(fp); }
  c.path = junk;
  try {
    source::open(c);
    FAIL("should not open");
  } catch (const source_error& e) {
    CHECK(e.code == source_errc::open_failed);
  }
}

TEST_CASE("now is the source clock", "[source][stamp]") {
  fixture f;
  auto src = source::open(f.cfg());
  const stamp now = src->now();
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  CHECK(std::llabs(now.unix_ms() - wall) < 5000);
}

namespace {

// Rows (recno, stamp, key) in table T (key column K, NULL when "<null>").
void make_table(const std::string& db, const std::vector<std::tuple<std::string, std::string, std::string>>& rows,
                bool index = true) {
  std::string sql = "CREATE TABLE T (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT DEFAULT ' ', "
                    "K TEXT, NAME TEXT);";
  if (index) sql += "CREATE INDEX T_STAMP ON T(S_T_A_M_P_, R_E_C_N_O_);";
  int i = 0;
  for (const auto& [recno, st, key] : rows)
    sql += "INSERT INTO T (R_E_C_N_O_, S_T_A_M_P_, K, NAME) VALUES (" + recno + ", '" + st + "', " +
           (key == "<null>" ? std::string("NULL") : "'" + key + "'") + ", 'n" +
           std::to_string(i++) + "');";
  sql_exec(db, sql);
}

page_query t_query(std::uint32_t limit, const std::string& key = "R_E_C_N_O_") {
  page_query q;
  q.table = "T";
  q.columns = {"NAME"};
  q.key_column = key;
  q.limit = limit;
  return q;
}

// Every row of T in pages of `limit`, as "key|stamp|problem?" lines; checks
// that `end` never holds a stamp parse_stamp rejects.
std::vector<std::string> walk(source& src, page_query q, std::size_t* pages = nullptr) {
  std::vector<std::string> out;
  row_page p;
  std::size_t n = 0;
  for (;;) {
    src.read_page(q, p);
    ++n;
    for (const auto& r : p.rows)
      out.push_back(r.key + "|" + r.stamp + (r.problem.empty() ? "" : "|problem"));
    if (!p.end.stamp.empty()) CHECK(parse_stamp(p.end.stamp).has_value());
    if (p.last) break;
    q.after = p.next;
    REQUIRE(n < 100);
  }
  if (pages) *pages = n;
  return out;
}

} // namespace

TEST_CASE("sqlite source: a stamp that is not a date-time is a problem row that never becomes the end",
          "[source][stamp]") {
  temp_dir dir;
  const std::string db = dir.file("s.db");
  make_table(db, {{"1", "2024-01-01 10:00:00.000", "a"},
                  {"2", "01/02/2024", "b"},          // sorts first as text
                  {"3", "2024-01-01 11:00:00.000", "c"},
                  {"4", "zzz", "d"}});               // sorts last as text
  source_config c;
  c.path = db;
  auto src = source::open(c);
  for (std::uint32_t limit : {1u, 2u, 10u}) {
    INFO("page size " << limit);
    auto rows = walk(*src, t_query(limit));
    CHECK(rows == std::vector<std::string>{"2|01/02/2024|problem", "1|2024-01-01 10:00:00.000",
                                           "3|2024-01-01 11:00:00.000", "4|zzz|problem"});
  }
  row_page p;
  src->read_page(t_query(10), p);
  REQUIRE(p.size() == 4);
  CHECK_THAT(p.rows[0].problem, Catch::Contains("S_T_A_M_P_ = \"01/02/2024\" is not a date-time"));
  CHECK(p.end == keyset_pos{"2024-01-01 11:00:00.000", 3});  // the last good row
  CHECK(p.next == keyset_pos{"zzz", 4});                      // paging goes on past "zzz"
  // A page of nothing but bad stamps leaves `end` where it started.
  page_query q = t_query(1);
  src->read_page(q, p);
  CHECK(p.rows[0].stamp == "01/02/2024");
  CHECK(p.end == q.after);
  CHECK(p.next == keyset_pos{"01/02/2024", 2});
  // Nor does a page that starts after one.
  q.after = keyset_pos{"zzz", 4};
  src->read_page(q, p);
  CHECK(p.rows.empty());
  CHECK(p.end == keyset_pos{});
  CHECK(p.next == q.after);
}

TEST_CASE("sqlite source: NULL and empty keys are problem rows under distinct labels",
          "[source][keys]") {
  temp_dir dir;
  const std::string db = dir.file("k.db");
  make_table(db, {{"1", "2024-01-01 10:00:00.000", "<null>"},
                  {"2", "2024-01-01 10:00:00.000", ""},
                  {"3", "2024-01-01 10:00:00.000", "<null>"},
                  {"4", "2024-01-01 10:00:00.000", "k4"}});
  source_config c;
  c.path = db;
  auto src = source::open(c);
  row_page p;
  src->read_page(t_query(10, "K"), p);
  REQUIRE(p.size() == 4);
  CHECK(p.rows[0].key == "<NULL K> R_E_C_N_O_ 1");
  CHECK(p.rows[1].key == "<empty K> R_E_C_N_O_ 2");
  CHECK(p.rows[2].key == "<NULL K> R_E_C_N_O_ 3");
  CHECK(p.rows[3].key == "k4");
  for (int i = 0; i < 3; ++i) {
    CHECK(is_label_key(p.rows[i].key));
    CHECK_THAT(p.rows[i].problem, Catch::Contains("the key column K is"));
  }
  CHECK(p.rows[3].problem.empty());
  CHECK_FALSE(is_label_key("k4"));
  CHECK(p.end == keyset_pos{"2024-01-01 10:00:00.000", 4});
}

TEST_CASE("sqlite source: NULL-recno rows at one stamp are never split by a page boundary",
          "[source][keys]") {
  temp_dir dir;
  const std::string db = dir.file("n.db");
  // Three NULL recnos at one stamp (keys in K), between other rows.
  make_table(db, {{"5", "2024-01-01 09:00:00.000", "a"},
                  {"NULL", "2024-01-01 10:00:00.000", "n1"},
                  {"NULL", "2024-01-01 10:00:00.000", "n2"},
                  {"NULL", "2024-01-01 10:00:00.000", "n3"},
                  {"7", "2024-01-01 10:00:00.000", "b"},
                  {"6", "2024-01-01 11:00:00.000", "c"}});
  source_config c;
  c.path = db;
  auto src = source::open(c);
  for (std::uint32_t limit : {1u, 2u, 3u, 4u, 100u}) {
    INFO("page size " << limit);
    auto rows = walk(*src, t_query(limit, "K"));
    std::vector<std::string> keys;
    for (const auto& r : rows) keys.push_back(r.substr(0, r.find('|')));
    std::sort(keys.begin() + 1, keys.begin() + 4);  // NULL recnos come in any order
    CHECK(keys == std::vector<std::string>{"a", "n1", "n2", "n3", "b", "c"});
  }
  // With the recno as key, the NULL rows are problem rows with distinct labels.
  auto rows = walk(*src, t_query(2));
  REQUIRE(rows.size() == 6);
  std::set<std::string> labels;
  for (const auto& r : rows)
    if (r.find("problem") != std::string::npos) labels.insert(r.substr(0, r.find('|')));
  CHECK(labels == std::set<std::string>{"<NULL R_E_C_N_O_> S_T_A_M_P_ 2024-01-01 10:00:00.000 #1",
                                        "<NULL R_E_C_N_O_> S_T_A_M_P_ 2024-01-01 10:00:00.000 #2",
                                        "<NULL R_E_C_N_O_> S_T_A_M_P_ 2024-01-01 10:00:00.000 #3"});
}

TEST_CASE("sqlite source: bounds are written in the column's layout", "[source][stamp]") {
  temp_dir dir;
  const std::string db = dir.file("iso.db");
  // An ISO column: every stamp "YYYY-MM-DDTHH:MM:SSZ".
  make_table(db, {{"1", "2024-01-01T10:00:00Z", "a"},
                  {"2", "2024-01-01T10:05:00Z", "b"},
                  {"3", "2024-01-01T10:10:00Z", "c"}});
  source_config c;
  c.path = db;
  auto src = source::open(c);
  page_query q = t_query(10);
  q.upper = parse_stamp("2024-01-01 10:05:00");  // canonical text would exclude every 'T' row
  auto rows = walk(*src, q);
  CHECK(rows == std::vector<std::string>{"1|2024-01-01T10:00:00Z", "2|2024-01-01T10:05:00Z"});
  CHECK(src->count_rows("T", q.upper) == 2);
  // The lookback start is written the same way.
  const keyset_pos from = src->start_at("T", *parse_stamp("2024-01-01T10:05:00Z"));
  CHECK(from.stamp == "2024-01-01T10:05:00Z");
  q.after = from;
  q.upper.reset();
  rows = walk(*src, q);
  CHECK(rows == std::vector<std::string>{"2|2024-01-01T10:05:00Z", "3|2024-01-01T10:10:00Z"});
  // check's sample names the layout.
  auto sm = src->sample_stamps("T", 10);
  REQUIRE(sm.layouts.size() == 1);
  CHECK(sm.layouts[0].first == "YYYY-MM-DDTHH:MM:SSZ");
  CHECK(sm.unreadable_count == 0);
}

TEST_CASE("sqlite source: read_by_keys returns the rows of the given keys and names the missing",
          "[source][resend]") {
  fixture f;
  auto src = source::open(f.cfg());
  row_page p;
  // 1003 is soft-deleted (i % 10 == 3); 99999 does not exist; 1150 twice.
  auto missing = src->read_by_keys(query(5000, ""), {"1150", "1003", "99999", "1007", "1150"}, p);
  REQUIRE(missing == std::vector<std::string>{"99999"});
  REQUIRE(p.size() == 4);
  REQUIRE(p.rows[0].key == "1150");
  REQUIRE(p.rows[0].recno == 1150);
  REQUIRE(cell(p, 0, 0) == "name 150  ");
  REQUIRE(cell(p, 0, 2) == "150");
  REQUIRE(p.rows[1].key == "1003");
  REQUIRE(p.rows[1].deleted);
  REQUIRE(p.rows[2].key == "1007");
  REQUIRE_FALSE(p.rows[2].deleted);
  REQUIRE(p.last);
  REQUIRE(p.end.stamp.empty());
  // Rows beyond the upper bound of a page query are found too: the queue is
  // independent of the keyset window.
  missing = src->read_by_keys(query(5000, f.upper), {"1195"}, p);
  REQUIRE(missing.empty());
  REQUIRE(p.size() == 1);
  REQUIRE(p.rows[0].stamp == "2024-03-01 00:00:00.001");
  // A page read afterwards is unaffected (shared statements, reset arena).
  src->read_page(query(3, f.upper), p);
  REQUIRE(p.size() == 3);
  REQUIRE(p.rows[0].stamp == f.rows[0].stamp);
}
