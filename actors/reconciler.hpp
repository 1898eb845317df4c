// The reconciler: makes outcomes durable and moves the checkpoint.
//
// Operation: each batch_result goes through `reconcile_state::apply_all`
//   (ledger entries, log items, resend queue, counts, checkpoint over complete
//   pages) and is applied with the service state in ONE WriteBatch (not synced: the WAL survives a process
//   crash; the flush at the end of the cycle is synced). `flush(n, initial)`
//   answers once pages 0..n-1 are settled (every part applied), with the cycle_summary; it marks
//   the initial load complete only when `initial` is set and no batch of the
//   cycle failed at the target level. Errors: errc::store_failed.
//   With a write-back (`writeback` set), once a batch's outcomes are
//   committed the runner writes them back into the source (one transaction,
//   retried) and its outcomes are committed as log items of the records in a
//   second WriteBatch; a write-back never fails the cycle.
// Concurrency: spawn detached: RocksDB commits block.
// Limitations: one reconciler per service and state store.
#pragma once

#include "actors/interfaces.hpp"
#include "metrics/probes.hpp"
#include "pipeline/reconcile.hpp"
#include "pipeline/writeback.hpp"
#include "storage/ledger.hpp"

#include <vector>

namespace stampede {

struct reconciler_config {
  state_store* store = nullptr;
  std::uint32_t service = 0;
  service_state start;
  reconcile_policy policy;                 // max_attempts, resend backoff, retention
  std::shared_ptr<reconcile_probe> probe;  // optional
  /// [services.writeback]: runs after each durable commit (pipeline/writeback.hpp).
  std::shared_ptr<writeback_runner> writeback;
  std::string validate() const;
};

struct reconciler_state {
  static inline const char* name = "reconciler";
  std::uint32_t service = 0;
  state_store* store = nullptr;
  std::unique_ptr<reconcile_state> rs;
  std::shared_ptr<reconcile_probe> probe;
  std::shared_ptr<writeback_runner> writeback;
  std::uint32_t max_items = 20;
  struct flush_wait {
    std::uint64_t pages;
    bool initial_done;
    caf::typed_response_promise<cycle_summary> rp;
  };
  std::vector<flush_wait> flushes;
  std::uint64_t commits = 0;
  double commit_seconds = 0;
  std::string error;
};

reconciler_actor::behavior_type
reconciler_fn(reconciler_actor::stateful_pointer<reconciler_state> self, reconciler_config cfg);

/// The cycle summary (the flush reply; also in the reconciler's status).
cycle_summary summarize(const reconcile_state& rs);

} // namespace stampede
