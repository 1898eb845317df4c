#include "tools/demogen/lib/sqlite_db.hpp"

#include "tools/demogen/lib/demogen.hpp"

namespace stampede::demogen {

sqlite_db::sqlite_db(const std::string& path, bool create) : path_(path) {
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw error(errc::sqlite_failure, "cannot open SQLite database '" + path + "': " + msg +
                                          " (check the path and its permissions)");
  }
  sqlite3_extended_result_codes(db_, 1);
}

sqlite_db::~sqlite_db() { sqlite3_close(db_); }

void sqlite_db::fail(std::string_view what) const {
  throw error(errc::sqlite_failure, "SQLite failed " + std::string(what) + " on '" + path_ +
                                        "': " + sqlite3_errmsg(db_));
}

void sqlite_db::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    throw error(errc::sqlite_failure,
                "SQLite failed on '" + path_ + "' running `" + sql + "`: " + m);
  }
}

bool sqlite_db::table_exists(std::string_view table) {
  sqlite_stmt st(*this, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  st.bind_text(1, table);
  return st.step();
}

std::int64_t sqlite_db::scalar(const std::string& sql) {
  sqlite_stmt st(*this, sql);
  return st.step() ? st.int_at(0) : 0;
}

sqlite_stmt::sqlite_stmt(sqlite_db& db, const std::string& sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &st_, nullptr) !=
      SQLITE_OK)
    db.fail("preparing `" + sql + "`");
}

sqlite_stmt::~sqlite_stmt() { sqlite3_finalize(st_); }

bool sqlite_stmt::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail("running `" + sql_ + "`");
}

void sqlite_stmt::run() {
  step();
  sqlite3_reset(st_);
}

}  // namespace stampede::demogen
