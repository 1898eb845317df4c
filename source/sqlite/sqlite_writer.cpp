#include "source/sqlite/sqlite_writer.hpp"

#include "source/source.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <string_view>

namespace stampede {

sqlite_writer::sqlite_writer(const std::string& path, const std::string& sql, bool read_only)
  : path_(path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec))
    throw source_error(source_errc::open_failed, "SQLite database \"" + path + "\" does not exist");
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  if (int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr); rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw source_error(source_errc::open_failed,
                       "cannot open SQLite database \"" + path + "\" for write-back: " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, &tail);
  std::string why;
  if (rc != SQLITE_OK)
    why = sqlite3_errmsg(db_);
  else if (!stmt_)
    why = "the statement is empty";
  else if (tail && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos)
    why = "more than one statement (write one UPDATE)";
  if (!why.empty()) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    sqlite3_close(db_);
    db_ = nullptr;
    const auto code = rc == SQLITE_NOTADB ? source_errc::open_failed : source_errc::query_failed;
    throw source_error(code, "write-back statement in \"" + path + "\": " + why);
  }
  for (int i = 1; i <= sqlite3_bind_parameter_count(stmt_); ++i) {
    const char* n = sqlite3_bind_parameter_name(stmt_, i);
    params_.push_back(n && (n[0] == ':' || n[0] == '@' || n[0] == '$') ? n + 1 : (n ? n : "?"));
  }
}

sqlite_writer::~sqlite_writer() {
  sqlite3_finalize(stmt_);
  sqlite3_close(db_);
}

void sqlite_writer::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw source_error(source_errc::query_failed, msg);
  }
}

std::vector<std::int64_t> sqlite_writer::execute(const std::vector<writeback_row>& rows) {
  std::vector<std::int64_t> changed;
  changed.reserve(rows.size());
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& row : rows) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      for (std::size_t i = 0; i < params_.size(); ++i) {
        // `values` follow parameters() (open_writeback builds the plan from it).
        const int idx = static_cast<int>(i) + 1;
        if (i < row.values.size() && row.values[i])
          sqlite3_bind_text(stmt_, idx, row.values[i]->data(), static_cast<int>(row.values[i]->size()),
                            SQLITE_TRANSIENT);
        else
          sqlite3_bind_null(stmt_, idx);
      }
      int rc;
      while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE)
        throw source_error(source_errc::query_failed,
                           std::string(sqlite3_errmsg(db_)) + " (record " + row.key + ")");
      changed.push_back(sqlite3_changes(db_));
    }
    sqlite3_reset(stmt_);
    exec("COMMIT");
  } catch (...) {
    sqlite3_reset(stmt_);
    char* err = nullptr;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &err);
    sqlite3_free(err);
    throw;
  }
  return changed;
}

} // namespace stampede
