// The CLI side of running the engine: signals, progress, summaries, exit codes.
//
// Operation: `install_stop_handlers` makes SIGTERM/SIGINT request `g_stop`
//   (the engine drains, bounded by engine.drain_timeout). `progress_display`
//   prints the engine's progress samples and one line per finished cycle.
//   `print_summary` prints the per-service table; `run_report` prints, on
//   stderr, failed services, what a drain timeout left, and records in Error
//   or Cancelled with the most frequent reasons, and returns the exit code
//   (commands.hpp): ok, records_failed, failed.
// Concurrency: everything on the CLI's thread, except the signal handler
//   (async-signal-safe: stop_token::request and write(2) only).
// Limitations: a second SIGINT/SIGTERM (2 s or more after the first) exits at
//   once (exit 1) without draining.
#pragma once

#include "actors/cycle.hpp"
#include "engine/engine.hpp"
#include "pipeline/config.hpp"
#include "tools/stampede/commands.hpp"
#include "web/cycle_history.hpp"
#include "web/server.hpp"

#include <string>
#include <vector>

namespace stampede::cli {

/// Requested by SIGTERM/SIGINT once `install_stop_handlers()` ran.
extern stop_token g_stop;
void install_stop_handlers();

class progress_display {
public:
  explicit progress_display(const std::string& mode, const config& cfg);
  void update(const cycle_progress& p);
  void done(const cycle_result& r);
  /// Continuous mode: cycles that sent nothing and succeeded print no line.
  void quiet_when_idle(bool q) { quiet_idle_ = q; }
  bool idle_quiet() const { return quiet_idle_; }

private:
  const config& cfg_;
  bool enabled_ = true;
  bool tty_ = false;
  bool quiet_idle_ = false;
  double last_print_ = -10;
  std::int64_t last_drain_print_ms_ = 0;  // the last "draining ..." line (monotonic ms)
};

/// An engine and, when `[metrics] listen` is set, its web server (the
/// monitor, /healthz, /readyz, /metrics: web/server.hpp), which is destroyed
/// first. Use it like a pointer to the engine.
struct worker {
  std::unique_ptr<engine> eng;
  std::shared_ptr<cycle_history> cycles;  // fed by the engine, shown by the web monitor
  std::unique_ptr<web_server> web;
  engine* operator->() const { return eng.get(); }
  engine& operator*() const { return *eng; }
  worker() = default;
  worker(worker&&) = default;
  worker& operator=(worker&&) = default;
  ~worker();
};

/// An engine for the CLI: its web server's URLs and progress printed, `g_stop`
/// as its stop; the web pages show `svcs` (the services this process runs).
/// Throws engine_error.
/// `log_cycles`: one log line per service cycle (the demo's tour prints its own).
worker make_engine(const config& cfg, const std::vector<const service_config*>& svcs,
                   progress_display& progress, bool log_cycles = true);

void print_summary(const std::vector<cycle_result>& rs, const config& cfg);

/// Prints what went wrong (stderr) and returns the exit code of a run over
/// `svcs`: failed when a cycle failed (drain timeouts included), else
/// records_failed when records of `svcs` are in Error or Cancelled in the
/// store, else ok.
int run_report(const std::vector<cycle_result>& rs, engine& e,
               const std::vector<const service_config*>& svcs);

} // namespace stampede::cli
