// One export cycle of one service: spawn, run, drain, summarize.
//
// Operation: `run_cycle` loads the service state, spawns the service's
//   pipeline (spawn_pipeline) and a driver that runs the extractor and then
//   flushes the reconciler (spawn_driver), and waits. While waiting it
//   samples the actors' typed status for `on_progress` and forwards a stop
//   request to the extractor. After a stop, the WHOLE drain (pages still
//   outstanding, batches at the target, the final flush) is bounded by the
//   stop token's deadline (stop time + engine.drain_timeout); when it passes
//   the cycle ends with errc::drain_timeout and `left` says what was still in
//   flight (re-read and resent by the next run: idempotency keys make that
//   harmless). A batch that failed at the target level fails the cycle with
//   errc::target_failed and the first cause (cycle_counts::target_error).
// Concurrency: call from a non-actor thread (it blocks); one cycle per
//   service at a time. The stop token may be set from any thread.
// Limitations: the initial load is the first cycle of a service whose state
//   says it is not complete; it runs from the checkpoint without lookback.
//   After a drain timeout the cycle still waits for the detached extractor
//   and reconciler to leave their current page read / commit (they use the
//   store and config).
#pragma once

#include "actors/errc.hpp"
#include "actors/interfaces.hpp"
#include "actors/sender.hpp"
#include "actors/stop.hpp"
#include "pipeline/config.hpp"
#include "pipeline/reconcile.hpp"
#include "storage/ledger.hpp"

#include <caf/fwd.hpp>

#include <array>
#include <functional>
#include <string>

namespace stampede {

class metrics_registry;

struct cycle_progress {
  std::uint32_t service = 0;
  bool initial_load = false;
  std::uint64_t rows_read = 0;
  std::uint64_t rows_expected = 0;   // 0 = unknown (incremental)
  std::uint64_t records_sent = 0;    // records handed to HTTP
  std::uint64_t records_done = 0;    // rows with a durable outcome this cycle: created,
                                     // updated, deleted, failed or skipped as unchanged
  std::uint64_t in_flight = 0;       // batches at the target
  double seconds = 0;
  bool done = false;
};

/// What a drain timeout left behind.
struct drain_left {
  std::uint64_t batches_in_flight = 0;   // at the target, outcome not durable
  std::uint64_t records_in_flight = 0;
  std::uint64_t batches_waiting = 0;     // accepted by the sender, not started
  std::uint64_t pages_unfinished = 0;    // read, not yet durable
  bool any() const {
    return batches_in_flight || records_in_flight || batches_waiting || pages_unfinished;
  }
};

struct cycle_result {
  std::uint32_t service = 0;
  bool initial_load = false;
  bool stopped = false;              // interrupted by a stop request
  bool ok = false;
  errc code = errc::none;            // why !ok (errc::none when ok)
  std::string error;                 // readable cause when !ok
  cycle_counts counts;
  std::uint64_t rows_read = 0;
  double seconds = 0;
  std::string checkpoint_stamp;
  std::int64_t checkpoint_recno = 0;
  bool initial_load_complete = false;
  std::array<std::uint64_t, 4> records{};  // service records by record_status after the cycle
  drain_left left;                   // set with errc::drain_timeout
  bool skipped = false;              // initial_load_only and the load was already complete
  std::string bounds_note;           // why the cycle's bounds are not the usual ones
                                     // (plan_bounds: an open transaction holds the upper
                                     // bound back, a checkpoint set by hand); "" = usual
};

struct cycle_options {
  bool initial_load_only = false;    // `run --initial-load`: skip services already loaded
  std::function<void(const cycle_progress&)> on_progress;   // ~4 times a second
  const stop_token* stop = nullptr;                         // SIGTERM/SIGINT, engine::stop
  bool detached = true;              // extractor and reconciler on their own threads
  metrics_registry* metrics = nullptr;                      // probes when set
  std::chrono::milliseconds tick{250};                      // progress and stop polling
};

/// Runs one cycle of `svc`; `start_batch` sends one batch to its target
/// (the engine passes its target's send_driver; tests a fake).
cycle_result run_cycle(caf::actor_system& sys, const config& cfg, const service_config& svc,
                       state_store& store, batch_starter start_batch, const cycle_options& opts);

} // namespace stampede
