// The web monitor's pages and their JSON twins, as one routing function over
// a running engine: no sockets here (web/server.hpp serves them).
//
// Operation: `route(request, site)` answers one GET:
//     /            overview: a row per service (state, last run, next run,
//                  checkpoint, freshness lag, source backlog (rows after the
//                  checkpoint and the oldest one's age, as the worker last
//                  measured it), records by status, last failure) and per
//                  target (breaker); refreshes every 5 s
//     /log         the log monitor: records filtered by service, status, key
//                  and change time (since/until as `stampede log` takes
//                  them), newest change first, 50 a page (?page=N)
//     /cycles      the last cycles of each service (?service=N for one):
//                  rows read, created / updated / deleted / failed /
//                  unchanged, duration, outcome (web/cycle_history.hpp)
//     /record      one record (?service=N&key=K): its ledger entry and its
//                  log items (attempts, manual actions)
//     /api/status, /api/log, /api/record, /api/cycles   the same as JSON (/api/status is
//                  `stampede status --json` plus "running" and "next_run_ms")
//     /healthz     200 while the engine's loop shows signs of life (a turn or
//                  a progress sample within `stale_after`), else 503
//     /readyz      200 when no service's last cycle failed and no target's
//                  circuit is open, else 503 with the reasons
//     /metrics     the Prometheus text exposition
//   and, only when `admin_token` is set, two POST actions (form fields, or
//   JSON answers under /api/):
//     /actions/resend, /api/resend   service, and key (one record) or
//                  status=error|cancelled (all of them): written to the
//                  request inbox (engine/requests.hpp) by "web"; the worker
//                  applies it between cycles and runs the service
//     /actions/run, /api/run         service: engine::run_now
//   The token comes in the form field `token` or `Authorization: Bearer`;
//   never in a cookie, so another site cannot make a browser send it (CSRF),
//   and a request whose Origin is not this server's is refused too. Missing
//   token: 401; wrong token or actions off: 403.
//   Every text from the store or the config is HTML-escaped; payloads (sent
//   and received) are shown only when `show_payloads` is set, else their size.
//   Bad query parameters answer 400 with what to fix.
// Concurrency: route() may run on several server threads at once: it only
//   reads (engine::status/targets/heartbeat_ms are thread-safe, RocksDB reads
//   are, the metrics registry is).
// Limitations: actions are all-or-nothing (one token, no users); a log listing
//   scans the chosen services' ledgers like `stampede log` (~1M entries/s).
#pragma once

#include "pipeline/config.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

class engine;
class metrics_registry;
class cycle_history;

struct web_request {
  std::string method = "GET";
  std::string path;                          // "/log"
  std::map<std::string, std::string> query;  // decoded ?a=b&c=d (last value wins)
  std::map<std::string, std::string> form;   // POST: the decoded form body
  std::map<std::string, std::string> headers;  // names in lower case
};

struct web_response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

struct web_site {
  engine* eng = nullptr;                     // required
  std::vector<const service_config*> services;  // the services this worker runs
  bool show_payloads = false;                 // [web] show_payloads
  std::string admin_token;                    // [web] admin_token; "" = actions off
  const cycle_history* cycles = nullptr;      // the Cycles page; nullptr = none kept
  std::chrono::milliseconds stale_after{30000};  // /healthz
  std::string version;                        // shown in the footer
  std::function<std::int64_t()> now_ms;       // default: the system clock
};

web_response route(const web_request& req, const web_site& site);

/// `s` with & < > " ' escaped for HTML text and attribute values.
std::string html_escape(std::string_view s);

} // namespace stampede
