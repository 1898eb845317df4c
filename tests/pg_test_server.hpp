// A throwaway PostgreSQL 15 server for a test binary, and a small libpq
// client for the tests' own SQL.
//
// Operation: `pg_test::server()` starts one server per test binary run
//   (tools/pg-test-server.sh start, in a fresh temporary directory; the first
//   call waits for it) and stops it at exit. `dsn()` connects as the
//   superuser `stampede` to the database `erp`, password `stampede-test` (a
//   test server only). `pg_test::conn` runs statements and fails the test
//   (throws) on any error. A test that needs PostgreSQL FAILS when the server
//   cannot start (postgresql-15 missing): CI installs it, so a skip would
//   hide a broken setup.
// Concurrency: server() is thread-safe (a function-local static); a conn is
//   one connection, for one thread.
// Limitations: tables are shared across the binary's tests: each test uses
//   its own table names.
#pragma once

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace pg_test {

inline constexpr const char* password = "stampede-test";

class test_server {
public:
  test_server() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "stampede-pgtest-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::string cmd = "bash " + std::string(STAMPEDE_SOURCE_DIR) +
                            "/tools/pg-test-server.sh start " + dir_ + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed: " + cmd);
    char buf[1024];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = ::pclose(p);
    std::ifstream in(dir_ + "/port");
    if (st != 0 || !(in >> port_))
      throw std::runtime_error("the PostgreSQL test server did not start (is postgresql-15 "
                               "installed? tools/install-deps.sh installs it): " + out);
  }
  ~test_server() {
    const std::string cmd = "bash " + std::string(STAMPEDE_SOURCE_DIR) +
                            "/tools/pg-test-server.sh stop " + dir_ + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "pg-test-server stop failed\n");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  int port() const { return port_; }
  /// The DSN without the password (it comes from PGPASSWORD or is appended).
  std::string dsn_no_password() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=erp user=stampede";
  }
  std::string dsn() const { return dsn_no_password() + " password=" + password; }

private:
  std::string dir_;
  int port_ = 0;
};

/// The binary's server, started on first use.
inline test_server& server() {
  static test_server s;
  return s;
}

/// Rows of a result as text (NULL as "<NULL>").
using rows = std::vector<std::vector<std::string>>;

class conn {
public:
  explicit conn(const std::string& dsn = server().dsn()) {
    c_ = PQconnectdb(dsn.c_str());
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error("test connection failed: " + msg);
    }
    exec("SET TimeZone = 'UTC'");
    PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  }
  ~conn() { PQfinish(c_); }
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;

  rows exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string msg = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("SQL failed: " + sql + ": " + msg);
    }
    rows out;
    for (int i = 0; i < PQntuples(r); ++i) {
      out.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j)
        out.back().push_back(PQgetisnull(r, i, j) ? "<NULL>" : PQgetvalue(r, i, j));
    }
    PQclear(r);
    return out;
  }
  std::string value(const std::string& sql) {
    auto r = exec(sql);
    if (r.empty() || r[0].empty()) throw std::runtime_error("no value: " + sql);
    return r[0][0];
  }

private:
  PGconn* c_ = nullptr;
};

} // namespace pg_test
