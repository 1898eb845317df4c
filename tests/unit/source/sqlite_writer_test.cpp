// The SQLite writer of write-back: parameters in SQLite's order, one
// transaction per call (all or nothing), prepare errors, read-only checks.
#include "../config/helpers.hpp"

#include "source/source.hpp"
#include "source/sqlite/sqlite_writer.hpp"

using namespace stampede;
using namespace stampede::test;

namespace {

std::int64_t count(const std::string& db, const std::string& where) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, ("SELECT COUNT(*) FROM T WHERE " + where).c_str(), -1, &st,
                             nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

writeback_row row(const std::string& key, std::vector<std::optional<std::string>> v) {
  return {key, std::move(v)};
}

} // namespace

TEST_CASE("sqlite writer: binds by SQLite's parameter order, one transaction per call",
          "[source][writeback]") {
  temp_dir dir;
  const auto db = dir.file("w.db");
  sql_exec(db, "CREATE TABLE T (R_E_C_N_O_ INTEGER, IDERP TEXT, V INTEGER CHECK (V < 100));"
               "INSERT INTO T VALUES (1, NULL, 0), (2, NULL, 0), (3, NULL, 0);");
  sqlite_writer w(db, "UPDATE T SET IDERP = :id, V = :version WHERE R_E_C_N_O_ = :key");
  CHECK(w.parameters() == std::vector<std::string>{"id", "version", "key"});
  auto changed = w.execute({row("1", {"r1", "5", "1"}), row("2", {"r2", std::nullopt, "2"}),
                            row("9", {"r9", "1", "9"})});
  CHECK(changed == std::vector<std::int64_t>{1, 1, 0});
  CHECK(count(db, "IDERP = 'r1' AND V = 5") == 1);
  CHECK(count(db, "IDERP = 'r2' AND V IS NULL") == 1);
  // A row the database refuses rolls the whole call back.
  CHECK_THROWS_WITH(w.execute({row("3", {"r3", "1", "3"}), row("1", {"x", "500", "1"})}),
                    Catch::Contains("CHECK constraint failed") && Catch::Contains("record 1"));
  CHECK(count(db, "IDERP = 'r3'") == 0);
  CHECK(count(db, "IDERP = 'r1'") == 1);
  // ... and the writer goes on working.
  CHECK(w.execute({row("3", {"r3", "1", "3"})}) == std::vector<std::int64_t>{1});
}

TEST_CASE("sqlite writer: a statement that does not prepare, a missing file, read-only checks",
          "[source][writeback]") {
  temp_dir dir;
  const auto db = dir.file("w.db");
  sql_exec(db, "CREATE TABLE T (R_E_C_N_O_ INTEGER, IDERP TEXT);");
  CHECK_THROWS_WITH(sqlite_writer(db, "UPDATE T SET NOPE = :id WHERE R_E_C_N_O_ = :key"),
                    Catch::Contains("no such column: NOPE"));
  CHECK_THROWS_WITH(sqlite_writer(db, "UPDATE T SET IDERP = :id; DELETE FROM T"),
                    Catch::Contains("more than one statement"));
  CHECK_THROWS_WITH(sqlite_writer(dir.file("missing.db"), "UPDATE T SET IDERP = :id"),
                    Catch::Contains("does not exist"));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
  // Read-only (check): prepares, but cannot write.
  sqlite_writer ro(db, "UPDATE T SET IDERP = :id WHERE R_E_C_N_O_ = :key", /*read_only=*/true);
  CHECK(ro.parameters() == std::vector<std::string>{"id", "key"});
  CHECK_THROWS(ro.execute({row("1", {"x", "1"})}));
}
