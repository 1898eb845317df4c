// The engine: every long-lived resource of a stampede process, and the one
// typed API the CLI (and later a web page) calls.
//
// Operation: the constructor opens the state store (taking its lock), starts
//   one http_client, makes ONE target_runtime per [targets.NAME] (its
//   authenticator and circuit breaker live as long as the engine, so an OAuth
//   token is shared by every service and cycle of that target), the metrics
//   registry (and its exporter when metrics.listen is set) and the CAF actor
//   system. Then:
//     - run_cycle(svc): applies pending requests (`before_cycle`), runs one
//       cycle (actors/cycle.hpp) through its target's runtime, and records
//       the service's failures in a row / last error in its state;
//     - run_once(svcs): one cycle per service in dependency order (`after`,
//       pipeline/service_graph.hpp; ties by id), stops early on a stop
//       request; a service after one whose cycle failed does not run: its
//       result has errc::waiting and says which dependency failed and why
//       (kept in its state's last_error for `status`, without counting as a
//       failure of its own);
//     - run_continuous(svcs): initial loads first in dependency order (held
//       back the same way), then each service when `service_scheduler` says
//       so (schedules, failure backoff, dependencies), until stop(); returns
//       one summed result per service (flat memory) whose ok/code/error are
//       those of the service's last cycle: a worker whose target came back
//       and whose later cycles succeeded ends ok (the failures were logged
//       as they happened);
//     - stop(): async-signal-safe; the current cycle drains, bounded by
//       engine.drain_timeout from the stop (actors/stop.hpp), and so is the
//       HTTP client's drain at destruction;
//     - status(), targets(), heartbeat_ms(): what a status page shows; subscribe(): progress
//       samples (~4/s) and each finished cycle;
//     - the source backlog of each service it runs (engine/backlog.hpp):
//       measured on the running thread (never a CAF worker) at the end of a
//       cycle and, in continuous mode, one service per idle turn, each at
//       most every backlog_interval, through one source connection of its
//       own; kept for status() and the stampede_source_backlog_* gauges.
// Concurrency: run_* from one thread at a time (cycles run one after
//   another; each cycle is parallel inside). stop(), status(), targets() and
//   stopping() may be called from any thread; observers run on the thread
//   that called run_*. subscribe() before running.
// Limitations: one engine per state directory (the store's lock); the
//   services of one process share its transformers' CAF workers.
#pragma once

#include "actors/cycle.hpp"
#include "actors/errc.hpp"
#include "actors/stop.hpp"
#include "engine/backlog.hpp"
#include "pipeline/config.hpp"
#include "target/target_runtime.hpp"
#include "storage/ledger.hpp"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede {

class metrics_registry;

/// Thrown by the engine's constructor: why it cannot start.
struct engine_error : std::runtime_error {
  engine_error(errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  errc code;
};

struct engine_options {
  /// A stop shared with a signal handler; nullptr: the engine's own (stop()).
  stop_token* stop = nullptr;
  /// Start the Prometheus exporter when metrics.listen is set.
  bool serve_metrics = true;
  /// Runs right before every cycle, on the running thread, while no cycle
  /// holds any service state: applies resend / checkpoint / replay requests
  /// (engine/requests.hpp apply_pending_requests).
  std::function<void(state_store&)> before_cycle;
  /// Continuous mode only: runs between cycles (after each cycle and at most
  /// every 200 ms while idle), on the running thread, no cycle running.
  /// Applies what arrived meanwhile (requests, resend_schedule as it falls
  /// due) and returns the services that now have work to send: they run now
  /// rather than at their next slot (service_scheduler::wake). A throw is
  /// logged and the loop goes on (the next cycle's before_cycle reports a
  /// store that stays broken).
  std::function<std::vector<std::uint32_t>(state_store&)> between_cycles;
};

struct engine_observer {
  std::function<void(const cycle_progress&)> progress;  // while a cycle runs
  std::function<void(const cycle_result&)> cycle_done;  // every cycle, skipped ones too
};

/// One service as a status page shows it.
struct service_status {
  std::uint32_t id = 0;
  std::string name;
  std::string schedule;             // "every 15m offset 5m"
  service_state state;              // from the store: checkpoint, counts, last error, failures
  bool running = false;             // a cycle of it is running now
  std::int64_t next_due_ms = 0;     // continuous mode: next cycle (unix ms); 0 = not scheduled
  source_backlog backlog;           // its last measurement by this worker (measured false: none yet)
};

class engine {
public:
  /// Throws engine_error: state store (errc::store_failed; locked by another
  /// process, ...), metrics.listen (errc::bad_config), HTTP client.
  engine(const config& cfg, engine_options opts = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  const config& cfg() const;
  state_store& store();
  /// The metrics registry (nullptr when metrics.listen is empty).
  metrics_registry* metrics();
  /// "http://host:port/metrics" when the exporter serves, else "".
  std::string metrics_url() const;

  void subscribe(engine_observer o);

  cycle_result run_cycle(const service_config& svc, bool initial_only = false);
  std::vector<cycle_result> run_once(const std::vector<const service_config*>& svcs,
                                     bool initial_only = false);
  std::vector<cycle_result> run_continuous(const std::vector<const service_config*>& svcs);

  /// Async-signal-safe.
  void stop();
  bool stopping() const;

  std::vector<service_status> status(const std::vector<const service_config*>& svcs);
  /// Unix ms of the run loop's last sign of life: a turn of the continuous
  /// loop (at least every 200 ms when idle), a cycle's progress sample (~4/s)
  /// or a cycle's end; 0 before run_*. Any thread (the web monitor's /healthz).
  std::int64_t heartbeat_ms() const;
  /// Whether run_* is running now (false before, and after it returned).
  bool looping() const;
  /// Continuous mode: runs `service` as soon as no cycle runs, rather than
  /// at its next slot (the web monitor's "run now"; service_scheduler::wake:
  /// a service backing off after failures keeps its backoff). Any thread.
  /// Ignored by run_once.
  void run_now(std::uint32_t service);
  std::vector<target_runtime_status> targets() const;

  /// The runtime of a configured target (nullptr when unknown).
  target_runtime* runtime(const std::string& target);

private:
  struct impl;
  std::unique_ptr<impl> p_;
};

} // namespace stampede
