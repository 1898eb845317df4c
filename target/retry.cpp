#include "target/retry.hpp"

#include <algorithm>
#include <array>

namespace stampede {
namespace {

using ek = endpoint_kind;
using fa = failure_action;
using fc = failure_class;

constexpr std::uint8_t bit(ek k) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(k)); }
constexpr std::uint8_t k_records = bit(ek::record_create) | bit(ek::record_item) | bit(ek::record_delete);
constexpr std::uint8_t k_batches = bit(ek::sync) | bit(ek::submit);
constexpr std::uint8_t k_services = k_batches | bit(ek::poll) | k_records;  // not the token URL
constexpr std::uint8_t k_any = k_services | bit(ek::token);

/// Extra condition of a row, beyond kind and status.
enum class when : std::uint8_t {
  always,
  no_answer,         // transport error or timeout (status ignored)
  cancelled,         // no answer: the client stopped
  timeout_sent,      // no answer: timed out after the request was written
  timeout,           // no answer: timed out before (connect timeout)
  dropped_sent,      // no answer: connection lost after the request was written
  unreadable,        // 2xx whose body could not be used
  refreshable,       // oauth2 and no refresh yet
  json_error,        // body is a JSON error object
};

struct rule {
  std::uint8_t kinds;
  int lo, hi;        // inclusive HTTP status range (ignored for no-answer rows)
  when w;
  fa action;
  fc cls;
  std::string_view reason;
};

// THE failure table (docs/failure-classes.md). First matching row wins; order
// matters (no-answer rows first, specific codes before ranges).
constexpr std::array<rule, 29> k_rules{{
    // no HTTP answer
    {k_any, 0, 0, when::cancelled, fa::target, fc::cancelled, "cancelled: http client stopped"},
    {bit(ek::token), 0, 0, when::no_answer, fa::retry, fc::unreachable, "token endpoint unreachable"},
    // a status poll is a GET: repeating it is always safe, its outcome is never "unknown"
    {bit(ek::poll), 0, 0, when::timeout_sent, fa::retry, fc::exhausted, "timed out"},
    {bit(ek::poll), 0, 0, when::dropped_sent, fa::retry, fc::unreachable, "connection lost"},
    {k_any, 0, 0, when::timeout_sent, fa::retry_unknown, fc::exhausted, "timed out after the request was sent"},
    {k_any, 0, 0, when::timeout, fa::retry, fc::unreachable, "timed out connecting"},
    {k_any, 0, 0, when::dropped_sent, fa::retry_unknown, fc::unreachable, "connection lost after the request was sent"},
    {k_any, 0, 0, when::no_answer, fa::retry, fc::unreachable, "connection error"},
    // 2xx
    {bit(ek::token) | bit(ek::poll), 200, 299, when::unreadable, fa::retry, fc::exhausted, "unreadable 2xx answer"},
    {k_services, 200, 299, when::unreadable, fa::retry_unknown, fc::exhausted, "unreadable 2xx answer"},
    {k_any, 200, 299, when::always, fa::success, fc::none, "success"},
    // credentials
    {k_services, 401, 401, when::refreshable, fa::refresh_auth, fc::credentials, "credentials rejected"},
    {k_services, 403, 403, when::refreshable, fa::refresh_auth, fc::credentials, "credentials rejected"},
    {k_services, 401, 401, when::always, fa::target, fc::credentials, "credentials rejected"},
    {k_services, 403, 403, when::always, fa::target, fc::credentials, "access forbidden"},
    {bit(ek::token), 404, 405, when::always, fa::target, fc::route, "no token endpoint at auth.token_url"},
    // routes
    {bit(ek::poll), 404, 404, when::always, fa::batch_unknown, fc::none, "async batch unknown to the target"},
    {bit(ek::record_delete), 404, 404, when::json_error, fa::record_gone, fc::none, "already deleted"},
    {bit(ek::record_item), 404, 404, when::json_error, fa::record_error, fc::none, "record not found"},
    {k_services, 404, 405, when::always, fa::target, fc::route, "no such route"},
    // throttling and timeouts
    {k_any, 408, 408, when::always, fa::retry, fc::exhausted, "request timeout"},
    {k_any, 429, 429, when::always, fa::retry, fc::exhausted, "rate limited"},
    // other 4xx
    {bit(ek::token), 400, 499, when::always, fa::target, fc::credentials, "token endpoint refused the credentials"},
    {bit(ek::poll), 400, 499, when::always, fa::target, fc::route, "status poll refused"},
    {k_batches | k_records, 400, 499, when::always, fa::record_error, fc::none, "rejected by target"},
    // 5xx, 1xx, 3xx
    {k_any, 501, 501, when::always, fa::target, fc::route, "not implemented"},
    {k_any, 500, 599, when::always, fa::retry, fc::exhausted, "server error"},
    {k_any, 100, 199, when::always, fa::retry, fc::exhausted, "unexpected informational status"},
    {k_any, 300, 399, when::always, fa::target, fc::route, "unexpected redirect (not followed; check base_url)"},
}};

bool matches(const rule& r, const exchange_facts& f) {
  if (!(r.kinds & bit(f.kind))) return false;
  const bool no_answer = f.transport_error || f.timed_out || f.cancelled || f.status == 0;
  switch (r.w) {
    case when::no_answer: return no_answer;
    case when::cancelled: return no_answer && f.cancelled;
    case when::timeout_sent: return no_answer && f.timed_out && f.sent;
    case when::timeout: return no_answer && f.timed_out;
    case when::dropped_sent: return no_answer && f.sent;
    default: break;
  }
  if (no_answer || f.status < r.lo || f.status > r.hi) return false;
  switch (r.w) {
    case when::unreadable: return f.unreadable;
    case when::refreshable: return f.may_refresh;
    case when::json_error: return f.json_error_body;
    default: return true;
  }
}

}  // namespace

std::string_view to_string(endpoint_kind k) {
  switch (k) {
    case ek::sync: return "sync";
    case ek::submit: return "submit";
    case ek::poll: return "poll";
    case ek::record_create: return "record_create";
    case ek::record_item: return "record_item";
    case ek::record_delete: return "record_delete";
    case ek::token: return "token";
  }
  return "unknown";
}

std::string_view to_string(failure_action a) {
  switch (a) {
    case fa::success: return "success";
    case fa::retry: return "retry";
    case fa::retry_unknown: return "retry_unknown";
    case fa::refresh_auth: return "refresh_auth";
    case fa::record_error: return "record_error";
    case fa::record_gone: return "record_gone";
    case fa::batch_unknown: return "batch_unknown";
    case fa::target: return "target";
  }
  return "unknown";
}

failure_decision classify(const exchange_facts& f) {
  for (const auto& r : k_rules)
    if (matches(r, f)) return {r.action, r.cls, r.reason};
  return {fa::target, fc::route, "unknown HTTP status"};
}

retry_decision decide(int http_status, bool transport_error, bool timed_out) {
  exchange_facts f;
  f.kind = ek::sync;
  f.status = (transport_error || timed_out) ? 0 : http_status;
  f.transport_error = transport_error;
  f.timed_out = timed_out;
  const auto d = classify(f);
  if (d.success()) return {retry_kind::success, d.reason};
  if (d.retry()) return {retry_kind::retry, d.reason};
  return {retry_kind::final, d.reason};
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
  // The server knows when it can take more: its Retry-After wins over our own
  // backoff cap, up to retry_after_cap (a hostile value cannot park a batch).
  if (retry_after) return std::clamp(*retry_after, duration{0}, std::max(max, retry_after_cap));
  return backoff(attempt, base, max, rng);
}

}  // namespace stampede
