// The source database interface: keyset pages of ERP rows, in (stamp, recno)
// order, and the registry of source kinds.
//
// Operation: `source::open(cfg)` looks the configured kind up in the registry
//   (source_kinds(): one entry per module under source/, e.g. source/sqlite/)
//   and connects. `read_page` returns the rows
//   strictly after a keyset position (stamp, recno) and with stamp <= upper,
//   ordered by (stamp, recno), at most `limit` of them; the caller continues
//   from `page.end` until `page.last`. Mapped cells are read as text into the
//   page arena: INTEGER as decimal, REAL as the shortest round-trip decimal,
//   TEXT/BLOB as stored, NULL as a null cell. `D_E_L_E_T_ = '*'` marks a row
//   deleted. Sources are read-only: extraction never writes.
// Concurrency: one `source` per thread; an instance is not thread-safe.
// Limitations: table and column names must match [A-Za-z0-9_]+ (they are
//   quoted into SQL; values are always bound). Stamps are UTC text
//   "YYYY-MM-DD HH:MM:SS.fff" compared as text, so every row's stamp must use
//   that exact format.
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
  /// Opens the configured kind (see source_kinds()); throws source_error
  /// (open_failed when the database cannot be reached).
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

/// True when `name` is non-empty and only [A-Za-z0-9_].
inline bool is_safe_identifier(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// One source kind (a module under source/): how to open it and what `check`
/// says about it in its own dialect.
struct source_kind_entry {
  source_kind kind;
  std::string_view name;  // the `[source] kind` value
  /// Connects (read-only); throws source_error.
  std::unique_ptr<source> (*open)(const source_config& cfg);
  /// The `[source]` section of this kind before connecting (a missing file,
  /// an empty DSN): errors with the fix; empty when it can be tried.
  std::vector<config_diagnostic> (*check_config)(const config& cfg);
  /// "SQLite \"demo.db\"": names the database in check's info lines.
  std::string (*describe)(const source_config& cfg);
  /// The statement that creates the (stamp, recno) index `check` advises.
  std::string (*index_advice)(const source_config& cfg, const std::string& table);
};

/// Every kind this build knows, in `[source] kind` order.
const std::vector<source_kind_entry>& source_kinds();
/// The entry of `k`; throws source_error(open_failed) for a kind this build lacks.
const source_kind_entry& source_kind_of(source_kind k);

/// stamp + d (d may be negative), in the same "YYYY-MM-DD HH:MM:SS.fff" format.
/// Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" and 1..9 fraction digits (or a
/// 'T' separator); the result always has milliseconds. Throws
/// std::invalid_argument on any other text.
std::string stamp_add(std::string_view stamp, duration d);

} // namespace stampede
