// One service's pipeline of actors, and the actor that drives one cycle of it.
//
// Operation: `spawn_pipeline` spawns, for one service and cycle,
//     reconciler <- sender <- transformer x engine.transformers <- extractor
//   wired with engine.queue_batches (K) and the target's in_flight (W) and
//   max_attempts. `spawn_driver` spawns an actor that asks the extractor to
//   `run`, then asks the reconciler to `flush` every page it produced
//   (marking the initial load complete unless the extraction was stopped),
//   and reports each step to a `driver_observer`. The cycle runner
//   (actors/cycle.cpp) and the actor test harness both use these two.
// Concurrency: with `detached` the extractor and reconciler get their own
//   threads (they block on SQLite and RocksDB); tests on the test_coordinator
//   pass detached = false. Observer callbacks run on the driver's thread.
// Limitations: one pipeline per service at a time (one reconciler writes a
//   service's state); a pipeline serves one cycle.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/sender.hpp"
#include "pipeline/config.hpp"
#include "pipeline/transform.hpp"
#include "pipeline/writeback.hpp"
#include "storage/ledger.hpp"

#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace stampede {

class metrics_registry;

struct pipeline_params {
  const config* cfg = nullptr;
  const service_config* service = nullptr;
  state_store* store = nullptr;
  service_state start;                          // state at cycle start
  bool initial_load = false;
  bool ledger_empty = false;                    // fresh initial load: skip ledger lookups
  std::shared_ptr<const transformer> tf;
  batch_starter start_batch;                    // usually send_driver::send
  metrics_registry* metrics = nullptr;          // probes when set
  bool detached = true;                         // extractor and reconciler on own threads
  std::shared_ptr<writeback_runner> writeback;  // [services.writeback]; run by the reconciler
};

struct pipeline_handles {
  extractor_actor ex;
  std::vector<transformer_actor> tfs;
  sender_actor snd;
  reconciler_actor rec;
  /// Sends an exit to every actor (no wait).
  void exit_all(caf::exit_reason reason) const;
};

/// Spawns the four stages of one service. Throws std::invalid_argument when
/// params lack the config, service, store, transformer or starter.
pipeline_handles spawn_pipeline(caf::actor_system& sys, const pipeline_params& params);

/// What the driver reports, on its own thread.
struct driver_observer {
  std::function<void(const extractor_status&)> extracted;   // `run` answered
  std::function<void(const cycle_summary&)> flushed;        // `flush` answered
  /// `run` or `flush` failed; `during_flush` says which.
  std::function<void(const caf::error&, bool during_flush)> failed;
};

/// Spawns the actor that runs one cycle on `p` (see Operation).
caf::actor spawn_driver(caf::actor_system& sys, const pipeline_handles& p, bool initial_load,
                        std::shared_ptr<const driver_observer> obs);

} // namespace stampede
