// Connection helpers of the PostgreSQL module (see pg_common.hpp).
#include "source/postgres/pg_common.hpp"

#include "pipeline/redact.hpp"
#include "source/source.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace stampede {

std::vector<std::string> dsn_secrets(const std::string& dsn) {
  std::vector<std::string> out;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword; ++o)
      if (std::string_view(o->keyword) == "password" && o->val && *o->val) out.emplace_back(o->val);
    PQconninfoFree(opts);
  }
  if (err) PQfreemem(err);
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (std::size_t at = dsn.find("password"); at != std::string::npos;
       at = dsn.find("password", at + 1)) {
    std::size_t i = at + 8;
    while (i < dsn.size() && space(dsn[i])) ++i;
    if (i >= dsn.size() || dsn[i] != '=') continue;
    ++i;
    while (i < dsn.size() && space(dsn[i])) ++i;
    const char q = i < dsn.size() && dsn[i] == '\'' ? '\'' : '\0';
    if (q) ++i;
    std::size_t j = i;
    while (j < dsn.size() && (q ? dsn[j] != q : !space(dsn[j]))) ++j;
    if (j > i) out.push_back(dsn.substr(i, j - i));
  }
  if (std::size_t scheme = dsn.find("://"); scheme != std::string::npos) {
    const std::size_t at = dsn.find('@', scheme + 3);
    const std::size_t colon = dsn.find(':', scheme + 3);
    if (at != std::string::npos && colon < at && colon + 1 < at)
      out.push_back(dsn.substr(colon + 1, at - colon - 1));
  }
  if (const char* p = std::getenv("PGPASSWORD"); p && *p) out.emplace_back(p);
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

std::string trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

PGconn* pg_connect(const std::string& dsn, const char* application, const std::string& where,
                   const std::vector<std::string>& secrets) {
  // Defaults first: the DSN (expanded from "dbname") overrides them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", application, dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? trimmed(PQerrorMessage(conn)) : "out of memory";
    PQfinish(conn);
    throw source_error(source_errc::open_failed,
                       redact("cannot connect to PostgreSQL (" + where + "): " + msg, secrets));
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  const std::string setup = std::string("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                        "SET application_name = '") +
                            application + "'";
  PGresult* r = PQexec(conn, setup.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : pg_error(conn, r);
  PQclear(r);
  if (!ok) {
    PQfinish(conn);
    throw source_error(source_errc::open_failed,
                       redact("cannot set up the PostgreSQL session (" + where + "): " + msg,
                              secrets));
  }
  return conn;
}

std::string pg_error(PGconn* conn, const PGresult* r) {
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  return trimmed(primary ? primary : PQerrorMessage(conn));
}

} // namespace stampede
