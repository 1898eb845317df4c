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
// Concurrency: the authenticator and breaker are used on the http_client's
//   thread; status() may be called from any thread.
// Limitations: one http_client per runtime (the engine may share one client
//   between targets).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/http_client.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace stampede {

class authenticator;
class circuit_breaker;

enum class breaker_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };
std::string_view to_string(breaker_state s);  // "closed" | "open" | "half_open"

struct target_runtime_status {
  std::string target;
  breaker_state breaker = breaker_state::closed;
  std::uint32_t consecutive_failures = 0;
  std::string last_failure;          // reason of the last target-level failure ("" = none)
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

private:
  target_config tgt_;
  http_client& client_;
  std::shared_ptr<authenticator> auth_;
  std::unique_ptr<circuit_breaker> breaker_;
};

}  // namespace stampede
