// The SQLite source kind: a read-only connection to one database file.
//
// Operation: `sqlite_source_kind()` is this module's registry entry (see
//   source/source.hpp): open, the `[source]` section's checks (`path` must
//   name an existing file; it is never created) and the CREATE INDEX advice.
//   Pages are two prepared SELECTs per page shape (table, key, columns) -- the
//   rest of the current stamp's tie group, then greater stamps -- run in one
//   read transaction; cells go straight from sqlite3_column_* into the page
//   arena. A service's query is paged as `(query) AS "stampede_q"`; its
//   `where` is appended to every statement with its :names as ?100, ?101...,
//   bound once per prepared statement. read_by_keys finds a trimmed key
//   through the index as a range (col >= k AND col <= k||spaces AND
//   rtrim(col) = k).
// Concurrency: one connection per source object (NOMUTEX); not thread-safe.
// Limitations: column names compare case-insensitively (SQLite rules); double
//   quoted string literals are disabled so a misspelled column is an error.
#pragma once

#include "source/source.hpp"

#include <string>

namespace stampede {

/// This module's entry in source_kinds().
source_kind_entry sqlite_source_kind();

/// The SELECTs the SQLite source prepares for `q` (?1 after.stamp, ?2
/// after.recno, ?3 upper, ?4 limit), run in one read transaction: `ties` (the
/// rest of the after.stamp group), then `rest` (greater stamps). Exposed so
/// tests can EXPLAIN them. Throws source_error(invalid_identifier).
struct sqlite_page_sql_pair {
  std::string ties, rest;
};
sqlite_page_sql_pair sqlite_page_sql(const source_config& cfg, const page_query& q);

} // namespace stampede
