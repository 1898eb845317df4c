// The request inbox: manual actions on a service's state (resend, checkpoint
// set, replay) that work whether or not a worker holds the state directory.
//
// Operation: a request is a small JSON file (below) written atomically into
//   `<state.dir>/requests/` by `write_request` (temp file, fsync, rename,
//   fsync of the directory), named `<UTC time>-<random>.json` so names sort by
//   time. Whoever holds the RocksDB store read-write applies the inbox with
//   `apply_pending_requests`: the CLI itself when no worker runs (its
//   read-write open succeeded), otherwise the worker before a service's next
//   cycle. Each file is applied through ONE `state_store::apply(..., sync=true)`
//   (ledger entries, log items, resend queue, events and the service state
//   together; a resend of more than `apply_chunk` records takes several) and is
//   deleted only after that commit: a request is never lost if the process
//   dies first. Re-applying a request after such a crash is harmless: a resend
//   by status finds the records already moved, one by key bumps the
//   generation once more. A file that cannot be read, or names a service the
//   config does not have, or holds an invalid stamp, is moved to
//   `requests/rejected/` (with a `.reason` text file beside it) and logged;
//   it is never silently dropped.
//
//   File format (one JSON object, version 1):
//     {"version":1,"kind":"resend","service":19,"by":"ana","created_ms":1700000000000,
//      "keys":["101","102"]}                       resend these records
//     {... "kind":"resend", "keys":[...], "create_missing":true}   stampede audit --repair:
//                                                    keys without an entry get a new Pending one
//     {... "kind":"resend", "status":"error"}        every Error record (--all, --status error)
//     {... "kind":"resend", "status":"cancelled"}    every Cancelled record
//     {... "kind":"checkpoint_set", "to":"2024-05-01 00:00:00.000", "recno":0}
//     {... "kind":"replay", "from":"2024-05-01 00:00:00.000", "to":"2024-05-02 00:00:00.000"}
//
//   Apply semantics:
//     resend: each chosen ledger entry gets status pending, attempts 0,
//       generation + 1 (a new idempotency key, so an idempotent API executes
//       it again), changed_by = by, batch_id cleared; a log item
//       {attempt 0, "resend requested by NAME", by}; it enters the resend
//       queue due at once (due 0); service_state::counts move from its old
//       status to pending; one service_event. Unknown keys are reported, the
//       others are still applied. A record awaiting an async batch result
//       (batch_id set) is skipped and reported: the result is about to arrive.
//     checkpoint_set: checkpoint_stamp = the normalized stamp, recno as given
//       (0); event "checkpoint set from OLD #r to NEW #r by NAME". Rewinding
//       re-reads rows, but rows whose content was delivered unchanged are
//       still skipped; use replay to send them again.
//     replay: appends replay_range{from, to, generation, by} to
//       service_state::replays and an event; the extractor sends that stamp
//       range again in the next cycle, with a new idempotency-key generation,
//       without moving the checkpoint, and clears the range. generation =
//       max(unix seconds now, largest pending replay generation + 1): unique
//       and larger than any earlier replay's.
// Concurrency: `write_request` may run from any process at any time.
//   `apply_*` write the service's ledger entries and service_state: they must
//   not run while that service's cycle is running (its reconciler holds the
//   service state in memory and would overwrite the change). A worker calls
//   `apply_pending_requests(..., only_service)` right before each cycle of that
//   service and loads the service state afterwards. `apply_*` use
//   `commit(sync=true)`: never call them on a CAF scheduler thread.
// Limitations: a resend by status scans the service's whole ledger (key
//   order; about 1M entries/s). Requests are applied in file-name order; two
//   requests written in the same millisecond apply in random-suffix order.
//   Temp files (`.tmp-*`) left by a crash during write_request are ignored.
#pragma once

#include "pipeline/config.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

enum class request_kind { resend, checkpoint_set, replay };
std::string_view to_string(request_kind k);  // "resend" | "checkpoint_set" | "replay"

/// What a resend chooses: the listed keys, every Error or every Cancelled record.
enum class resend_scope { keys, error, cancelled };

struct request {
  request_kind kind = request_kind::resend;
  std::uint32_t service = 0;
  std::string by;                   // who asked (--by, $USER, "cli")
  std::int64_t created_ms = 0;      // when it was asked (unix ms)
  // resend
  resend_scope scope = resend_scope::keys;
  std::vector<std::string> keys;    // scope keys
  // scope keys: a key with no ledger entry gets a new Pending one and is
  // queued too (`stampede audit --repair`: rows missing from the ledger),
  // instead of being reported unknown. JSON "create_missing": true.
  bool create_missing = false;
  // checkpoint_set: to, recno; replay: from, to (stamps "YYYY-MM-DD HH:MM:SS.fff")
  std::string from, to;
  std::int64_t recno = 0;
  friend bool operator==(const request&, const request&) = default;
};

/// A file that is not a valid request (bad JSON, missing or wrong field).
struct request_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The JSON text of a request (format above).
std::string to_json(const request& r);

/// Parses a request file's text. Throws request_error naming the field.
request parse_request(std::string_view json);

/// Checks and normalizes the request against the config: the service is
/// configured, stamps are valid ("YYYY-MM-DD[ HH:MM:SS[.fff]]", normalized to
/// "YYYY-MM-DD HH:MM:SS.fff"), replay from <= to, a keys resend has keys, `by`
/// is not empty. Throws request_error with a message for the user.
void validate(request& r, const config& cfg);

/// `<state_dir>/requests`.
std::string requests_dir(const std::string& state_dir);

/// Writes `r` atomically into the inbox (creating it); returns the file path.
/// Throws std::system_error / std::filesystem::filesystem_error on I/O errors.
std::string write_request(const std::string& state_dir, const request& r);

/// Inbox files waiting to be applied, in apply order (full paths).
std::vector<std::string> pending_request_files(const std::string& state_dir);

/// The outcome of one request.
struct applied_request {
  std::string file;                 // the inbox file ("" when applied directly)
  request req;                      // as parsed (kind/service meaningless when rejected)
  bool rejected = false;            // invalid: moved to requests/rejected/, nothing changed
  std::string error;                // why it was rejected
  std::uint64_t changed = 0;        // resend: records queued; else 1
  std::vector<std::string> unknown_keys;    // resend by key: no ledger entry
  std::vector<std::string> in_flight_keys;  // resend by key: awaiting an async batch, skipped
  std::string summary;              // one line for the user / the log
};

/// Applies one (validated) request to the store; `now_ms` stamps log items
/// and events. Throws store_error (nothing of a failed commit is written).
applied_request apply_request(state_store& store, const request& r, std::int64_t now_ms,
                              std::size_t apply_chunk = 10000);

/// Applies every inbox file in order (only those of `only_service` when
/// given), deleting each after its commit; rejects invalid ones (see above).
/// Logs one line per request (spdlog default logger: info when applied, warn
/// when rejected) unless `log_lines` is false (the CLI prints them itself).
/// A store_error propagates and leaves that file and the later ones in place.
std::vector<applied_request> apply_pending_requests(state_store& store,
                                                    const std::string& state_dir,
                                                    const config& cfg,
                                                    std::optional<std::uint32_t> only_service = {},
                                                    bool log_lines = true);

/// What `submit_request` did.
struct submit_result {
  std::string file;                 // the inbox file written
  bool queued = false;              // a worker holds the store: it applies the file
  std::optional<applied_request> mine;  // applied now (queued == false)
  std::vector<applied_request> others;  // earlier inbox files applied on the way
};

/// The CLI path: validates `r` (request_error: nothing written), writes it into
/// the inbox, then tries to open the store read-write. Locked (a worker runs):
/// returns queued. Opened: applies the whole inbox in order and closes the
/// store. Other store errors propagate; the file stays in the inbox.
submit_result submit_request(const std::string& state_dir, const config& cfg, request r);

/// Each service's `resend_schedule` (continuous mode): when it is due, every
/// record of the service in Error is queued for resend at once, as
/// `stampede resend --status error --by resend_schedule` would.
/// Operation: the first `tick` only plans each service's next due time (a
/// worker that starts does not resend at once); a later `tick` at or after it
/// applies the resend and plans the next one. Services without a
/// resend_schedule are ignored.
/// Concurrency: one thread (the worker's run loop, before a cycle).
class resend_scheduler {
public:
  explicit resend_scheduler(const config& cfg) : cfg_(cfg) {}
  /// Applies the resends due at `now_ms`; throws store_error.
  std::vector<applied_request> tick(state_store& store, std::int64_t now_ms);

private:
  const config& cfg_;
  std::vector<std::pair<std::uint32_t, std::int64_t>> due_;  // service -> next due (unix ms)
};

} // namespace stampede
