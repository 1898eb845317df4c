// The source database interface: keyset pages of ERP rows, in (stamp, recno)
// order, and the registry of source kinds.
//
// Operation: `source::open(cfg)` looks the configured kind up in the registry
//   (source_kinds(): one entry per module under source/, e.g. source/sqlite/)
//   and connects. `read_page` returns the rows strictly after a keyset
//   position (stamp, recno) and with stamp <= upper, ordered by (stamp,
//   recno) in the database's own order, at most `limit` of them (more only to
//   finish a group of NULL-recno rows at one stamp, which a keyset position
//   cannot split); the caller continues from `page.next` until `page.last`.
//   Positions hold the stamp as the database wrote it (exact paging); bounds
//   are `stamp` values (pipeline/stamp.hpp) the source writes the way its
//   column compares (`start_at`). Every row is vetted (vet_row): a stamp
//   parse_stamp cannot read, or a NULL or empty key, sets `problem` (the row
//   becomes a record error under a key that names the row) and never becomes
//   `page.end`, the checkpoint candidate. Mapped cells are read as text into
//   the page arena: INTEGER as decimal, REAL as the shortest round-trip
//   decimal, TEXT/BLOB as stored, NULL as a null cell. What a service reads
//   is its `table_spec` (spec_of): its table or a query (paged as a
//   subquery), its stamp/recno/deleted/key columns and a `where` whose
//   :name parameters are bound, never interpolated. The deleted column equal
//   to deleted_value (default `D_E_L_E_T_ = '*'`) marks a row deleted; with
//   no deleted column no row is. Keys lose their trailing spaces (trim_key);
//   a composite key is its values joined (append_key_part). Sources are
//   read-only: extraction never writes.
// Concurrency: one `source` per thread; an instance is not thread-safe.
// Limitations: table and column names must match [A-Za-z0-9_]+ (they are
//   quoted into SQL; values are always bound). A service's `where` and
//   `query` are SQL from the configuration, written into the statements as
//   they are (the configuration is trusted like the database credentials);
//   only `params` values come in, and always bound. A text stamp column compares
//   as text: bounds are written in the layouts of the table's newest stamps
//   (the smallest text for a start, the largest for the upper bound, rows past
//   the upper bound in time dropped as they are read), so a column that mixes
//   layouts (' ' and 'T', several zones) pages in text order and can read a
//   row of another layout a cycle late; `check` says which layouts it found.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "pipeline/stamp.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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
  source_error(source_errc c, const std::string& what, std::string hint = {})
      : std::runtime_error(what), code(c), hint(std::move(hint)) {}
  source_errc code;
  std::string hint;  // what to do, when the cause is known; else the kind's open_hint applies
};

struct table_info {
  std::vector<std::string> columns;  // as declared, in table order
  bool has_stamp_index = false;      // an index whose first column is the stamp column
};

/// What one service reads: its table (or query), its stamp, recno, deleted
/// and key columns, and its filter. spec_of(source, service) builds it from
/// the configuration; a bare table name converts to a spec with the default
/// column names.
struct table_spec {
  table_spec() = default;
  table_spec(std::string t) : table(std::move(t)) {}  // NOLINT: implicit on purpose
  table_spec(const char* t) : table(t) {}              // NOLINT
  std::string table;                 // source table; "" when `query` is set
  std::string query;                 // a SELECT, paged as a subquery instead of `table`
  std::string where;                 // extra condition; :name parameters bound from `params`
  std::vector<std::pair<std::string, std::string>> params;
  std::string stamp_column = "S_T_A_M_P_";
  std::string recno_column = "R_E_C_N_O_";
  std::string deleted_column = "D_E_L_E_T_";  // "" = no soft deletes
  std::string deleted_value = "*";   // deleted when the column equals it (trailing spaces ignored)
  std::string key_column;            // record key, read as text
  std::vector<std::string> key_columns;  // composite key (2+); then key_column is not read
  bool trim_key = true;              // drop trailing spaces of key values (CHAR padding)

  /// The key columns: key_columns, else {key_column}.
  std::vector<std::string> keys() const {
    return key_columns.empty() ? std::vector<std::string>{key_column} : key_columns;
  }
  /// The key's name in messages: "A1_COD", "A1_FILIAL|A1_COD".
  std::string key_name() const;
  /// "table SA1010" or "the query of ..." in messages.
  std::string what() const { return query.empty() ? "table " + table : "the service's query"; }
};

/// The spec of service `svc`: its own options, else `src`'s.
table_spec spec_of(const source_config& src, const service_config& svc);

/// `value` equals `deleted_value`, trailing spaces of `value` ignored.
inline bool is_deleted_value(std::string_view value, std::string_view deleted_value) {
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return !value.empty() && value == deleted_value;
}

struct page_query : table_spec {
  std::vector<std::string> columns;  // mapped columns, read as text
  keyset_pos after;                  // strictly after (stamp, recno); stamp "" = from the start
  std::optional<stamp> upper;        // stamp <= upper; nullopt = no upper bound
  std::uint32_t limit = 5000;        // >= 1
};

/// The rows of a service not read yet (source::backlog): after its checkpoint.
struct backlog_count {
  std::uint64_t rows = 0;       // rows strictly after the position; at most the cap
  bool capped = false;          // more than the cap exist (rows == cap)
  std::optional<stamp> oldest;  // the stamp of the first of them (nullopt: none, or unreadable)
};

/// What `check` found in a sample of a table's stamp column.
struct stamp_sample {
  std::size_t rows = 0;                                  // sampled
  std::vector<std::pair<std::string, std::size_t>> layouts;  // describe() -> count, most first
  std::vector<std::string> unreadable;                   // up to 5 examples parse_stamp rejects
  std::size_t unreadable_count = 0;
  std::size_t nulls = 0;
};

/// A recno no row has: stands for NULL in row_meta::recno and keyset_pos
/// (in SQLite NULLs sort first at a stamp, so (s, null_recno) is "after
/// every NULL recno row at s, before the others"; PostgreSQL sorts them last,
/// so there it is "done with s": see postgres_source.hpp).
inline constexpr std::int64_t null_recno = std::numeric_limits<std::int64_t>::min();

/// Vets one row read by a source: a stamp parse_stamp cannot read, a NULL
/// key (`r.key_null`) or an empty one sets `r.problem` and, for a bad key,
/// replaces r.key with a label naming the row ("<NULL key A1_COD> R_E_C_N_O_
/// 42"; NULL-recno rows add the stamp and their ordinal `nth` among NULL
/// recnos at that stamp in the page). Returns false when the row has a problem.
bool vet_row(row_page::row_meta& r, const std::string& key_column,
             const std::string& stamp_column, const std::string& recno_column, std::size_t nth);

/// vet_row for every row of a page read in (stamp, recno) order, numbering
/// the NULL-recno rows of each stamp (1, 2, ...) for their labels.
void vet_rows(row_page& page, const std::string& key_column, const std::string& stamp_column,
              const std::string& recno_column);


/// Sets out.end (the last row whose stamp parse_stamp reads, else `from` when
/// it reads, else empty: no checkpoint move) and out.next (the last row, else
/// `from`) after a source filled `out.rows`.
void set_page_positions(row_page& out, const keyset_pos& from);

/// Counts the layouts of `texts` (nullopt = NULL) into a stamp_sample.
stamp_sample summarize_stamps(const std::vector<std::optional<std::string>>& texts);

class source {  // one per thread; not thread-safe
public:
  /// Opens the configured kind (see source_kinds()); throws source_error
  /// (open_failed when the database cannot be reached).
  static std::unique_ptr<source> open(const source_config& cfg);
  virtual ~source() = default;

  /// The SOURCE's clock (UTC).
  virtual stamp now() = 0;

  /// The position just before every row of `table` with stamp >= `from`
  /// (the lookback window's start, a replay range's start), its stamp written
  /// the way the column compares.
  virtual keyset_pos start_at(const table_spec& t, stamp from) = 0;

  /// The start of the oldest transaction still open in the database, when
  /// the source can see it (PostgreSQL); nullopt otherwise.
  virtual std::optional<stamp> oldest_open_transaction() { return std::nullopt; }

  /// Up to `n` stamps from each end of the spec's stamp column (for `check`).
  virtual stamp_sample sample_stamps(const table_spec& t, std::size_t n) = 0;

  /// Columns of the table and whether an index starts with t.stamp_column;
  /// nullopt when there is no such table. With t.query: the columns of its
  /// result (has_stamp_index true: not known); throws source_error with the
  /// database's message when the query (or t.where) does not prepare.
  virtual std::optional<table_info> describe(const table_spec& t) = 0;

  /// Fills `out`: clears it (keeping `service`/`seq` and buffer capacity), then
  /// sets columns, arena, cells, rows[i].key/stamp/recno/deleted/problem
  /// (prior = none), end and next (set_page_positions from q.after) and
  /// last = (rows < limit).
  virtual void read_page(const page_query& q, row_page& out) = 0;

  /// The rows whose key equals one of `keys` (the resend queue): fills
  /// `out` like read_page (the spec and q.columns are used; the keyset fields
  /// are ignored; `end` is empty, `last` true), at most one row per key, in
  /// the order of `keys`. With trim_key a key also finds its row when the
  /// column holds it padded with trailing spaces; a composite key is split
  /// (split_composite_key) and matched column by column. Returns the keys no
  /// row has any more.
  virtual std::vector<std::string> read_by_keys(const page_query& q,
                                                const std::vector<std::string>& keys,
                                                row_page& out) = 0;

  /// Rows with stamp <= upper (nullopt = all rows), for progress/ETA.
  virtual std::uint64_t count_rows(const table_spec& t, std::optional<stamp> upper) = 0;

  /// The backlog: the rows of `t` (its `where` and params applied) strictly
  /// after `after` in the order read_page walks (stamp, recno; "" = every
  /// row), whatever their stamp (also past the safety delay), counted up to
  /// `cap` (>= 1; the count stops there: bounded cost), and the stamp of the
  /// oldest of them. Read-only, in one read transaction / snapshot.
  virtual backlog_count backlog(const table_spec& t, const keyset_pos& after,
                                std::uint64_t cap) = 0;

  /// The tables and views `describe` can find, for `check`'s "did you mean"
  /// hint on a missing table; empty when the source does not list them.
  virtual std::vector<std::string> table_names() { return {}; }

  /// What `check` warns about this connection, each {message, what to do}
  /// (PostgreSQL: a user that cannot see other sessions' transactions).
  virtual std::vector<std::pair<std::string, std::string>> check_warnings() { return {}; }
};

/// True when `name` is non-empty and only [A-Za-z0-9_].
inline bool is_safe_identifier(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// `id` in double quotes, exactly as written (PostgreSQL then keeps its case;
/// SQLite compares it case-insensitively). Only for names that passed
/// require_identifier.
inline std::string quote_identifier(const std::string& id) { return "\"" + id + "\""; }

/// Throws source_error(invalid_identifier) naming `what` (e.g. "table") when
/// `name` is not is_safe_identifier.
inline void require_identifier(const std::string& name, std::string_view what) {
  if (!is_safe_identifier(name))
    throw source_error(source_errc::invalid_identifier,
                       std::string(what) + " `" + name +
                           "` is not a plain SQL identifier; use only letters, digits and _");
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
  std::string (*index_advice)(const table_spec& t);
  /// The `[source]` key that says where the database is ("source.path",
  /// "source.dsn"), and what to check when it cannot be opened: for check's errors.
  std::string_view location_key;
  std::string_view open_hint;
  /// Column names match exactly (PostgreSQL, quoted); else case-insensitively (SQLite).
  bool exact_names = false;
};

/// Every kind this build knows, in `[source] kind` order.
const std::vector<source_kind_entry>& source_kinds();
/// The entry of `k`; throws source_error(open_failed) for a kind this build lacks.
const source_kind_entry& source_kind_of(source_kind k);


} // namespace stampede
