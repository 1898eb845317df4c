// One export cycle of one service: spawn, run, drain, summarize.
//
// Operation: `run_cycle` loads the service state, spawns the reconciler
//   (detached), the sender, `engine.transformers` transformers and the
//   extractor (detached), asks the extractor to run, then asks the reconciler
//   to flush every page the extractor produced. A monitor thread samples the
//   actors' status for `on_progress` and forwards a stop request (SIGTERM) to
//   the extractor; after a stop, draining is bounded by engine.drain_timeout.
// Concurrency: call from a non-actor thread (it blocks); one cycle per
//   service at a time. `stop_token` may be set from any thread.
// Limitations: the initial load is the first cycle of a service whose state
//   says it is not complete; it runs from the checkpoint without lookback.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/http_client.hpp"
#include "pipeline/reconcile.hpp"
#include "metrics/registry.hpp"
#include "storage/ledger.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <string>

namespace stampede {

struct cycle_progress {
  std::uint32_t service = 0;
  bool initial_load = false;
  std::uint64_t rows_read = 0;
  std::uint64_t rows_expected = 0;   // 0 = unknown (incremental)
  std::uint64_t records_sent = 0;    // records handed to HTTP
  std::uint64_t in_flight = 0;       // batches at the target
  double seconds = 0;
  bool done = false;
};

struct cycle_result {
  std::uint32_t service = 0;
  bool initial_load = false;
  bool stopped = false;              // interrupted by a stop request
  bool ok = false;
  std::string error;
  cycle_counts counts;
  std::uint64_t rows_read = 0;
  double seconds = 0;
  std::string checkpoint_stamp;
  std::int64_t checkpoint_recno = 0;
  bool initial_load_complete = false;
};

struct cycle_options {
  bool initial_load_only = false;    // `run --initial-load`: skip services already loaded
  std::function<void(const cycle_progress&)> on_progress;   // ~4 times a second
  const std::atomic<bool>* stop = nullptr;                  // set on SIGTERM/SIGINT
  bool extractor_detached = true;                           // tests may run it scheduled
  metrics_registry* metrics = nullptr;                      // probes when set
};

cycle_result run_cycle(caf::actor_system& sys, const config& cfg, const service_config& svc,
                       state_store& store, http_client& client, const cycle_options& opts);

} // namespace stampede
