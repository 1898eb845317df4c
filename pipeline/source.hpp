// The source database: keyset pages of ERP rows, in (stamp, recno) order.
//
// Operation: `source::open(cfg)` connects to the configured database (SQLite
//   now; PostgreSQL arrives in a later issue). `read_page` returns the rows
//   strictly after a keyset position (stamp, recno) and with stamp <= upper,
//   ordered by (stamp, recno), at most `limit` of them; the caller continues
//   from `page.end` until `page.last`. Mapped cells are read as text into the
//   page arena: INTEGER as decimal, REAL as the shortest round-trip decimal,
//   TEXT/BLOB as stored, NULL as a null cell. `D_E_L_E_T_ = '*'` marks a row
//   deleted. The SQLite file is opened read-only and never created.
// Concurrency: one `source` per thread; an instance is not thread-safe.
// Limitations: table and column names must match [A-Za-z0-9_]+ (they are
//   quoted into SQL; values are always bound). Stamps are UTC text
//   "YYYY-MM-DD HH:MM:SS.fff" compared as text, so every row's stamp must use
//   that exact format. Column names compare case-insensitively (SQLite rules).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

enum class source_errc {
  ok,
  open_failed,         // file missing / unreadable / not a database; unsupported kind
  no_such_table,
  no_such_column,
  query_failed,        // any other SQL error
  invalid_identifier,  // a table/column name outside [A-Za-z0-9_]
};
std::string_view to_string(source_errc c);

struct source_error : std::runtime_error {
  source_error(source_errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  source_errc code;
};

struct table_info {
  std::vector<std::string> columns;  // as declared, in table order
  bool has_stamp_index = false;      // an index whose first column is the stamp column
};

struct page_query {
  std::string table;
  std::vector<std::string> columns;  // mapped columns, read as text
  std::string key_column;            // record key, read as text
  keyset_pos after;                  // strictly after (stamp, recno); stamp "" = from the start
  std::string upper;                 // stamp <= upper; "" = no upper bound
  std::uint32_t limit = 5000;        // >= 1
};

class source {  // one per thread; not thread-safe
public:
  /// SQLite: opens cfg.path read-only (throws source_error open_failed when it
  /// does not exist). PostgreSQL: throws source_error (arrives in a later issue).
  static std::unique_ptr<source> open(const source_config& cfg);
  virtual ~source() = default;

  /// The SOURCE's clock, UTC "YYYY-MM-DD HH:MM:SS.fff".
  virtual std::string now_stamp() = 0;

  /// Columns and stamp index of `table`; nullopt when there is no such table.
  virtual std::optional<table_info> describe(const std::string& table) = 0;

  /// Fills `out`: clears it (keeping `service`/`seq` and buffer capacity), then
  /// sets columns, arena, cells, rows[i].key/stamp/recno/deleted (prior = none),
  /// end (= q.after when empty) and last = (rows < limit).
  virtual void read_page(const page_query& q, row_page& out) = 0;

  /// The rows whose key column equals one of `keys` (the resend queue): fills
  /// `out` like read_page (q.table, q.columns and q.key_column are used; the
  /// keyset fields are ignored; `end` is empty, `last` true), at most one row
  /// per key, in the order of `keys`. Returns the keys no row has any more.
  virtual std::vector<std::string> read_by_keys(const page_query& q,
                                                const std::vector<std::string>& keys,
                                                row_page& out) = 0;

  /// Rows with stamp <= upper ("" = all rows), for progress/ETA.
  virtual std::uint64_t count_rows(const std::string& table, const std::string& upper) = 0;
};

/// The SELECTs the SQLite source prepares for `q` (?1 after.stamp, ?2
/// after.recno, ?3 upper, ?4 limit), run in one read transaction: `ties` (the
/// rest of the after.stamp group), then `rest` (greater stamps). Exposed so
/// tests can EXPLAIN them. Throws source_error(invalid_identifier).
struct sqlite_page_sql_pair {
  std::string ties, rest;
};
sqlite_page_sql_pair sqlite_page_sql(const source_config& cfg, const page_query& q);

/// True when `name` is non-empty and only [A-Za-z0-9_].
bool is_safe_identifier(std::string_view name);

/// stamp + d (d may be negative), in the same "YYYY-MM-DD HH:MM:SS.fff" format.
/// Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" and 1..9 fraction digits (or a
/// 'T' separator); the result always has milliseconds. Throws
/// std::invalid_argument on any other text.
std::string stamp_add(std::string_view stamp, duration d);

} // namespace stampede
