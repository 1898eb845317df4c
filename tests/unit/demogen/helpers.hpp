// Test helpers for the demo generator: temp files and small SQLite queries.
#pragma once

#include "tools/demogen/lib/demogen.hpp"
#include "tools/demogen/lib/sqlite_db.hpp"

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace demogen_test {

namespace dg = stampede::demogen;

// A unique temp file path, removed (with -wal/-shm) at scope exit.
class temp_db {
 public:
  temp_db() {
    static std::atomic<int> n{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("demogen_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".db"))
                .string();
  }
  ~temp_db() {
    std::error_code ec;
    for (const char* s : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path_ + s, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// All rows of a query, each row's columns joined by '\x1f', NULL as "\x01NULL".
inline std::vector<std::string> rows(dg::sqlite_db& db, const std::string& sql) {
  dg::sqlite_stmt st(db, sql);
  std::vector<std::string> out;
  while (st.step()) {
    std::string r;
    for (int c = 0;; ++c) {
      if (c >= st.columns()) break;
      if (c) r += '\x1f';
      r += st.is_null(c) ? std::string("\x01NULL") : std::string(st.text_at(c));
    }
    out.push_back(r);
  }
  return out;
}

inline std::int64_t count(dg::sqlite_db& db, const std::string& sql) { return db.scalar(sql); }

inline std::string text(dg::sqlite_db& db, const std::string& sql) {
  dg::sqlite_stmt st(db, sql);
  return st.step() && !st.is_null(0) ? std::string(st.text_at(0)) : std::string();
}

// R_E_C_N_O_ -> whole row (all columns) of a table.
inline std::map<std::int64_t, std::string> snapshot(dg::sqlite_db& db, const std::string& table) {
  dg::sqlite_stmt st(db, "SELECT * FROM " + table + " ORDER BY R_E_C_N_O_");
  std::map<std::int64_t, std::string> out;
  int recno_col = -1;
  while (st.step()) {
    if (recno_col < 0)
      for (int c = 0; c < st.columns(); ++c)
        if (std::string(st.name_at(c)) == "R_E_C_N_O_") recno_col = c;
    std::string r;
    for (int c = 0; c < st.columns(); ++c) {
      if (c) r += '\x1f';
      r += st.is_null(c) ? std::string("\x01NULL") : std::string(st.text_at(c));
    }
    out[st.int_at(recno_col)] = r;
  }
  return out;
}

}  // namespace demogen_test
