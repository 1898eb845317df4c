#include "target/target_runtime.hpp"

#include "pipeline/hash.hpp"
#include "target/auth.hpp"
#include "target/circuit_breaker.hpp"
#include "target/exchange_log.hpp"

#include <mutex>

namespace stampede {

struct target_runtime::observer_set {
  std::string target;
  mutable std::mutex mu;
  std::shared_ptr<const std::vector<std::shared_ptr<exchange_observer>>> list;

  std::shared_ptr<const std::vector<std::shared_ptr<exchange_observer>>> snapshot() const {
    std::lock_guard lk(mu);
    return list;
  }
};

std::string target_runtime::setup_hash() const {
  std::uint64_t h = 0;
  for (const auto& r : tgt_.setup) {
    h = xxh64(r.method, h);
    h = xxh64(r.path, h);
    h = xxh64(r.body, h);
  }
  return hex64(h);
}

target_runtime::target_runtime(const target_config& tgt, http_client& client)
    : tgt_(tgt), client_(client),
      auth_(std::make_shared<authenticator>(tgt.auth, client, tgt.connect_timeout, tgt.request_timeout,
                                            tgt.tls)),
      breaker_(std::make_unique<circuit_breaker>(tgt.breaker_failures, tgt.breaker_cooldown)),
      obs_(std::make_shared<observer_set>()) {
  obs_->target = tgt_.name;
  obs_->list = std::make_shared<const std::vector<std::shared_ptr<exchange_observer>>>(
      std::vector<std::shared_ptr<exchange_observer>>{std::make_shared<exchange_logger>()});
  // The hook may outlive the runtime (a background token refresh): it holds
  // the observer set, not the runtime.
  auth_->on_token_exchange([obs = obs_](const token_exchange& t) {
    exchange_event e;
    e.target = obs->target;
    e.kind = exchange_kind::token;
    e.method = "POST";
    e.url = t.url;
    e.status = t.status;
    e.timed_out = t.timed_out;
    e.cancelled = t.cancelled;
    e.error = t.error;
    e.latency = t.latency;
    e.request_bytes = t.request_bytes;
    e.response_bytes = t.response_bytes;
    for (const auto& o : *obs->snapshot()) o->on_exchange(e);
  });
  breaker_->on_change([this](breaker_state from, breaker_state to, const std::string& reason) {
    notify(breaker_event{tgt_.name, from, to, reason});
  });
}

target_runtime::~target_runtime() = default;

target_runtime_status target_runtime::status() const {
  target_runtime_status s;
  s.target = tgt_.name;
  auto b = breaker_->snapshot();
  s.breaker = b.state;
  s.consecutive_failures = b.consecutive_failures;
  s.last_failure = std::move(b.last_failure);
  s.breaker_retry_in = b.retry_in;
  s.token_fetches = auth_->token_fetches();
  return s;
}

void target_runtime::add_observer(std::shared_ptr<exchange_observer> o) {
  if (!o) return;
  std::lock_guard lk(obs_->mu);
  auto next = std::make_shared<std::vector<std::shared_ptr<exchange_observer>>>(*obs_->list);
  next->push_back(std::move(o));
  obs_->list = std::move(next);
}

void target_runtime::notify(const exchange_event& e) const {
  for (const auto& o : *obs_->snapshot()) o->on_exchange(e);
}

void target_runtime::notify(const target_failure_event& e) const {
  for (const auto& o : *obs_->snapshot()) o->on_target_failure(e);
}

void target_runtime::notify(const breaker_event& e) const {
  for (const auto& o : *obs_->snapshot()) o->on_breaker(e);
}

}  // namespace stampede
