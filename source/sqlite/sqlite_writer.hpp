// The SQLite source's writer: the write-back UPDATE on its own read-write
// connection (extraction keeps its read-only one).
//
// Operation: `sqlite_writer(path, sql, read_only)` opens the existing file
//   (never creates it), with a 10 s busy timeout, and prepares `sql` once;
//   preparing is how `check` validates the statement (`read_only` = true:
//   nothing can be written). `execute(rows)` runs it once per row inside
//   BEGIN IMMEDIATE ... COMMIT, binding each `:name` by name (text or NULL;
//   SQLite converts by column affinity), and returns the rows each changed;
//   any error rolls the whole transaction back and throws source_error.
// Concurrency: one connection per writer (NOMUTEX); not thread-safe. Other
//   connections (the extractor) read while it writes (WAL) or wait.
// Limitations: one statement (a trailing one is an error).
#pragma once

#include "pipeline/writeback.hpp"

#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace stampede {

class sqlite_writer final : public writeback_sink {
public:
  /// Throws source_error: open_failed (no such file, not a database),
  /// query_failed (the statement does not prepare: SQLite's message).
  sqlite_writer(const std::string& path, const std::string& sql, bool read_only = false);
  ~sqlite_writer() override;
  sqlite_writer(const sqlite_writer&) = delete;
  sqlite_writer& operator=(const sqlite_writer&) = delete;

  /// The statement's parameter names (without the colon), in index order.
  const std::vector<std::string>& parameters() const { return params_; }

  std::vector<std::int64_t> execute(const std::vector<writeback_row>& rows) override;

private:
  void exec(const char* sql);
  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::vector<std::string> params_;
};

} // namespace stampede
