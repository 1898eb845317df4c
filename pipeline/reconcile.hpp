// Reconcile logic: batch outcomes -> ledger entries, and the checkpoint.
//
// Operation: `reconcile_state` is fed every `batch_result` of a cycle (in any
//   order). `apply()` returns the ledger updates for that batch and advances
//   the service state: counts by status, cumulative created/updated/deleted/
//   failed, the newest delivered stamp, and the checkpoint. Pages complete
//   when all their parts have been applied; the checkpoint moves over the
//   contiguous prefix of complete pages only (page seq 0, 1, 2, ...), and
//   never backwards (lookback re-reads pages behind it). The caller commits
//   updates + state() in one WriteBatch.
// Concurrency: single-threaded (owned by the reconciler actor).
// Limitations: page sequence numbers restart at 0 every cycle; call
//   `begin_cycle()` before the first batch of a cycle.
#pragma once

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

class reconcile_state {
public:
  reconcile_state(service_state initial, std::uint32_t max_attempts);

  void begin_cycle();

  /// Ledger updates for one batch; advances counts and (maybe) the checkpoint.
  /// `now_ms` stamps the entries.
  std::vector<std::pair<std::string, ledger_entry>> apply(const batch_result& r,
                                                          std::int64_t now_ms);

  /// Number of pages (from seq 0) whose every part has been applied, contiguous.
  std::uint64_t complete_pages() const { return next_page_; }

  const service_state& state() const { return state_; }
  service_state& state() { return state_; }
  const cycle_counts& counts() const { return cycle_; }

private:
  struct page_progress {
    std::uint32_t parts = 0;
    std::uint32_t done = 0;
    keyset_pos end;
  };
  void advance_checkpoint();

  service_state state_;
  std::uint32_t max_attempts_;
  std::map<std::uint64_t, page_progress> pages_;  // incomplete or beyond the prefix
  std::uint64_t next_page_ = 0;
  cycle_counts cycle_;
};

} // namespace stampede
