// The PostgreSQL source kind (libpq): `[source] kind = "postgres"`, `dsn`.
//
// Operation: `postgres_source_kind()` is this module's registry entry (see
//   source/source.hpp). The connection is opened from `source.dsn` (a libpq
//   connection string or URI; its password comes from the environment through
//   `${...}` in the config or PGPASSWORD, and is never printed: messages name
//   host, port, database and user only). The session runs with TimeZone UTC
//   and reads in READ ONLY transactions. Pages are keyset SELECTs on
//   (stamp, recno) with bound parameters ($1 stamp, $2 recno, $3 upper, $4
//   limit), the tie group at after.stamp then greater stamps, in one
//   REPEATABLE READ snapshot; identifiers are double-quoted exactly as written
//   (R_E_C_N_O_ stays upper case). Stamp columns may be timestamp,
//   timestamptz (compared as values, read as "YYYY-MM-DD HH:MM:SS.ffffff"
//   UTC) or text (compared as text, like SQLite). NULL recnos sort last
//   (PostgreSQL's order), so a position (s, null_recno) means "done with
//   stamp s" and start_at(from) is the instant just before `from`. Mapped
//   cells are read as text; a timestamptz cell as its UTC time without zone.
//   A service's query is paged as `(query) AS "stampede_q"` (its columns'
//   types from a LIMIT 0 run); its `where` is appended to every statement,
//   its :names numbered after the statement's own $n. Key columns are read
//   as the server prints them (char(n) padded) and trimmed (trim_key);
//   read_by_keys matches char(n) natively and varchar(n) also padded to n.
//   `oldest_open_transaction()` reads pg_stat_activity: the start of the
//   oldest transaction still open in this database, other than ours.
//   A lost connection is reopened with backoff (0.2 s doubling, 5 tries) and
//   the page read again from its start: a page is read whole or not at all.
// Concurrency: one connection per source object; not thread-safe.
// Limitations: pg_stat_activity shows other roles' xact_start only to
//   superusers and members of pg_read_all_stats (check_warnings() says so,
//   with the GRANT); otherwise only the lookback catches their late commits.
//   A trimmed key held padded in a `text` column (no declared length), or in
//   a varchar column of a service's query (its length is not looked up), is
//   not found again by read_by_keys.
#pragma once

#include "source/source.hpp"

#include <string>

namespace stampede {

/// This module's entry in source_kinds().
source_kind_entry postgres_source_kind();

/// "host=... port=... dbname=... user=..." of a DSN: for messages (no password).
std::string describe_dsn(const std::string& dsn);

} // namespace stampede
