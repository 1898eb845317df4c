// Retry policy for HTTP sends: which outcomes are worth another attempt, and
// how long to wait before it.
//
// Operation: `decide()` looks the outcome up in ONE table (see retry.cpp and
//   docs/targets.md): 2xx success; 408, 429 and 5xx except 501 retry; other
//   4xx and 501 are final; transport errors and timeouts retry.
//   `backoff()` is capped exponential backoff with FULL jitter: a uniform
//   draw in [0, min(max, base * 2^(attempt-1))]. `retry_delay()` prefers the
//   server's Retry-After (capped at max) over the jittered backoff.
// Concurrency: stateless free functions; the caller owns the RNG.
// Limitations: Retry-After is understood in seconds only (HTTP-date values
//   are ignored by the HTTP client and fall back to jittered backoff).
#pragma once

#include "pipeline/config.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace stampede {

enum class retry_kind : std::uint8_t { success, retry, final };

struct retry_decision {
  retry_kind kind = retry_kind::final;
  std::string_view reason;  // static text: "rate limited", "server error", ...
  bool retry() const { return kind == retry_kind::retry; }
  bool success() const { return kind == retry_kind::success; }
};

/// Classifies one HTTP outcome. `http_status` is ignored when
/// `transport_error` or `timed_out` is set (curl reports status 0 then).
retry_decision decide(int http_status, bool transport_error, bool timed_out);

/// Full-jitter capped exponential backoff. `attempt` is 1 for the first
/// retry; values below 1 are treated as 1. Result in [0, min(max, base*2^(attempt-1))].
duration backoff(std::uint32_t attempt, duration base, duration max, std::mt19937_64& rng);

/// Retry-After (when present) capped at `max`, else backoff().
duration retry_delay(std::uint32_t attempt, duration base, duration max,
                     std::optional<duration> retry_after, std::mt19937_64& rng);

}  // namespace stampede
