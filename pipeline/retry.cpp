#include "pipeline/retry.hpp"

#include <algorithm>
#include <array>

namespace stampede {
namespace {

struct status_rule {
  int lo, hi;  // inclusive HTTP status range
  retry_kind kind;
  std::string_view reason;
};

// First matching row wins; order matters (specific codes before ranges).
constexpr std::array<status_rule, 8> k_rules{{
    {200, 299, retry_kind::success, "success"},
    {408, 408, retry_kind::retry, "request timeout"},
    {429, 429, retry_kind::retry, "rate limited"},
    {400, 499, retry_kind::final, "rejected by target"},
    {501, 501, retry_kind::final, "not implemented"},
    {500, 599, retry_kind::retry, "server error"},
    {100, 199, retry_kind::retry, "unexpected informational status"},
    {300, 399, retry_kind::final, "unexpected redirect"},
}};

}  // namespace

retry_decision decide(int http_status, bool transport_error, bool timed_out) {
  if (timed_out) return {retry_kind::retry, "timed out"};
  if (transport_error || http_status == 0) return {retry_kind::retry, "connection error"};
  for (const auto& r : k_rules)
    if (http_status >= r.lo && http_status <= r.hi) return {r.kind, r.reason};
  return {retry_kind::final, "unknown status"};
}

duration backoff(std::uint32_t attempt, duration base, duration max, std::mt19937_64& rng) {
  if (attempt < 1) attempt = 1;
  const auto b = std::max<duration::rep>(0, base.count());
  const auto m = std::max<duration::rep>(0, max.count());
  duration::rep cap = b;
  for (std::uint32_t i = 1; i < attempt && cap > 0 && cap < m; ++i) cap *= 2;  // no overflow: stops at m
  cap = std::min(cap, m);
  if (cap <= 0) return duration{0};
  std::uniform_int_distribution<duration::rep> dist(0, cap);
  return duration{dist(rng)};
}

duration retry_delay(std::uint32_t attempt, duration base, duration max,
                     std::optional<duration> retry_after, std::mt19937_64& rng) {
  if (retry_after) return std::clamp(*retry_after, duration{0}, std::max(max, duration{0}));
  return backoff(attempt, base, max, rng);
}

}  // namespace stampede
