// The state store: ledger, checkpoints and service state in one RocksDB.
//
// Operation: `state_store::open(dir)` opens (creating if missing) a RocksDB
//   with one column family per concern:
//     - "ledger":      key_codec(service u16, record key string) -> ledger_entry
//     - "checkpoints": key_codec(service u16) -> service_state
//     - "meta":        "schema" -> format version;
//                      "setup/" + name -> hash of the target's setup requests
//                      last sent with success;
//                      "target/" + name -> target_health (circuit breaker as
//                      the worker last saw it, for `stampede status`)
//     - "log_items":   key_codec(service, record key, u32 item no) -> log_item
//                      (one per attempt kept by the retention policy)
//     - "resend":      key_codec(service, record key) -> i64 due unix ms
//                      (the resend queue, independent of the lookback)
//     - "batches":     key_codec(service, batch id) -> pending_batch
//                      (async batches submitted, results not yet applied)
//     - "events":      key_codec(service, i64 time ms, u32 seq) -> service_event
//                      (checkpoint moves, resend requests: who and what)
//   `apply()` writes every change of one step (ledger, log items, resend
//   queue, pending batches, events) and the service state (the checkpoint)
//   in ONE WriteBatch, so a crash never leaves a checkpoint ahead of the
//   ledger entries it covers, nor a log item without its entry.
// Concurrency: RocksDB is thread-safe; one writer per service is assumed (the
//   service's reconciler). Reads may come from any thread. `commit(sync=true)`
//   blocks on fsync: never call it on a CAF scheduler worker thread.
// Limitations: values use a small versioned binary format (see ledger.cpp);
//   read-only opens (status command) see the state as of open time; one
//   that finds a directory a writer is still creating (LOCK, no CURRENT yet)
//   retries for up to 3 s.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stampede {

enum class record_status : std::uint8_t { pending = 0, success = 1, error = 2, cancelled = 3 };
std::string_view to_string(record_status s);  // "pending" | "success" | "error" | "cancelled"

/// What we know of one record at the target.
struct ledger_entry {
  std::uint64_t content_hash = 0;   // hash of the JSON data last sent
  std::string remote_id;            // id the target returned ("" = none yet)
  record_status status = record_status::pending;
  std::uint32_t attempts = 0;       // attempts for the current content
  std::string last_stamp;           // S_T_A_M_P_ of the version last sent
  std::uint8_t last_op = 0;         // record_op of the last send (0 create, 1 update, 2 delete)
  std::int64_t updated_ms = 0;      // unix ms of the last outcome
  std::string last_error;           // empty on success
  // --- value format v2 ---
  std::int64_t created_ms = 0;      // unix ms of the first outcome of this record
  std::string changed_by;           // who made the last change: "" = the worker, else
                                    // the user who asked for a resend (--by)
  std::uint32_t generation = 0;     // idempotency-key generation; a manual resend or a
                                    // replay bumps it so an idempotent API sends again
  std::string batch_id;             // status pending: the async batch holding its result
  std::uint32_t items = 0;          // log items written so far (= the next item's number)
  // --- value format v3 (written only when not empty) ---
  /// Values the target returned besides the id (response.returns), e.g.
  /// {"rev","2-9f.."}: used as {rev} in later requests and :rev in write-back.
  std::vector<std::pair<std::string, std::string>> returned;
  friend bool operator==(const ledger_entry&, const ledger_entry&) = default;
};

/// One attempt (or manual action) in a record's log.
struct log_item {
  std::int64_t time_ms = 0;
  record_status status = record_status::pending;  // the outcome of this attempt
  std::uint8_t op = 0;              // record_op sent
  std::uint32_t attempt = 0;        // the record's attempt number (1-based; 0 = an action)
  int http_status = 0;              // 0: transport error or no request
  std::string message;              // error text, "resend requested", ...
  std::string sent;                 // payload sent (capped; "" when not retained)
  std::string received;             // answer received for this record (capped)
  std::string by;                   // "" = the worker, else the user
  friend bool operator==(const log_item&, const log_item&) = default;
};

/// One record of an async batch awaiting its result: enough to apply the
/// result without the source row.
struct pending_record {
  std::string key;
  std::uint8_t op = 0;
  std::uint64_t content_hash = 0;
  std::string remote_id;
  std::string stamp;
  std::int64_t recno = 0;
  std::uint32_t attempts = 0;       // attempts before this one
  std::int8_t prior_status = -1;
  std::uint32_t generation = 0;
  std::string idempotency_key;
  friend bool operator==(const pending_record&, const pending_record&) = default;
};

struct pending_batch {
  std::string batch_id;
  std::int64_t submitted_ms = 0;
  std::vector<pending_record> records;  // in the order the batch sent them
  friend bool operator==(const pending_batch&, const pending_batch&) = default;
};

/// Something that happened to a service (not to one record).
struct service_event {
  std::int64_t time_ms = 0;
  std::string by;                   // "" = the worker
  std::string text;                 // "checkpoint set from X to Y", ...
  friend bool operator==(const service_event&, const service_event&) = default;
};

/// A stamp range to send again without moving the checkpoint (`stampede replay`).
struct replay_range {
  std::string from, to;             // stamps, inclusive
  std::uint32_t generation = 1;     // idempotency-key generation for this replay
  std::string by;
  friend bool operator==(const replay_range&, const replay_range&) = default;
};

/// A target's health as the worker last saw it (written on every circuit
/// breaker transition; `stampede status` shows it).
struct target_health {
  std::string target;                   // [targets.NAME]
  std::uint8_t breaker = 0;             // 0 closed, 1 open, 2 half-open (pipeline breaker_state)
  std::uint32_t consecutive_failures = 0;
  std::string last_failure;             // the reason that opened it (redacted; "" = none)
  std::int64_t changed_ms = 0;          // unix ms of the transition
  std::int64_t retry_at_ms = 0;         // open: when one batch may probe the target again
  friend bool operator==(const target_health&, const target_health&) = default;
};

/// Per-service progress; the checkpoint lives here.
struct service_state {
  std::string checkpoint_stamp;     // keyset position: strictly after (stamp, recno)
  std::int64_t checkpoint_recno = 0;
  bool initial_load_complete = false;
  std::string newest_delivered_stamp;  // for freshness lag
  std::int64_t last_run_ms = 0;        // unix ms when the last cycle finished
  std::array<std::uint64_t, 4> counts{};  // records by record_status (index = enum value)
  std::uint64_t created = 0, updated = 0, deleted = 0, failed = 0;  // cumulative outcomes
  // --- value format v2 ---
  std::vector<replay_range> replays;   // requested, not yet done (done by the next cycle)
  std::string last_error;              // why the last cycle failed ("" = it did not)
  std::int64_t last_error_ms = 0;
  std::uint32_t consecutive_failures = 0;  // cycles failed in a row (service backoff)
  friend bool operator==(const service_state&, const service_state&) = default;
};

/// Everything one step writes, applied with the service state in ONE WriteBatch.
struct state_changes {
  std::vector<std::pair<std::string, ledger_entry>> ledger;
  struct item { std::string key; std::uint32_t no = 0; log_item value; };
  std::vector<item> items;
  std::vector<std::pair<std::string, std::uint32_t>> items_erase;   // key, item no
  std::vector<std::pair<std::string, std::int64_t>> resend;         // key -> due unix ms
  std::vector<std::string> resend_erase;
  std::vector<pending_batch> batches;
  std::vector<std::string> batches_erase;                            // batch ids
  std::vector<service_event> events;
  bool empty() const {
    return ledger.empty() && items.empty() && items_erase.empty() && resend.empty() &&
           resend_erase.empty() && batches.empty() && batches_erase.empty() && events.empty();
  }
};

/// Version written to meta/"schema" (decimal text). open() refuses newer ones.
/// 2: column families log_items, resend, batches, events; value format v2.
inline constexpr std::uint32_t state_schema_version = 2;

enum class store_errc { ok = 0, io_error, corruption, bad_format, locked };

struct store_error : std::runtime_error {
  store_error(store_errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  store_errc code;
};

class state_store {
public:
  /// Opens or creates the store in `dir`. `read_only` opens without taking the
  /// lock (for `stampede status` while a run is going). Throws store_error.
  static std::unique_ptr<state_store> open(const std::string& dir, bool read_only = false);
  virtual ~state_store() = default;

  /// Ledger entries for `keys` of `service`, in the same order (nullopt = never seen).
  virtual std::vector<std::optional<ledger_entry>>
  get_many(std::uint32_t service, const std::vector<std::string_view>& keys) = 0;

  virtual std::optional<ledger_entry> get(std::uint32_t service, std::string_view key) = 0;

  /// State of a service (default-constructed when never run).
  virtual service_state load_state(std::uint32_t service) = 0;

  /// Atomically writes `updates` and `state` in one WriteBatch.
  virtual void commit(std::uint32_t service,
                      const std::vector<std::pair<std::string, ledger_entry>>& updates,
                      const service_state& state, bool sync) = 0;

  /// Atomically writes `changes` and `state` in one WriteBatch.
  virtual void apply(std::uint32_t service, const state_changes& changes,
                     const service_state& state, bool sync) = 0;

  /// Log items of one record, oldest first: fn(item no, item); false stops.
  virtual void scan_items(std::uint32_t service, std::string_view key,
                          const std::function<bool(std::uint32_t, const log_item&)>& fn) = 0;

  /// The resend queue of `service` in key order: fn(key, due unix ms); false stops.
  virtual void scan_resend(std::uint32_t service,
                           const std::function<bool(std::string_view, std::int64_t)>& fn) = 0;

  /// Async batches of `service` submitted and not yet applied, by batch id.
  virtual std::vector<pending_batch> pending_batches(std::uint32_t service) = 0;

  /// Events of `service`, oldest first; false stops.
  virtual void scan_events(std::uint32_t service,
                           const std::function<bool(const service_event&)>& fn) = 0;

  /// Calls fn(key, entry) for each ledger entry of `service` in key order;
  /// stop early by returning false.
  virtual void scan(std::uint32_t service,
                    const std::function<bool(std::string_view, const ledger_entry&)>& fn) = 0;

  /// Services that have a stored state, ascending.
  virtual std::vector<std::uint32_t> services() = 0;

  /// Stores `t` under its target name (not synced: a lost write only loses
  /// what `status` shows until the next transition).
  virtual void put_target(const target_health& t) = 0;

  /// Every stored target health, by name.
  virtual std::vector<target_health> targets() = 0;

  /// The hash of the setup requests last sent to `target` with success
  /// ([[targets.NAME.setup]]), nullopt when none were. A store that does not
  /// keep it (a test fake) says none: every worker sends its setup.
  virtual std::optional<std::string> setup_hash(const std::string& target) {
    (void)target;
    return std::nullopt;
  }
  /// Stores it (synced: a lost write only means one more setup request).
  virtual void put_setup_hash(const std::string& target, const std::string& hash) {
    (void)target;
    (void)hash;
  }
};

} // namespace stampede
