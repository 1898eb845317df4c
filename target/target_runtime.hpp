// target_runtime: what lives as long as the process for ONE target: its
// authenticator (so an OAuth2 token is shared by every service and cycle),
// its circuit breaker, and the observers of its HTTP exchanges.
//
// Operation: the engine makes one per [targets.NAME] at start; every
//   send_driver of that target (one per service and cycle) uses it. The
//   circuit breaker opens after `breaker_failures` consecutive target-level
//   failures: while open, batches fail at once with failure_class::circuit_open
//   and nothing is sent; after `breaker_cooldown` one batch is let through
//   (half-open): success closes it, failure opens it again.
//   Observers (exchange_observer) see every HTTP request of the target, token
//   requests included, every target-level batch failure and every breaker
//   transition. An exchange_logger (debug request summaries) is always
//   registered; add metrics with add_observer(std::make_shared<http_probe>(..)).
//   The setup gate holds whether the target's setup requests were sent this
//   life (send_driver runs them before the first batch; the engine connects
//   its load/save to the state store so an unchanged setup is not re-sent).
// Concurrency: the authenticator and the setup gate are used on the
//   http_client's thread only;
//   the breaker, add_observer(), notify*() and status() are thread-safe.
//   Observers are called on the thread that reports (the client thread).
// Limitations: one http_client per runtime (the engine may share one client
//   between targets). The runtime must outlive every send_driver batch using
//   it; a background token refresh still running after it is gone reports to
//   the observers it had (they are kept alive until then).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "target/exchange.hpp"
#include "target/http_client.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stampede {

class authenticator;
class circuit_breaker;

struct target_runtime_status {
  std::string target;
  breaker_state breaker = breaker_state::closed;
  std::uint32_t consecutive_failures = 0;
  std::string last_failure;          // reason of the last target-level failure ("" = none)
  duration breaker_retry_in{0};      // open: time until a batch may probe the target
  std::uint64_t token_fetches = 0;
};

class target_runtime {
public:
  target_runtime(const target_config& tgt, http_client& client);
  ~target_runtime();
  target_runtime(const target_runtime&) = delete;
  target_runtime& operator=(const target_runtime&) = delete;

  const target_config& config() const { return tgt_; }
  http_client& client() { return client_; }
  authenticator& auth() { return *auth_; }
  const std::shared_ptr<authenticator>& auth_ptr() const { return auth_; }
  circuit_breaker& breaker() { return *breaker_; }
  target_runtime_status status() const;

  /// [[targets.NAME.setup]] of this runtime: sent once, before the first
  /// batch (send_driver); touched on the HTTP client's thread only.
  struct setup_gate {
    enum class state { pending, running, done } st = state::pending;
    /// Batches waiting for the setup's end (nullptr = it succeeded).
    std::vector<std::function<void(const target_failure*)>> waiters;
    /// The hash last sent with success (the state store), and its update;
    /// unset: always send.
    std::function<std::optional<std::string>()> load;
    std::function<void(const std::string&)> save;
  };
  setup_gate& setup() { return setup_; }
  /// Hash of the setup requests (method, path, body of each, in order).
  std::string setup_hash() const;

  /// Adds an observer for the rest of the runtime's life.
  void add_observer(std::shared_ptr<exchange_observer> o);
  void notify(const exchange_event& e) const;
  void notify(const target_failure_event& e) const;
  void notify(const breaker_event& e) const;

private:
  struct observer_set;  // shared with the authenticator's token hook

  target_config tgt_;
  http_client& client_;
  std::shared_ptr<authenticator> auth_;
  std::unique_ptr<circuit_breaker> breaker_;
  std::shared_ptr<observer_set> obs_;
  setup_gate setup_;
};

}  // namespace stampede
