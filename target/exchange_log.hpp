// exchange_logger: debug request summaries from the exchange observer seam.
//
// Operation: one spdlog::debug line per HTTP request: target, service, kind,
//   method, safe URL, status (or the transport error), milliseconds, attempt
//   and whether it was a retry; info for breaker transitions; nothing else.
//   Checks spdlog's level first, so it costs nothing above debug.
// Concurrency: stateless; spdlog loggers are thread-safe.
// Limitations: never logs headers, bodies, tokens or record data; uses the
//   default spdlog logger (engine/logging sets its sinks and level).
#pragma once

#include "target/exchange.hpp"

namespace stampede {

class exchange_logger : public exchange_observer {
public:
  void on_exchange(const exchange_event& e) override;
  void on_breaker(const breaker_event& e) override;
};

}  // namespace stampede
