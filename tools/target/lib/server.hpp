// stampede-target: the reference HTTP/1.1 target (plays the remote platform).
//
// Operation: `server::start()` binds one listening socket (loopback by
//   default, port 0 = kernel picks) and spawns `threads` workers. Each worker
//   owns an epoll instance; the listening socket is registered in every
//   worker with EPOLLEXCLUSIVE, and the accepting worker hands each new
//   connection to the next worker in round robin (eventfd inbox). A
//   connection belongs to one worker for its whole life (no locking on
//   connections). Requests need
//   Content-Length (chunked bodies get 411); keep-alive and
//   `Expect: 100-continue` are supported. Endpoints, record semantics and
//   faults are documented in docs/target.md; the logic lives in `app`
//   (app.hpp), the CouchDB and webhook profiles in profiles.hpp, the
//   Smartlink and Senior SET profiles in erp_profiles.hpp, the HTTP framing
//   in http.hpp.
// Concurrency: every public member is thread-safe. `stop()` is idempotent and
//   joins the workers; the destructor calls it. `set_faults`, `reset` and
//   `stats_json` may be called while requests are being served.
// Limitations: IPv4/IPv6 TCP only, no TLS, no pipelining guarantees beyond
//   "requests on one connection are answered in order", bodies up to 256 MiB.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::target {

/// Fault injection. Rates are shares in [0,1]; each /services/ request rolls
/// once per fault kind with a PRNG seeded by `seed` (reseeded by set_faults).
struct faults {
  double fail_rate = 0;        // share of requests answered 5xx (503) before processing
  double rate_limit_rate = 0;  // share answered 429 with Retry-After: retry_after_s
  int retry_after_s = 1;
  int latency_ms = 0;          // added latency per request
  double drop_rate = 0;        // share of requests whose connection is closed with no answer
  double malformed_rate = 0;   // share answered 200 with a body that is not valid JSON
  int batch_delay_ms = 0;      // async batches stay "processing" this long after submit
  std::vector<std::string> validate;  // per-record rules "FIELD:RULE", RULE = nonempty|digits|maxlen=N
  std::uint64_t seed = 1;
};

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = pick
  unsigned threads = 2;
  std::string auth = "none";  // none | static | oauth2
  std::string static_key;     // static: expected "Authorization: Bearer <static_key>"
  std::string client_id, client_secret;
  int token_ttl_s = 3600;  // oauth2
  faults f;
  std::string state_file;  // optional persistence (load at start, save at stop)
  // Test aid: every error answer (error bodies, per-record errors, token
  // refusals) echoes the credentials the client sent: the Authorization
  // header and the form body of the latest token request (docs/target.md).
  bool echo_credentials = false;
};

class app;

class server {
public:
  /// Validates the options (auth mode, rates, rules); throws std::invalid_argument.
  explicit server(options o);
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Loads the state file (if any), binds, spawns the workers.
  /// Throws std::runtime_error saying what failed and what to do.
  void start();
  std::uint16_t port() const;
  /// Stops the workers, closes every connection, saves the state file (if any).
  void stop();
  /// Replaces the fault set and reseeds the PRNG; throws std::invalid_argument
  /// on a bad rate or validation rule.
  void set_faults(const faults& f);
  std::string stats_json() const;  // same body as GET /stats
  void reset();                    // forget all state and counters

private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace stampede::target
