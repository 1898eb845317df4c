// exchange_observer: the one seam every HTTP exchange with a target passes
// through (the delivery journal seam). Metrics (metrics/http_probe.hpp) and
// the debug request log (target/exchange_log.hpp) hang off it.
//
// Operation: a target_runtime holds the observers of its target; the
//   send_driver reports each HTTP request it made (submit, poll, sync batch,
//   per-record request) and the authenticator each token request, once the
//   answer (or the transport failure) is in: `on_exchange`. The send driver
//   also reports target-level batch failures (`on_target_failure`) and the
//   runtime every circuit-breaker transition (`on_breaker`).
//   Per-record outcomes (what was sent and received for each record) travel
//   in batch_result (record_outcome::http_status / received); the reconciler
//   persists them.
// Concurrency: callbacks run on the http_client's thread (breaker transitions
//   on the thread that completed the batch); they must be quick and must not
//   block. Event fields are views valid only during the call.
// Limitations: events never carry headers, tokens or request bodies of
//   token requests; URLs are safe_url()'d (no user:password, no query values).
#pragma once

#include "pipeline/record.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace stampede {

enum class exchange_kind : std::uint8_t { submit, poll, sync, record, token, setup };

inline std::string_view to_string(exchange_kind k) {
  switch (k) {
    case exchange_kind::submit: return "submit";
    case exchange_kind::poll: return "poll";
    case exchange_kind::sync: return "sync";
    case exchange_kind::record: return "record";
    case exchange_kind::token: return "token";
    case exchange_kind::setup: return "setup";
  }
  return "unknown";
}

/// "2xx" | "4xx" | "5xx" | "1xx" | "3xx" | "transport" (no answer) | "other".
inline std::string_view status_class(int status) {
  if (status == 0) return "transport";
  if (status >= 100 && status <= 199) return "1xx";
  if (status >= 200 && status <= 299) return "2xx";
  if (status >= 300 && status <= 399) return "3xx";
  if (status >= 400 && status <= 499) return "4xx";
  if (status >= 500 && status <= 599) return "5xx";
  return "other";
}

/// One finished HTTP request.
struct exchange_event {
  std::string_view target;          // [targets.NAME]
  std::uint32_t service = 0;        // 0: token request (shared by the target's services)
  std::string_view service_name;
  exchange_kind kind = exchange_kind::sync;
  std::string_view method;          // GET | POST | PUT | DELETE
  std::string_view url;             // safe_url()'d
  int status = 0;                   // 0: no HTTP answer
  bool timed_out = false;
  bool cancelled = false;
  std::string_view error;           // transport error text (no answer), redacted
  std::chrono::microseconds latency{0};
  std::uint32_t attempt = 1;        // 1: first try of this request; n: its (n-1)th retry
  bool retry = false;               // repeats an earlier attempt after a retryable failure
  bool unknown_outcome = false;     // ...whose outcome was unknown (same idempotency keys)
  bool auth_repeat = false;         // repeated once with a fresh token (not a retry)
  std::uint64_t request_bytes = 0;  // request body
  std::uint64_t response_bytes = 0; // response body
  std::string_view record_key;      // kind == record: the record's key, else empty
  std::string_view batch_id;        // poll (and an accepted submit): the async batch id
};

/// A batch failed at the target level (records untouched).
struct target_failure_event {
  std::string_view target;
  std::uint32_t service = 0;
  const target_failure* failure = nullptr;
  std::string_view failure_class_name;  // to_string(failure->cls)
};

enum class breaker_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };
inline std::string_view to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

struct breaker_event {
  std::string_view target;
  breaker_state from = breaker_state::closed, to = breaker_state::closed;
  std::string_view reason;          // the failure that opened it ("" when closing)
};

class exchange_observer {
public:
  virtual ~exchange_observer() = default;
  virtual void on_exchange(const exchange_event& e) = 0;
  virtual void on_target_failure(const target_failure_event&) {}
  virtual void on_breaker(const breaker_event&) {}
};

}  // namespace stampede
