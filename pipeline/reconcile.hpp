// Reconcile logic: batch outcomes -> ledger entries, log items, the resend
// queue, and the checkpoint.
//
// Operation: `reconcile_state` is fed every `batch_result` of a cycle (in any
//   order). `apply_all()` returns every change for that batch and advances
//   the service state: counts by status, cumulative created/updated/deleted/
//   failed, the newest delivered stamp, and the checkpoint. Per failure class
//   (docs/failure-classes.md):
//     - target-level (`batch_result::target`): no record is touched; the
//       page is marked failed, so the checkpoint never moves past it this
//       cycle; the cause is kept in counts().target_error.
//     - record-level: the record goes to Error with the message, attempts+1,
//       and into the resend queue, due after a per-record backoff; at
//       `max_attempts` it is Cancelled and leaves the queue. max_attempts 0 =
//       no automatic resend (Error waits for a manual resend).
//     - still processing (async poll_timeout): records stay Pending with the
//       batch id; the page counts as durable (a later cycle polls the id).
//   Log items (one per attempt) follow the retention policy: by default only
//   failed attempts, and successes of records that have a history, keep an
//   item; payloads are capped; at most `max_items` items per record (older
//   ones are erased in the same step).
//   Pages complete when all their parts have been applied; the checkpoint
//   moves over the contiguous prefix of complete, not failed pages only
//   (page seq 0, 1, 2, ...), and never backwards (lookback re-reads pages
//   behind it). `detached` batches (resends, replays, resumed async batches)
//   come with an empty page_end: they count as pages for flushes but never
//   move the checkpoint. The caller applies changes + state() in one WriteBatch.
// Concurrency: single-threaded (owned by the reconciler actor).
// Limitations: page sequence numbers restart at 0 every cycle; call
//   `begin_cycle()` before the first batch of a cycle.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace stampede {

/// What one cycle did, for summaries and status.
struct cycle_counts {
  std::uint64_t created = 0, updated = 0, deleted = 0, failed = 0;
  std::uint64_t cancelled = 0;           // failures that reached max_attempts
  std::uint64_t unchanged = 0;           // rows skipped by the content hash
  std::uint64_t skipped_deletes = 0;     // deletes of records never delivered
  std::uint64_t pages = 0, batches = 0;
  std::uint64_t pending = 0;             // records left Pending (async batch still processing)
  std::uint64_t resent = 0;              // records sent from the resend queue or a replay
  std::uint64_t target_failures = 0;     // batches that failed at the target level
  std::map<std::string, std::uint64_t> reasons;  // record error text -> count (this cycle)
  std::string target_error;              // first target-level failure: class, cause
  std::uint64_t sent() const { return created + updated + deleted + failed; }
};

/// What the delivery journal keeps (config [log] / target keys).
enum class payload_retention : std::uint8_t { none, failures, all };

struct reconcile_policy {
  std::uint32_t max_attempts = 5;        // then Cancelled; 0 = no automatic resend
  std::int64_t resend_backoff_ms = 60000;      // first resend after this, doubling...
  std::int64_t resend_backoff_max_ms = 3600000;  // ...up to this
  payload_retention payloads = payload_retention::failures;
  std::size_t payload_max_bytes = 4096;  // each of sent / received
  std::uint32_t max_items = 20;          // log items kept per record (>= 1)
};

/// The policy of a service's target and the [journal] settings.
reconcile_policy policy_for(const target_config& tgt, const journal_config& journal);

/// Delay before the resend of a record that failed `attempts` times.
std::int64_t resend_delay_ms(const reconcile_policy& p, std::uint32_t attempts);

class reconcile_state {
public:
  reconcile_state(service_state initial, std::uint32_t max_attempts);
  reconcile_state(service_state initial, reconcile_policy policy);

  void begin_cycle();

  /// Every change for one batch; advances counts and (maybe) the checkpoint.
  /// `now_ms` stamps the entries.
  state_changes apply_all(const batch_result& r, std::int64_t now_ms);

  /// Ledger updates only (tests and old callers): apply_all(r, now).ledger.
  std::vector<std::pair<std::string, ledger_entry>> apply(const batch_result& r,
                                                          std::int64_t now_ms);

  /// An async batch was accepted under `batch_id`: the batch with its
  /// records goes to the pending-batch family (stored before polling starts;
  /// a later cycle polls it if this process dies). Applying its result
  /// erases it in the same step.
  state_changes submitted(const send_batch& b, const std::string& batch_id, std::int64_t now_ms);

  /// Number of pages (from seq 0) whose every part has been applied, contiguous,
  /// none failed: the checkpoint is at the end of the last of them.
  std::uint64_t complete_pages() const { return next_page_; }
  /// Number of pages whose every part has been applied (failed or not): a
  /// flush for n pages can be answered once settled_pages() >= n.
  std::uint64_t settled_pages() const { return settled_; }
  const reconcile_policy& policy() const { return policy_; }

  const service_state& state() const { return state_; }
  service_state& state() { return state_; }
  const cycle_counts& counts() const { return cycle_; }

private:
  struct page_progress {
    std::uint32_t parts = 0;
    std::uint32_t done = 0;
    bool failed = false;                 // a part failed at the target level
    keyset_pos end;
  };
  void advance_checkpoint();
  void record_failed(state_changes& c, const out_record& rec, const std::string& message,
                     int http_status, const std::string& sent, const std::string& received,
                     std::int64_t now_ms);
  void add_item(state_changes& c, const std::string& key, ledger_entry& e, log_item item);
  std::string capped(std::string_view s) const;

  service_state state_;
  reconcile_policy policy_;
  std::map<std::uint64_t, page_progress> pages_;  // incomplete or beyond the prefix
  std::uint64_t next_page_ = 0;
  std::uint64_t settled_ = 0;
  cycle_counts cycle_;
  std::map<const send_batch*, std::string> async_ids_;  // submitted this cycle, result not applied
};

} // namespace stampede
