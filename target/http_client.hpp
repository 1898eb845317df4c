// http_client: asynchronous HTTP/1.1 client on its own thread (libcurl multi).
//
// Operation: `submit()` queues a request and wakes the client thread
//   (curl_multi_wakeup); the thread runs every transfer through one curl
//   multi handle (keep-alive connections are reused from its cache, easy
//   handles are pooled) and calls the completion with status, body, the
//   Retry-After header (seconds) and, for transport failures, status 0 plus
//   curl's message, whether the request had (maybe) gone out before the
//   failure (`sent`: bytes of it written, or the connection was up and the
//   transfer had begun) and whether the client's stop() cancelled it. `schedule()` runs a function on the client thread after a
//   delay (backoff, polls). Completions and timers ALWAYS run on the client
//   thread, never on the caller's.
// Concurrency: `submit`, `schedule`, `stop` and `stats` are thread-safe and
//   may be called from completions. Completions must not block: they run on
//   the one thread that drives every transfer.
// Limitations: no HTTP/2, no redirects followed, Retry-After HTTP-dates are
//   ignored. The client holds exactly what was submitted (callers bound it).
//   An answer longer than the request's max_response_bytes is cut off as
//   soon as it passes the limit (or refused at once when its Content-Length
//   says so): the response has too_large set, an empty body (its memory
//   freed) and `error` naming the limit. Transport errors carry curl's
//   detailed reason (CURLOPT_ERRORBUFFER: "SSL certificate problem: unable
//   to get local issuer certificate"), not just the error code's name.
//   `stop()` cancels: in-flight and queued requests complete with status 0
//   and error "cancelled: http client stopped"; pending timers are dropped
//   without running. Call `drain()` first for a graceful end.
#pragma once

#include "pipeline/config.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stampede {

struct http_request {
  std::string method = "GET";  // GET | POST | PUT | DELETE | PATCH
  std::string url;             // absolute: "http://127.0.0.1:8787/services/1/sync"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  duration connect_timeout{5000};
  duration timeout{30000};     // whole request
  std::uint64_t max_response_bytes = 0;  // a longer answer is cut off: too_large (0 = no limit)
  std::string ca_file;         // https: trust this CA bundle (PEM) instead of the system's
  std::string ca_dir;          // https: trust the CAs of this hashed directory (openssl rehash)
};

struct http_response {
  int status = 0;                         // 0: transport error (see `error`)
  std::string body;
  std::string error;                      // curl's message when status == 0
  bool timed_out = false;                 // connect or request timeout
  bool sent = false;                      // status 0: the request was (maybe) written before
                                          // the failure, so the target may have applied it
  bool cancelled = false;                 // status 0: the client stopped before an answer
  std::optional<duration> retry_after;    // Retry-After: <seconds>
  bool too_large = false;                 // the answer passed max_response_bytes: body
                                          // dropped, `error` says so, `status` kept (0
                                          // when no status line had arrived)
  bool transport_error() const { return status == 0; }
};

struct http_client_options {
  long max_connections = 64;   // CURLMOPT_MAXCONNECTS (connection cache size)
  std::size_t pool_easy = 64;  // easy handles kept for reuse
  std::string user_agent = "stampede/0.1";
};

struct http_client_stats {
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::uint64_t transport_errors = 0;
  std::uint64_t active = 0;    // transfers in curl right now
  std::uint64_t timers = 0;    // timers pending
};

class http_client {
public:
  using completion = std::function<void(http_response)>;

  /// Starts the client thread. Throws std::runtime_error if curl cannot be set up.
  explicit http_client(http_client_options o = {});
  ~http_client();  // stop()
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Queues a request; `done` runs on the client thread exactly once.
  /// Returns false (and never calls `done`) after stop().
  bool submit(http_request req, completion done);
  /// Runs `fn` on the client thread after `delay`. False after stop().
  bool schedule(duration delay, std::function<void()> fn);
  /// Waits until no request or timer is pending, or `limit` has passed.
  /// Returns true when idle. Must not be called on the client thread.
  bool drain(duration limit);
  /// Cancels everything pending (see Limitations) and joins the thread. Idempotent.
  void stop();
  /// True when called on the client thread.
  bool on_client_thread() const;
  http_client_stats stats() const;

private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace stampede
