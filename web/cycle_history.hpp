// The last cycles of each service, for the web monitor's Cycles page.
//
// Operation: the runner subscribes `add` to the engine's finished cycles;
//   each service keeps its newest `per_service` entries (older ones drop).
//   An idle cycle (ok, nothing read or sent) right after another idle one
//   only bumps that entry's `repeats` and end time, so an `always` service
//   does not push its real cycles out with empty ones. Skipped cycles
//   (initial load already complete) are not kept. The newest progress sample
//   of a running cycle is kept too (the overview's "initial load 45%").
// Concurrency: add() on the engine's running thread, recent() on the web
//   server's threads: a mutex guards the entries.
// Limitations: in memory: a restarted worker starts with an empty history
//   (the store keeps the counts, the log monitor every record).
#pragma once

#include "actors/cycle.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace stampede {

struct cycle_entry {
  std::uint32_t service = 0;
  std::int64_t end_ms = 0;           // unix ms the cycle (the last repeat) ended
  double seconds = 0;
  bool initial_load = false;
  bool ok = false;
  std::string outcome;               // "done" | "failed" | "not run" | "stopped"
  std::string error;
  std::uint64_t rows_read = 0;
  cycle_counts counts;               // reasons cleared
  std::uint32_t repeats = 1;         // idle cycles folded into this entry
};

class cycle_history {
public:
  explicit cycle_history(std::size_t per_service = 20) : per_service_(per_service) {}
  void add(const cycle_result& r, std::int64_t now_ms);
  /// The newest progress sample of a running cycle (the engine's progress
  /// observer); add() of its end clears it.
  void progress(const cycle_progress& p);
  std::optional<cycle_progress> current(std::uint32_t service) const;
  /// Newest first; all services when `service` is nullopt (then by end time).
  std::vector<cycle_entry> recent(std::optional<std::uint32_t> service = std::nullopt) const;

private:
  std::size_t per_service_;
  mutable std::mutex mx_;
  std::map<std::uint32_t, std::deque<cycle_entry>> by_service_;  // newest at the back
  std::map<std::uint32_t, cycle_progress> running_;
};

} // namespace stampede
