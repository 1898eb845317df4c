// circuit_breaker: stops hammering a target that keeps failing at the target
// level (unreachable, credentials, route, exhausted).
//
// Operation: closed -> open after `failures` consecutive target-level
//   failures; while open, admit() refuses every batch (the send driver fails
//   it at once with failure_class::circuit_open, nothing is sent). Once
//   `cooldown` has passed since it opened, the next admit() moves it to
//   half_open and lets exactly that one batch through (the probe); others are
//   still refused until the probe ends: success() closes it, failure() opens
//   it again for another cooldown, abandon() (the probe ended without a
//   verdict: cancelled, or it never reached the target) lets the next batch
//   probe. A success in any state closes it and resets the count: the target
//   answered. Every transition is reported to the `on_change` callback.
// Concurrency: thread-safe (one mutex); on_change runs on the caller's
//   thread after the lock is released.
// Limitations: counts batches, not requests; a batch admitted before the
//   breaker opened still runs to its end.
#pragma once

#include "pipeline/config.hpp"
#include "target/exchange.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace stampede {

struct breaker_snapshot {
  breaker_state state = breaker_state::closed;
  std::uint32_t consecutive_failures = 0;
  std::string last_failure;                 // reason of the last failure() ("" = none)
  duration retry_in{0};                     // open: time left of the cooldown
};

class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  using now_fn = std::function<clock::time_point()>;
  using change_fn = std::function<void(breaker_state from, breaker_state to, const std::string& reason)>;

  /// `failures` >= 1 (0 is taken as 1). `now` is replaceable for tests.
  circuit_breaker(std::uint32_t failures, duration cooldown, now_fn now = &clock::now);

  /// Set before use (not thread-safe against concurrent admit()).
  void on_change(change_fn fn) { on_change_ = std::move(fn); }

  /// May a batch go out now? Sets `*probe` when this batch is the half-open probe.
  bool admit(bool* probe = nullptr);
  void success();
  void failure(const std::string& reason);
  /// A probe ended without a verdict (cancelled): the next batch may probe.
  void abandon(bool probe);

  breaker_snapshot snapshot() const;

private:
  void notify(breaker_state from, breaker_state to, const std::string& reason);

  const std::uint32_t failures_;
  const duration cooldown_;
  now_fn now_;
  change_fn on_change_;
  mutable std::mutex mu_;
  breaker_state state_ = breaker_state::closed;
  std::uint32_t consecutive_ = 0;
  std::string last_failure_;
  clock::time_point opened_at_{};
  bool probing_ = false;
};

}  // namespace stampede
