// A stop request (SIGTERM, Ctrl-C, engine::stop) and its drain deadline.
//
// Operation: `request()` sets the flag and, the first time, the monotonic
//   time it happened. Everything after a stop (the cycle's drain, the HTTP
//   client's drain, the rest of a run) is bounded by `deadline(drain_timeout)`
//   = that time + engine.drain_timeout.
// Concurrency: lock-free atomics and clock_gettime only, so `request()` is
//   async-signal-safe (call it from a signal handler); read from any thread.
// Limitations: a stop cannot be withdrawn; make a new token per run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace stampede {

class stop_token {
public:
  using clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC in libstdc++

  /// Monotonic milliseconds (async-signal-safe).
  static std::int64_t monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }

  void request() {
    std::int64_t none = 0;
    at_ms_.compare_exchange_strong(none, monotonic_ms());
    flag_.store(true);
  }
  bool requested() const { return flag_.load(); }
  /// Monotonic ms of the first request; 0 when none.
  std::int64_t requested_at_ms() const { return at_ms_.load(); }
  /// Milliseconds left until the drain deadline (<= 0: passed); a large
  /// value when no stop was requested.
  std::int64_t drain_left_ms(std::chrono::milliseconds drain_timeout) const {
    const auto at = at_ms_.load();
    if (at == 0)
      return INT64_MAX / 2;
    return at + drain_timeout.count() - monotonic_ms();
  }

private:
  std::atomic<bool> flag_{false};
  std::atomic<std::int64_t> at_ms_{0};
};

} // namespace stampede
