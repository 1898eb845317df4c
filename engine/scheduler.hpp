// When each service of a continuous run goes next, and how a failing one
// backs off.
//
// Operation: `service_scheduler` keeps one due time per service. `start`
//   sets each to its schedule's next instant (pipeline/schedule.hpp). After a
//   cycle, `completed` sets the next one:
//     - the cycle failed (source, target, state store, transform; not a stop):
//       the service backs off: `failure_backoff` = 1 s after the first
//       failure, doubling with each further failure in a row, capped at
//       5 minutes or the schedule's interval when that is shorter; the count
//       of failures in a row is kept (and persisted by the engine in
//       service_state::consecutive_failures, so a restart keeps backing off);
//     - it succeeded: the failure count resets and the schedule decides; an
//       `always` service whose cycle delivered nothing (no create, update or
//       delete succeeded) idles `always_idle` (1 s) instead of spinning.
//   `due(now)` picks the service due earliest; ties (coinciding schedules)
//   in dependency order (`after`, pipeline/service_graph.hpp), then by id, so
//   a dependent due together with its dependencies starts after they
//   finished. A service is held back while a service it runs after (among
//   these services) has failed its last cycle, or is held back itself:
//   `held_by(i)` names that dependency, `due` skips it, and
//   `newly_held(now)` returns each held service once when it falls due (the
//   engine logs why and records it for `status`). When the dependency
//   succeeds the dependent, overdue by then, runs next. `wake(i)` makes a
//   service with new work (a resend, a replay) due now instead of at its
//   next slot.
// Concurrency: none (the engine's run loop owns it).
// Limitations: times are unix ms (wall clock); a clock jump moves due times.
#pragma once

#include "actors/cycle.hpp"
#include "pipeline/config.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace stampede {

inline constexpr std::chrono::milliseconds failure_backoff_first{1000};
inline constexpr std::chrono::milliseconds failure_backoff_max{300000};
inline constexpr std::chrono::milliseconds always_idle{1000};

/// Delay before the next try of a service whose last `failures` cycles in a
/// row failed (failures >= 1; 0 gives 0).
std::chrono::milliseconds failure_backoff(const schedule& s, std::uint32_t failures);

class service_scheduler {
public:
  service_scheduler(std::vector<const service_config*> services, int utc_offset_minutes);

  /// Due times from the schedules; `failures[i]` (optional) restores the
  /// failures in a row, and a service with failures waits its backoff first.
  void start(std::int64_t now_ms, const std::vector<std::uint32_t>& failures = {});

  /// The service due at `now_ms` that has waited longest and is not held
  /// back (ties in dependency order), or nullopt.
  std::optional<std::size_t> due(std::int64_t now_ms) const;

  /// The dependency (index) holding service `i` back: one it runs after
  /// whose last cycle failed or that is held back itself; nullopt if none.
  std::optional<std::size_t> held_by(std::size_t i) const;

  /// Services due at `now_ms` and held back that were not returned since
  /// they were last held (each hold is reported once).
  std::vector<std::size_t> newly_held(std::int64_t now_ms);

  /// The earliest due time of any service.
  std::int64_t next_wake() const;

  /// A cycle of service `i` ended at `now_ms` with `r`.
  void completed(std::size_t i, const cycle_result& r, std::int64_t now_ms);

  /// Service `i` has work now (records queued for resend, a replay): it is
  /// due at `now_ms` unless due earlier. A service backing off after failed
  /// cycles keeps its backoff (its retry sends the work). Its schedule
  /// resumes after that cycle (`completed`).
  void wake(std::size_t i, std::int64_t now_ms);

  std::int64_t due_at(std::size_t i) const { return due_.at(i); }
  std::uint32_t failures(std::size_t i) const { return failures_.at(i); }
  std::size_t size() const { return services_.size(); }
  const service_config& service(std::size_t i) const { return *services_.at(i); }

private:
  std::vector<const service_config*> services_;
  int utc_offset_;
  std::vector<std::int64_t> due_;
  std::vector<std::uint32_t> failures_;
  std::vector<std::size_t> rank_;                // position in dependency order
  std::vector<std::vector<std::size_t>> deps_;   // indexes of the services each runs after
  std::vector<bool> reported_;                   // this hold was returned by newly_held
};

/// Whether a result counts as a failed cycle for the backoff (a stop or a
/// drain timeout does not: the process is going away; nor does a cycle held
/// back by a failed dependency, errc::waiting: it did not run).
bool failed_cycle(const cycle_result& r);

} // namespace stampede
