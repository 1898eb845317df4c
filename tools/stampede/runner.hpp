// Runs export cycles for the CLI: owns the state store, the HTTP client and
// the actor system, handles SIGTERM/SIGINT, prints progress and summaries.
//
// Operation: `run_once` runs one cycle per selected service in id order;
//   `run_continuous` first finishes initial loads in id order, then runs each
//   service when its schedule says so, until a stop signal.
// Concurrency: cycles run one at a time from the calling thread (each cycle is
//   itself parallel inside). Services 19-22 are meant to run as their own
//   workers (`--services 19`), so one process rarely has two busy services.
// Limitations: a second SIGINT/SIGTERM (2 s or more after the first) exits at
//   once (exit 1) without draining.
#pragma once

#include "actors/cycle.hpp"
#include "pipeline/config.hpp"
#include "tools/stampede/commands.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace stampede::cli {

/// Set by SIGTERM/SIGINT once `install_stop_handlers()` ran.
extern std::atomic<bool> g_stop;
void install_stop_handlers();

class progress_display {
public:
  explicit progress_display(const std::string& mode);
  void update(const cycle_progress& p, const std::string& name);
  void done(const cycle_result& r, const std::string& name);

private:
  bool enabled_ = true;
  bool tty_ = false;
  double last_print_ = -10;
};

class runner {
public:
  /// Throws std::runtime_error with a clear message (state dir locked, ...).
  runner(const config& cfg, const run_options& opts);
  ~runner();

  cycle_result cycle(const service_config& svc, bool initial_only);
  /// Exit code: ok, or failed when any cycle failed.
  int run_once(const std::vector<const service_config*>& svcs);
  int run_continuous(const std::vector<const service_config*>& svcs);
  const std::vector<cycle_result>& results() const { return results_; }
  static void print_summary(const std::vector<cycle_result>& rs, const config& cfg);

private:
  struct impl;
  std::unique_ptr<impl> p_;
  void record(const cycle_result& r);
  std::vector<cycle_result> results_;  // run_once: one per cycle; continuous: one per service
  bool aggregate_ = false;
};

} // namespace stampede::cli
