// Connection helpers shared by the PostgreSQL source and writer (inside
// source/postgres/ only: nothing else includes libpq).
//
// Operation: `pg_connect` opens a connection from a DSN with defaults the DSN
//   can override (connect_timeout 10 s) and sets the session up (TimeZone
//   UTC, DateStyle ISO, application_name); on failure it throws
//   source_error(open_failed) naming the server (describe_dsn) and never the
//   password. `dsn_secrets` lists what no message may contain.
// Concurrency: free functions; a PGconn is used by one thread.
// Limitations: none of their own.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace stampede {

/// The password a DSN carries (as libpq reads it, and as written in a
/// `password=` pair or a URI's user:password@, even when libpq cannot parse
/// the rest) and PGPASSWORD, longest first.
std::vector<std::string> dsn_secrets(const std::string& dsn);

/// libpq's message without its trailing newline and spaces.
std::string trimmed(std::string msg);

/// A connected session (see above); `where` is describe_dsn(dsn), `secrets`
/// dsn_secrets(dsn). Throws source_error(open_failed).
PGconn* pg_connect(const std::string& dsn, const char* application, const std::string& where,
                   const std::vector<std::string>& secrets);

/// The primary message of a failed result (else the connection's), trimmed.
std::string pg_error(PGconn* conn, const PGresult* r);

} // namespace stampede
