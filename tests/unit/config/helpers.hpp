// Shared helpers for the config/source/check unit tests.
#pragma once

#include "pipeline/config.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace stampede::test {

// A minimal valid config; tests append to or edit it.
inline const std::string base_config = R"([source]
kind = "sqlite"
path = "demo.db"

[targets.portal]
base_url = "http://127.0.0.1:8787"

[[services]]
id = 1
name = "taxpayers"
table = "SA1010"
target = "portal"

[[services.fields]]
name = "code"
column = "A1_COD"
)";

// 1-based line and column of the nth (default first) occurrence of `needle` in `text`.
struct pos {
  int line = 0, column = 0;
};
inline pos pos_of(const std::string& text, const std::string& needle, int nth = 1) {
  auto at = text.find(needle);
  while (--nth > 0 && at != std::string::npos) at = text.find(needle, at + 1);
  REQUIRE(at != std::string::npos);
  pos p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// Replaces the first `from` with `to` (which must exist).
inline std::string edit(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Diagnostics of a config that must fail to parse.
inline std::vector<config_diagnostic> errors_of(const std::string& text) {
  try {
    parse_config(text, "test.toml");
  } catch (const config_error& e) {
    return e.diagnostics;
  }
  FAIL("config parsed although it should not:\n" << text);
  return {};
}

// The single diagnostic for `key_path` (fails when absent).
inline config_diagnostic diag_for(const std::vector<config_diagnostic>& ds,
                                  const std::string& key_path) {
  for (const auto& d : ds)
    if (d.key_path == key_path) return d;
  std::string all;
  for (const auto& d : ds) all += d.to_string() + "\n";
  FAIL("no diagnostic for " << key_path << "; got:\n" << all);
  return {};
}

// Asserts a diagnostic for `key_path` at the position of `at` in `text`,
// whose message contains `msg` and hint contains `hint`.
inline void expect_error(const std::string& text, const std::string& key_path, const std::string& at,
                  const std::string& msg, const std::string& hint = "") {
  auto ds = errors_of(text);
  auto d = diag_for(ds, key_path);
  INFO(d.to_string());
  pos p = pos_of(text, at);
  CHECK(d.file == "test.toml");
  CHECK(d.line == p.line);
  CHECK(d.column == p.column);
  CHECK_THAT(d.message, Catch::Contains(msg));
  CHECK_THAT(d.hint, Catch::Contains(hint));
}

inline std::string with_source_key(const std::string& line) {
  return edit(base_config, "path = \"demo.db\"", "path = \"demo.db\"\n" + line);
}
inline std::string with_target_key(const std::string& line) {
  return edit(base_config, "base_url = \"http://127.0.0.1:8787\"",
              "base_url = \"http://127.0.0.1:8787\"\n" + line);
}
inline std::string with_service_key(const std::string& line) {
  return edit(base_config, "target = \"portal\"", "target = \"portal\"\n" + line);
}
inline std::string with_field_key(const std::string& line) {
  return edit(base_config, "column = \"A1_COD\"", "column = \"A1_COD\"\n" + line);
}

// A fresh temporary directory, removed on destruction.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("stampede-config-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Runs SQL on a (created) SQLite file.
inline void sql_exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(msg);
  REQUIRE(rc == SQLITE_OK);
}

} // namespace stampede::test
