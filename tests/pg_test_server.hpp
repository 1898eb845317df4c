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
//   `create_slow_view` and `backend_killer` kill a connection while its
//   query runs (pg_terminate_backend), deterministically.
// Concurrency: server() is thread-safe (a function-local static); a conn is
//   one connection, for one thread.
// Limitations: tables are shared across the binary's tests: each test uses
//   its own table names.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
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

/// Creates (or replaces) `view` over `table` with `columns`, where reading
/// the value 'SLOW' in `slow_column` sleeps 30 s while the table kill_flag
/// has a row: a query reading that row is in flight until a backend_killer
/// empties kill_flag and terminates its backend (the retry then runs fast).
inline void create_slow_view(conn& db, const std::string& table, const std::string& view,
                             const std::vector<std::string>& columns,
                             const std::string& slow_column) {
  db.exec("CREATE TABLE IF NOT EXISTS kill_flag (x int)");
  db.exec("DELETE FROM kill_flag");
  db.exec("INSERT INTO kill_flag VALUES (1)");
  db.exec("CREATE OR REPLACE FUNCTION slow_value(v text) RETURNS text LANGUAGE plpgsql STABLE "
          "AS $$ BEGIN IF v = 'SLOW' AND EXISTS (SELECT 1 FROM kill_flag) THEN "
          "PERFORM pg_sleep(30); END IF; RETURN v; END $$");
  std::string list;
  for (const auto& c : columns)
    list += (list.empty() ? "" : ", ") +
            (c == slow_column ? "slow_value(\"" + c + "\") AS \"" + c + "\"" : "\"" + c + "\"");
  db.exec("CREATE OR REPLACE VIEW \"" + view + "\" AS SELECT " + list + " FROM \"" + table +
          "\"");
}

/// A thread that waits (up to 30 s) for a backend of `application` asleep in
/// a slow view (create_slow_view), empties kill_flag and terminates that
/// backend. join() before reading killed()/error().
class backend_killer {
public:
  explicit backend_killer(std::string application = "stampede-source")
      : app_(std::move(application)), thread_([this] { run(); }) {}
  ~backend_killer() { join(); }
  backend_killer(const backend_killer&) = delete;
  backend_killer& operator=(const backend_killer&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool killed() const { return killed_; }
  const std::string& error() const { return error_; }

private:
  void run() {
    try {
      conn k;
      for (int i = 0; i < 600; ++i) {
        auto pid = k.exec("SELECT pid FROM pg_stat_activity WHERE application_name = '" + app_ +
                          "' AND wait_event = 'PgSleep'");
        if (!pid.empty()) {
          k.exec("DELETE FROM kill_flag");
          killed_ = k.value("SELECT pg_terminate_backend(" + pid[0][0] + ")") == "t";
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      error_ = "no " + app_ + " query reached pg_sleep in 30 s";
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  std::string app_;
  bool killed_ = false;
  std::string error_;
  std::thread thread_;  // last: starts after the members it uses
};

} // namespace pg_test
