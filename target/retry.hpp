// Retry policy and failure classes for HTTP sends: what one HTTP outcome
// means (success, retry, record-level error, target-level failure), and how
// long to wait before a retry.
//
// Operation: `classify()` looks the outcome up in ONE table (retry.cpp, the
//   same table as docs/failure-classes.md), Vector RetryLogic style: the
//   first row matching the endpoint kind, the HTTP status and the situation
//   (no answer, answered but unreadable, JSON error body, refresh allowed)
//   gives the action and the failure class. Retryable rows carry the class a
//   batch fails with once its retries run out (`exhausted`, or `unreachable`
//   for connection errors). `decide()` is the coarse view (success / retry /
//   final) of the same table for a batch endpoint.
//   `backoff()` is capped exponential backoff with FULL jitter: a uniform
//   draw in [0, min(max, base * 2^(attempt-1))]. `retry_delay()` prefers the
//   server's Retry-After (up to 5 minutes, or `max` when larger) over the
//   jittered backoff: a 429 storm is waited out, not spent in milliseconds.
// Concurrency: stateless free functions; the caller owns the RNG.
// Limitations: Retry-After is understood in seconds only (HTTP-date values
//   are ignored by the HTTP client and fall back to jittered backoff).
//   Whether a transport failure happened before or after the request was
//   sent is what libcurl reports (bytes of the request written).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace stampede {

/// Which endpoint a request went to: the failure table treats them differently.
enum class endpoint_kind : std::uint8_t {
  sync,           // POST paths.sync: a whole batch
  submit,         // POST paths.batch: async submit of a whole batch
  poll,           // GET paths.batch_status
  record_create,  // REST create: POST paths.record
  record_item,    // REST update (PUT paths.record_id) or one envelope message
  record_delete,  // REST delete: DELETE paths.record_id
  token,          // OAuth2 token request to auth.token_url
};
std::string_view to_string(endpoint_kind k);

enum class failure_action : std::uint8_t {
  success,        // 2xx with a usable body: map it
  retry,          // repeat the request after a backoff (nothing was applied)
  retry_unknown,  // outcome unknown: repeat the SAME request (same idempotency keys)
  refresh_auth,   // drop the token, fetch a new one, repeat the request once
  record_error,   // a final answer about the record(s): record-level, not retryable
  record_gone,    // a delete of a record the target does not have: done
  batch_unknown,  // poll answered 404: every record gets a retryable record-level error
  target,         // target-level failure of class `cls`, now (records untouched)
};
std::string_view to_string(failure_action a);

/// What happened to one request.
struct exchange_facts {
  endpoint_kind kind = endpoint_kind::sync;
  int status = 0;                 // HTTP status; 0 = no answer
  bool transport_error = false;   // no HTTP answer (connection, DNS, TLS, reset)
  bool timed_out = false;         // connect or request timeout
  bool sent = false;              // no answer, but the request had been written
  bool cancelled = false;         // the http_client stopped before an answer
  bool unreadable = false;        // 2xx whose body could not be used
  bool json_error_body = false;   // a non-2xx body that is a JSON error (error_fields)
  bool may_refresh = false;       // oauth2, and this request was not repeated after a refresh yet
};

struct failure_decision {
  failure_action action = failure_action::target;
  /// action == target: the class. retry/retry_unknown: the class the batch
  /// fails with when max_attempts is reached. none otherwise.
  failure_class cls = failure_class::none;
  std::string_view reason;        // static text: "rate limited", "server error", ...
  bool retry() const {
    return action == failure_action::retry || action == failure_action::retry_unknown;
  }
  bool success() const { return action == failure_action::success; }
};

/// The failure table.
failure_decision classify(const exchange_facts& f);

enum class retry_kind : std::uint8_t { success, retry, final };

struct retry_decision {
  retry_kind kind = retry_kind::final;
  std::string_view reason;
  bool retry() const { return kind == retry_kind::retry; }
  bool success() const { return kind == retry_kind::success; }
};

/// classify() for a sync batch request, reduced to success / retry / final.
/// `http_status` is ignored when `transport_error` or `timed_out` is set.
retry_decision decide(int http_status, bool transport_error, bool timed_out);

/// Full-jitter capped exponential backoff. `attempt` is 1 for the first
/// retry; values below 1 are treated as 1. Result in [0, min(max, base*2^(attempt-1))].
duration backoff(std::uint32_t attempt, duration base, duration max, std::mt19937_64& rng);

/// The longest Retry-After honoured (when `max` is smaller).
inline constexpr duration retry_after_cap{5 * 60 * 1000};

/// Retry-After (when present) capped at max(`max`, retry_after_cap), else backoff().
duration retry_delay(std::uint32_t attempt, duration base, duration max,
                     std::optional<duration> retry_after, std::mt19937_64& rng);

}  // namespace stampede
