// Request / record counters of stampede-target (the GET /stats body).
//
// Operation: handlers count into a local `stats_delta` while processing one
//   request and add it once with `stats::add`, so a 1000-record batch costs a
//   handful of atomic adds. `to_json` renders the documented /stats body.
// Concurrency: all members thread-safe (atomics; the per-service table is
//   guarded by a shared_mutex, written only when a new service appears).
// Limitations: counters are not persisted in the state file; live_keys is
//   recomputed from the records on load (`set_live`).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

namespace stampede::target {

struct stats_delta {
  std::uint64_t records = 0, creates = 0, updates = 0, deletes = 0, duplicates = 0, replays = 0,
                record_errors = 0, unchanged_updates = 0;
  std::int64_t live_keys = 0;
};

class stats {
public:
  std::atomic<std::uint64_t> requests{0}, batches{0}, fault_5xx{0}, fault_429{0},
      fault_dropped{0}, fault_malformed{0};

  void add(std::uint32_t service, const stats_delta& d);
  void set_live(std::uint32_t service, std::int64_t live);
  std::string to_json() const;
  void clear();

private:
  struct counters {
    std::atomic<std::uint64_t> records{0}, creates{0}, updates{0}, deletes{0}, duplicates{0},
        replays{0}, record_errors{0}, unchanged_updates{0};
    std::atomic<std::int64_t> live_keys{0};
    void add(const stats_delta& d);
  };
  counters& service(std::uint32_t id);

  counters total_;
  mutable std::shared_mutex mu_;
  std::map<std::uint32_t, std::unique_ptr<counters>> services_;
};

}  // namespace stampede::target
