// The PostgreSQL writer (see postgres_writer.hpp).
#include "source/postgres/postgres_writer.hpp"

#include "pipeline/redact.hpp"
#include "source/postgres/pg_common.hpp"
#include "source/postgres/postgres_source.hpp"
#include "source/source.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>

namespace stampede {

namespace {

constexpr const char* app_name = "stampede-writeback";
constexpr const char* statement_name = "stampede_writeback";

} // namespace

std::string pg_named_parameters(const std::string& sql, std::vector<std::string>& names) {
  return number_named_parameters(sql, names, '$', 1);
}

struct postgres_writer::impl {
  std::string dsn, sql, where;
  std::vector<std::string> secrets;
  bool read_only = false;
  PGconn* conn = nullptr;
  int nparams = 0;

  ~impl() {
    if (conn) PQfinish(conn);
  }

  [[noreturn]] void fail(source_errc code, const std::string& msg) {
    throw source_error(code, redact(msg, secrets));
  }

  // Connects and prepares the statement (again, after a lost connection).
  void open() {
    if (conn) PQfinish(conn);
    conn = nullptr;
    conn = pg_connect(dsn, app_name, where, secrets);
    if (read_only) command("SET default_transaction_read_only = on");
    PGresult* r = PQprepare(conn, statement_name, sql.c_str(), nparams, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string msg = ok ? "" : pg_error(conn, r);
    PQclear(r);
    if (!ok) {
      PQfinish(conn);
      conn = nullptr;
      fail(source_errc::query_failed, "write-back statement in " + where + ": " + msg);
    }
  }

  void command(const char* text) {
    PGresult* r = PQexec(conn, text);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string msg = ok ? "" : pg_error(conn, r);
    PQclear(r);
    if (!ok) fail(source_errc::query_failed, msg + " (in " + where + ")");
  }
};

postgres_writer::postgres_writer(const std::string& dsn, const std::string& sql, bool read_only)
  : impl_(std::make_unique<impl>()) {
  impl_->dsn = dsn;
  impl_->where = describe_dsn(dsn);
  impl_->secrets = dsn_secrets(dsn);
  for (const auto& s : impl_->secrets) redactor::global().add(s);
  impl_->read_only = read_only;
  impl_->sql = pg_named_parameters(sql, params_);
  impl_->nparams = static_cast<int>(params_.size());
  impl_->open();
}

postgres_writer::~postgres_writer() = default;

std::vector<std::int64_t> postgres_writer::execute(const std::vector<writeback_row>& rows) {
  impl& m = *impl_;
  if (!m.conn || PQstatus(m.conn) != CONNECTION_OK) m.open();
  std::vector<std::int64_t> changed;
  changed.reserve(rows.size());
  m.command("BEGIN");
  std::vector<const char*> values(params_.size());
  for (const auto& row : rows) {
    // `values` follow parameters() (open_writeback builds the plan from it).
    for (std::size_t i = 0; i < params_.size(); ++i)
      values[i] = i < row.values.size() && row.values[i] ? row.values[i]->c_str() : nullptr;
    PGresult* r = PQexecPrepared(m.conn, statement_name, m.nparams, values.data(), nullptr,
                                 nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const std::string msg = pg_error(m.conn, r);
      PQclear(r);
      PQclear(PQexec(m.conn, "ROLLBACK"));
      m.fail(source_errc::query_failed, msg + " (record " + row.key + ")");
    }
    changed.push_back(std::atoll(PQcmdTuples(r)));
    PQclear(r);
  }
  m.command("COMMIT");
  return changed;
}

} // namespace stampede
