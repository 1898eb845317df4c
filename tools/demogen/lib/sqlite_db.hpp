// Thin RAII wrappers over the SQLite C API for the demo generator.
//
// Operation: `sqlite_db` owns a connection, `sqlite_stmt` a prepared
//   statement. Every failure throws demogen::error(errc::sqlite_failure) with
//   the file name, the operation and SQLite's message.
// Concurrency: one thread per connection (SQLite's default serialized mode
//   is not relied on).
// Limitations: only what generate()/mutate() need; text is bound with
//   SQLITE_STATIC, so bound buffers must outlive the step().
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace stampede::demogen {

class sqlite_db {
 public:
  /// create: open read-write, creating the file; otherwise the file must exist.
  sqlite_db(const std::string& path, bool create);
  ~sqlite_db();
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const std::string& sql);
  bool table_exists(std::string_view table);
  /// First column of the first row as an integer (0 when no row / NULL).
  std::int64_t scalar(const std::string& sql);
  [[noreturn]] void fail(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class sqlite_stmt {
 public:
  sqlite_stmt(sqlite_db& db, const std::string& sql);
  ~sqlite_stmt();
  sqlite_stmt(const sqlite_stmt&) = delete;
  sqlite_stmt& operator=(const sqlite_stmt&) = delete;

  void bind_text(int i, std::string_view v) {
    check(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
  }
  void bind_int(int i, std::int64_t v) { check(sqlite3_bind_int64(st_, i, v)); }
  void bind_null(int i) { check(sqlite3_bind_null(st_, i)); }
  /// true: a row is available; false: done.
  bool step();
  /// step() that must finish (INSERT/UPDATE), then reset().
  void run();
  void reset() { sqlite3_reset(st_); }

  int columns() const { return sqlite3_column_count(st_); }
  const char* name_at(int col) const { return sqlite3_column_name(st_, col); }
  bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  bool is_integer(int col) const { return sqlite3_column_type(st_, col) == SQLITE_INTEGER; }
  std::int64_t int_at(int col) const { return sqlite3_column_int64(st_, col); }
  std::string_view text_at(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
             : std::string_view();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.fail("binding a value");
  }
  sqlite_db& db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

}  // namespace stampede::demogen
