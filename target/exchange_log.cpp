#include "target/exchange_log.hpp"

#include <spdlog/spdlog.h>

namespace stampede {

void exchange_logger::on_exchange(const exchange_event& e) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const double ms = static_cast<double>(e.latency.count()) / 1000.0;
  std::string what = e.status ? std::to_string(e.status) : "no answer (" + std::string(e.error) + ")";
  spdlog::debug("target {} service {} {} {} {} -> {} in {:.1f} ms{}{}{}", e.target, e.service,
                to_string(e.kind), e.method, e.url, what, ms,
                e.attempt > 1 ? fmt::format(" (attempt {})", e.attempt) : std::string(),
                e.unknown_outcome ? " (repeat after an unknown outcome)" : "",
                e.auth_repeat ? " (repeat with a fresh token)" : "");
}

void exchange_logger::on_breaker(const breaker_event& e) {
  if (e.to == breaker_state::open)
    spdlog::warn("target {}: circuit breaker {} -> open: {}", e.target, to_string(e.from), e.reason);
  else
    spdlog::info("target {}: circuit breaker {} -> {}", e.target, to_string(e.from), to_string(e.to));
}

}  // namespace stampede
