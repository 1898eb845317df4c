// The units of work that flow extract -> transform -> send -> reconcile.
//
// Operation: the extractor fills a `row_page` (one keyset page, cells in one
//   arena, the prior ledger state of each row attached); a transformer turns it
//   into one or more `send_batch`es (each record's JSON `data` object in one
//   arena); the sender answers each batch with a `batch_result`; the reconciler
//   persists outcomes and moves the checkpoint.
// Concurrency: each object has one owner at a time; actors pass them as
//   shared_ptr and never touch one after handing it on.
// Limitations: a batch never spans pages, so page_size should be a multiple
//   of the target's batch_records for full batches.
#pragma once

#include "storage/ledger.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stampede {

enum class record_op : std::uint8_t { create, update, del };
std::string_view to_string(record_op op);  // "create" | "update" | "delete"

struct send_batch;

/// Keyset position: strictly-after semantics on (stamp, recno).
struct keyset_pos {
  std::string stamp;        // as the source wrote it (its own order); parse_stamp reads it
  std::int64_t recno = 0;
  friend bool operator==(const keyset_pos&, const keyset_pos&) = default;
};
bool operator<(const keyset_pos& a, const keyset_pos& b);

/// True for a key a source made up for a row without one (a NULL or empty
/// key column, source/source.hpp vet_row): real keys are never given this form.
inline bool is_label_key(std::string_view key) {
  return key.size() > 1 && key.front() == '<' &&
         (key.rfind("<NULL ", 0) == 0 || key.rfind("<empty ", 0) == 0);
}

/// A composite key (a service's key_columns) as one record key: the values
/// joined by '|', a '|' or '\' inside a value written as "\|" / "\\"
/// ("01|000001"). Appends part `i` (0-based) to `key` (no allocation
/// once `key` has the capacity: the readers reuse it row after row).
void append_key_part(std::string& key, std::string_view part, std::size_t i);

/// The values of a composite key of `n` parts; nullopt when `key` is not one.
std::optional<std::vector<std::string>> split_composite_key(std::string_view key, std::size_t n);

/// One page of source rows, in (stamp, recno) order.
struct row_page {
  std::uint32_t service = 0;
  std::uint64_t seq = 0;                 // page number within the run, from 0
  std::shared_ptr<const std::vector<std::string>> columns;  // mapped columns, in order
  struct cell {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
    bool null = true;
  };
  std::string arena;                     // bytes of every non-null cell
  std::vector<cell> cells;               // rows() * columns->size(), row-major
  struct row_meta {
    std::string key;                     // record key (key_column as text)
    std::string stamp;
    std::int64_t recno = 0;
    bool deleted = false;                // D_E_L_E_T_ = '*'
    bool key_null = false;               // the key column is NULL (key is then "")
    /// Why the row cannot be sent (a stamp that is not a date-time, a NULL
    /// or empty key): it becomes a record error; "" = none.
    std::string problem;
    std::optional<ledger_entry> prior;   // ledger state before this run, if any
  };
  std::vector<row_meta> rows;
  keyset_pos end;                        // last row without a problem: the checkpoint candidate
  keyset_pos next;                       // last row read: where the next page starts
  bool last = false;                     // no more rows below the upper bound
  /// Not part of the keyset walk (resend by key, replay of a stamp range, a
  /// resumed async batch): `end` is empty and its batches are `detached`.
  bool detached = false;
  /// Resend keys whose row is no longer in the source (read_by_keys found
  /// none), with their ledger entries: they become record errors.
  std::vector<std::pair<std::string, std::optional<ledger_entry>>> gone;
  /// An async batch submitted by an earlier cycle (resume_batch_id set):
  /// the transformer hands it to the sender as it is (the page has no rows).
  std::shared_ptr<send_batch> resume;
  bool force = false;                    // replay: send even rows whose content did not change
  std::uint32_t generation = 0;          // replay: idempotency-key generation at least this

  std::size_t size() const { return rows.size(); }
  std::string_view at(std::size_t row, std::size_t col, bool& is_null) const {
    const cell& c = cells[row * columns->size() + col];
    is_null = c.null;
    return std::string_view(arena).substr(c.off, c.len);
  }
};

/// One record ready to send.
struct out_record {
  std::string key;
  record_op op = record_op::create;
  std::uint64_t content_hash = 0;
  std::string remote_id;                 // update/delete: the id the target gave us
  /// update/delete: the other values the target returned earlier
  /// (ledger_entry::returned), for {name} placeholders ({rev}).
  std::vector<std::pair<std::string, std::string>> returned;
  std::string stamp;
  std::int64_t recno = 0;
  std::uint32_t attempts = 0;            // attempts before this one
  std::int8_t prior_status = -1;         // record_status of the prior ledger entry, -1 = none
  std::uint32_t items = 0;               // prior entry's log item count (next item number)
  std::int64_t created_ms = 0;           // prior entry's created_ms (0 = new record)
  std::uint32_t generation = 0;          // idempotency-key generation (manual resend / replay bump it)
  std::string idempotency_key;           // hex(hash(service, key, content[, generation]))
  std::uint32_t data_off = 0;            // `data` JSON object in send_batch::arena
  std::uint32_t data_len = 0;
};

/// A row the transform could not map (a bad value): it is not sent; its ledger
/// entry becomes an error that keeps what the ledger knew (`prior`: remote id,
/// last operation, hash), so a fixed row still goes out as an update.
struct record_error {
  // A constructor, not an aggregate: clang 14 (the fuzz build) has no
  // parenthesized aggregate initialization, so emplace_back(key, msg, prior)
  // needs one.
  record_error() = default;
  record_error(std::string k, std::string msg, std::optional<ledger_entry> p = std::nullopt)
      : key(std::move(k)), message(std::move(msg)), prior(std::move(p)) {}
  std::string key;
  std::string message;                   // field, column, problem and value
  std::optional<ledger_entry> prior;
};

/// A batch for the sender. `page_seq`/`part`/`parts` let the reconciler move
/// the checkpoint only past pages whose every part is durable.
struct send_batch {
  std::uint32_t service = 0;
  std::uint64_t page_seq = 0;
  std::uint32_t part = 0;
  std::uint32_t parts = 1;               // set on every part once the page is split
  keyset_pos page_end;                   // checkpoint candidate once the page is durable
  std::vector<out_record> records;
  std::string arena;                     // data objects, back to back
  std::uint32_t skipped_unchanged = 0;   // rows of this page whose content hash matched
  std::uint32_t skipped_deleted = 0;     // deletes of records never delivered
  std::vector<record_error> record_errors;
  /// Not from this cycle's keyset walk: a resend, a replay, or an async batch
  /// submitted by an earlier cycle. Its page has an empty page_end, so it
  /// never moves the checkpoint (it is still a page: flushes wait for it).
  bool detached = false;
  /// Async batch submitted by an earlier cycle: poll this id, do not submit.
  std::string resume_batch_id;

  std::string_view data(const out_record& r) const {
    return std::string_view(arena).substr(r.data_off, r.data_len);
  }
  std::size_t bytes() const { return arena.size(); }
};

/// The outcome of one record of a batch.
struct record_outcome {
  bool ok = false;
  std::string remote_id;
  std::string error;                     // first error field's text, or transport error
  bool retryable = false;                // transport / 5xx / 429: resend may succeed
  int http_status = 0;                   // status of the answer that decided this record
  std::string received;                  // the answer for THIS record: its result object
                                         // (batches) or the response body (per record),
                                         // capped at max_received_bytes
  /// response.returns found in the answer (name, value), in config order.
  std::vector<std::pair<std::string, std::string>> returned;
  /// ok without a request: a delete under request.delete = "skip".
  bool not_sent = false;
};

/// Bytes of an answer kept per record in record_outcome::received.
inline constexpr std::size_t max_received_bytes = 4096;

/// Failure classes (docs/failure-classes.md). Target-level failures are not
/// the records' fault: their ledger state and attempts stay untouched and
/// the checkpoint does not move past them.
enum class failure_class : std::uint8_t {
  none = 0,
  unreachable,   // connection refused / DNS / TLS / reset, after retries
  credentials,   // 401/403 after one token refresh, or the token endpoint refused us
  route,         // 404/405 on a batch (or create) endpoint: wrong base_url or path
  exhausted,     // 408/429/5xx/timeouts/unreadable 2xx until max retries
  circuit_open,  // the target's circuit breaker is open: nothing was sent
  cancelled,     // the HTTP client stopped (shutdown) before an answer
};
std::string_view to_string(failure_class c);  // "unreachable", "credentials", ...

/// Why a whole batch failed at the target level.
struct target_failure {
  failure_class cls = failure_class::none;
  std::string reason;                    // HTTP status, server message; never a secret
  int http_status = 0;                   // 0: transport error / not sent
  std::string url;                       // the request URL (no credentials in it)
};

/// The sender's answer for a batch: outcomes in the batch's record order.
struct batch_result {
  std::shared_ptr<send_batch> batch;
  std::vector<record_outcome> outcomes;  // empty when `target` is set
  int http_status = 0;                   // last HTTP status seen (0: transport error)
  std::uint32_t http_attempts = 0;       // requests made, retries included
  /// Set: the batch failed at the target level; its records are untouched.
  std::optional<target_failure> target;
  /// Async: the batch was accepted under this id but was still processing at
  /// poll_timeout. Its records stay Pending with the id; a later cycle polls.
  std::string still_processing_batch_id;
  /// Requests retried because their outcome was unknown (unreadable 2xx,
  /// timeout after sending): repeated with the same idempotency keys.
  std::uint32_t unknown_outcome_retries = 0;
};

} // namespace stampede
