#include "target/send_driver.hpp"

#include "target/auth.hpp"
#include "target/circuit_breaker.hpp"
#include "target/protocol.hpp"
#include "target/request_builder.hpp"
#include "target/response_map.hpp"
#include "target/retry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <random>

namespace stampede {
namespace {

using clock = std::chrono::steady_clock;
constexpr std::size_t no_record = static_cast<std::size_t>(-1);

struct job {
  std::shared_ptr<send_batch> batch;
  std::function<void(batch_result)> done;
  send_driver::submitted_fn on_submitted;
  std::vector<record_outcome> outcomes;
  std::size_t remaining = 0;
  int last_status = 0;
  std::uint32_t requests = 0;
  std::uint32_t unknown_retries = 0;
  std::optional<target_failure> target;
  bool admitted = false;       // the breaker let it through (its end is a verdict)
  bool probe = false;          // ...as the half-open probe
  bool finished = false;
  // batch protocols
  /// What goes on the wire when it differs from `batch`: the batch without
  /// its deletes under request.delete = "skip"; `wire_index[i]` is the
  /// position in `batch` of the wire's record i.
  std::shared_ptr<send_batch> wire;
  std::vector<std::size_t> wire_index;
  const send_batch& sent() const { return wire ? *wire : *batch; }
  std::shared_ptr<const http_request> req;
  std::string batch_id;        // async: accepted under this id
  bool still_processing = false;
  clock::time_point poll_deadline;
  duration poll_wait{0};       // next wait between polls: starts small, doubles up to poll_interval
};

/// One logical request: the same bytes each attempt.
struct call {
  endpoint_kind kind = endpoint_kind::sync;
  exchange_kind ek = exchange_kind::sync;
  std::shared_ptr<const http_request> rq;
  std::uint32_t attempts = 0;  // requests made (a repeat after a token refresh is not one)
  bool refreshed = false;      // one token refresh per logical request
  bool retrying = false;       // the next request repeats a failed one
  bool unknown = false;        // ...whose outcome was unknown
  std::size_t record = no_record;
};

std::shared_ptr<call> make_call(endpoint_kind k, exchange_kind e, std::shared_ptr<const http_request> rq) {
  auto c = std::make_shared<call>();
  c->kind = k;
  c->ek = e;
  c->rq = std::move(rq);
  return c;
}

using accept_fn = std::function<std::optional<std::string>(const http_response&)>;
using final_fn = std::function<void(const failure_decision&, const http_response&, const std::string&)>;

void bump_max(std::atomic<std::uint64_t>& mx, std::uint64_t v) {
  auto cur = mx.load(std::memory_order_relaxed);
  while (v > cur && !mx.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}

bool counts_against_breaker(failure_class c) {
  return c == failure_class::unreachable || c == failure_class::credentials ||
         c == failure_class::route || c == failure_class::exhausted;
}

}  // namespace

struct send_driver::impl : std::enable_shared_from_this<send_driver::impl> {
  std::unique_ptr<target_runtime> owned;  // deprecated constructor only
  target_runtime& rt;
  const target_config tgt;  // the runtime's, with the service's envelope types
  const std::unique_ptr<protocol> proto;  // what the protocol decides (protocol.hpp)
  http_client& client;
  std::uint32_t service;
  std::string service_name;
  std::mt19937_64 rng{std::random_device{}()};
  std::deque<std::pair<std::shared_ptr<job>, std::size_t>> queue;  // rest/envelope
  std::uint32_t slots = 1;

  std::atomic<std::uint64_t> requests{0}, retries{0}, unknown_retries{0}, target_failures{0},
      in_flight{0}, max_in_flight{0}, slots_busy{0}, max_slots_busy{0}, queued{0},
      batches_active{0}, batches_done{0};

  impl(std::unique_ptr<target_runtime> own, target_runtime& r, std::uint32_t s, std::string name,
       const service_envelope& env = {})
      : owned(std::move(own)), rt(r), tgt(with_envelope(r.config(), env)), proto(make_protocol(tgt)),
        client(r.client()),
        service(s), service_name(std::move(name)),
        slots(std::max<std::uint32_t>(1, r.config().in_flight)) {}

  static target_config with_envelope(const target_config& t, const service_envelope& env) {
    target_config out = t;
    if (env.type_create) out.envelope.type_create = *env.type_create;
    if (env.type_update) out.envelope.type_update = *env.type_update;
    if (env.type_delete) out.envelope.type_delete = *env.type_delete;
    return out;
  }

  /// {service} and {service_name} for the request builder.
  service_ref ref() const { return service_ref(service, service_name); }

  bool per_record() const { return proto->per_record(); }
  std::uint32_t attempts_limit() const { return std::max<std::uint32_t>(1, tgt.request_attempts); }

  /// "HTTP 422: <server message>", "timed out: ...", "connection error: ..." (redacted).
  std::string describe(const http_response& r) const {
    std::string s;
    if (r.cancelled) s = r.error;
    else if (r.timed_out) s = "timed out: " + r.error;
    else if (r.transport_error()) s = "connection error: " + r.error;
    else {
      s = "HTTP " + std::to_string(r.status);
      if (r.too_large) s += ": " + r.error;
      else if (auto e = error_text(r.body, tgt.response)) s += ": " + *e;
      else if (!r.body.empty()) s += ": " + r.body.substr(0, 200);
    }
    return rt.auth().redact(s);
  }

  std::string url_of(const http_request& rq) const { return rt.auth().redact(safe_url(rq.url)); }

  // ---- the end of a batch --------------------------------------------------

  void finish(const std::shared_ptr<job>& j) {
    if (j->finished) return;
    j->finished = true;
    batch_result res;
    res.batch = j->batch;
    if (!j->target) res.outcomes = std::move(j->outcomes);
    res.http_status = j->last_status;
    res.http_attempts = j->requests;
    res.unknown_outcome_retries = j->unknown_retries;
    if (j->still_processing || (j->target && !j->batch_id.empty()))
      res.still_processing_batch_id = j->batch_id;
    res.target = j->target;
    if (j->admitted) {
      if (!j->target) rt.breaker().success();
      else if (counts_against_breaker(j->target->cls)) rt.breaker().failure(j->target->reason);
      else rt.breaker().abandon(j->probe);
    }
    auto done = std::move(j->done);
    batches_active.fetch_sub(1, std::memory_order_relaxed);
    batches_done.fetch_add(1, std::memory_order_relaxed);
    if (done) done(std::move(res));
  }

  /// The batch failed at the target level (first failure wins): records untouched.
  void fail_target(const std::shared_ptr<job>& j, target_failure tf) {
    if (j->finished || j->target) return;
    target_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("target {} service {}: batch failed at the target level ({}): {}", tgt.name,
                  service, to_string(tf.cls), tf.reason);
    j->target = std::move(tf);
    rt.notify(target_failure_event{tgt.name, service, &*j->target, to_string(j->target->cls)});
    if (!per_record()) return finish(j);
    // Records still waiting for a slot are not sent.
    std::size_t dropped = 0;
    for (auto it = queue.begin(); it != queue.end();) {
      if (it->first == j) {
        it = queue.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
    queued.fetch_sub(dropped, std::memory_order_relaxed);
    j->remaining -= dropped;
    if (j->remaining == 0) finish(j);
  }

  /// "<what>: <METHOD> <url>: <detail>" ("<what>: " only when the target
  /// answered: a transport detail already says what happened).
  std::string target_reason(const failure_decision& d, const http_request& rq, int status,
                            const std::string& detail) const {
    std::string s;
    if (status != 0) {
      s += d.reason;
      s += ": ";
    }
    s += rq.method + " " + url_of(rq) + ": " + detail;
    return s;
  }

  void fail_cancelled(const std::shared_ptr<job>& j) {
    target_failure tf;
    tf.cls = failure_class::cancelled;
    tf.reason = "cancelled: http client stopped";
    fail_target(j, std::move(tf));
  }

  // ---- one request through the failure table -------------------------------

  void report(const std::shared_ptr<job>& j, const call& c, const http_response& r,
              clock::time_point t0, bool auth_repeat) {
    const http_request& q = *c.rq;  // as sent, minus the auth header
    exchange_event e;
    const std::string url = url_of(q);
    const std::string err = r.status ? std::string() : rt.auth().redact(r.error);
    e.target = tgt.name;
    e.service = service;
    e.service_name = service_name;
    e.kind = c.ek;
    e.method = q.method;
    e.url = url;
    e.status = r.status;
    e.timed_out = r.timed_out;
    e.cancelled = r.cancelled;
    e.error = err;
    e.latency = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0);
    e.attempt = c.attempts;
    e.retry = c.retrying && !auth_repeat;
    e.unknown_outcome = e.retry && c.unknown;
    e.auth_repeat = auth_repeat;
    e.request_bytes = q.body.size();
    e.response_bytes = r.body.size();
    if (c.record != no_record) e.record_key = j->batch->records[c.record].key;
    e.batch_id = j->batch_id;
    rt.notify(e);
  }

  void run(std::shared_ptr<job> j, std::shared_ptr<call> c, accept_fn accept, final_fn fin,
           bool auth_repeat = false) {
    if (j->finished || j->target) {  // the batch already failed (per-record siblings)
      failure_decision d{failure_action::target, j->target ? j->target->cls : failure_class::cancelled, "batch failed"};
      return fin(d, http_response{}, {});
    }
    auto self = shared_from_this();
    rt.auth().get([self, j, c, accept = std::move(accept), fin = std::move(fin),
                   auth_repeat](const auth_result& a) mutable {
      if (!a.ok()) {
        if (!auth_repeat) ++c->attempts;
        exchange_facts f;
        f.kind = endpoint_kind::token;
        f.status = a.http_status;
        f.transport_error = a.err == auth_errc::token_transport;
        f.timed_out = a.timed_out;
        f.cancelled = a.cancelled;
        f.unreadable = a.err == auth_errc::token_malformed;
        http_response r;
        r.status = a.http_status;
        r.cancelled = a.cancelled;
        return self->handle(j, c, classify(f), r, a.error, std::move(accept), std::move(fin),
                            /*token=*/true);
      }
      http_request q = *c->rq;
      std::string used;
      if (a.header) {
        q.headers.push_back(*a.header);
        used = a.header->second;
      }
      if (!auth_repeat) ++c->attempts;
      self->requests.fetch_add(1, std::memory_order_relaxed);
      bump_max(self->max_in_flight, self->in_flight.fetch_add(1, std::memory_order_relaxed) + 1);
      ++j->requests;
      const auto t0 = clock::now();
      auto on_done = [self, j, c, accept, fin, used, t0, auth_repeat](http_response r) mutable {
        self->in_flight.fetch_sub(1, std::memory_order_relaxed);
        // Before anything reads, truncates, maps or stores the answer: a
        // target may echo credentials in errors (redact.hpp).
        redactor::global().apply_in_place(r.body);
        redactor::global().apply_in_place(r.error);
        j->last_status = r.status;
        self->report(j, *c, r, t0, auth_repeat);
        exchange_facts f;
        f.kind = c->kind;
        f.status = r.status;
        f.transport_error = r.transport_error();
        f.timed_out = r.timed_out;
        f.sent = r.sent;
        f.cancelled = r.cancelled;
        f.may_refresh = self->rt.auth().refreshable() && !c->refreshed;
        std::string msg;
        if (r.status >= 200 && r.status <= 299 && !j->finished && !j->target) {
          // An answer past max_response_bytes was not read: its outcome is
          // unknown (the same request again, then `exhausted`).
          std::optional<std::string> unusable =
              r.too_large ? std::optional<std::string>(r.error) : accept(r);
          if (!unusable) return;
          f.unreadable = true;
          msg = self->rt.auth().redact(*unusable);
        } else {
          f.json_error_body = r.status != 0 && error_text(r.body, self->tgt.response).has_value();
          msg = self->describe(r);
        }
        auto d = classify(f);
        if (d.action == failure_action::refresh_auth) {
          c->refreshed = true;
          self->rt.auth().invalidate(used);
          return self->run(j, c, std::move(accept), std::move(fin), /*auth_repeat=*/true);
        }
        self->handle(j, c, d, r, msg, std::move(accept), std::move(fin), false);
      };
      if (!self->client.submit(std::move(q), on_done)) {
        self->in_flight.fetch_sub(1, std::memory_order_relaxed);
        http_response r;
        r.error = "cancelled: http client stopped";
        r.cancelled = true;
        on_done(std::move(r));
      }
    });
  }

  /// Retries (same request) while the table says so and attempts remain;
  /// otherwise hands the final decision to `fin` (exhausted retries become a
  /// target-level failure of the row's class).
  void handle(const std::shared_ptr<job>& j, const std::shared_ptr<call>& c, failure_decision d,
              const http_response& r, const std::string& msg, accept_fn accept, final_fn fin,
              bool token) {
    if (d.action == failure_action::success) {  // cannot happen (2xx is accepted before)
      d = {failure_action::retry_unknown, failure_class::exhausted, "unreadable 2xx answer"};
    }
    std::string detail = msg;
    if (d.retry() && !j->finished && !j->target) {
      if (c->attempts < attempts_limit()) {
        retries.fetch_add(1, std::memory_order_relaxed);
        c->retrying = true;
        c->unknown = d.action == failure_action::retry_unknown;
        if (c->unknown) {
          ++j->unknown_retries;
          unknown_retries.fetch_add(1, std::memory_order_relaxed);
          spdlog::warn("target {} service {}: outcome of {} {} unknown ({}: {}); repeating it with "
                       "the same idempotency keys (attempt {} of {})",
                       tgt.name, service, c->rq->method, url_of(*c->rq), d.reason, msg,
                       c->attempts + 1, attempts_limit());
        }
        auto delay = retry_delay(c->attempts, tgt.retry_backoff_base, tgt.retry_backoff_max,
                                 r.retry_after, rng);
        auto self = shared_from_this();
        if (client.schedule(delay, [self, j, c, accept, fin]() mutable {
              self->run(j, c, std::move(accept), std::move(fin));
            }))
          return;
        d = {failure_action::target, failure_class::cancelled, "cancelled: http client stopped"};
      } else {
        d = {failure_action::target, d.cls, d.reason};
        detail += " (gave up after " + std::to_string(c->attempts) + " attempts)";
      }
    }
    if (d.action == failure_action::target) {
      // fin() turns this into the target_failure: hand it the full reason.
      if (token) return fin(d, r, std::string(d.reason) + ": " + detail);
      return fin(d, r, target_reason(d, *c->rq, r.status, detail));
    }
    fin(d, r, detail);
  }

  /// For final_fn: a target-level failure from a decision and the reason
  /// handle() composed.
  target_failure target_of(const failure_decision& d, const std::shared_ptr<call>& c,
                           const http_response& r, const std::string& reason) const {
    target_failure tf;
    tf.cls = d.cls;
    tf.http_status = r.status;
    tf.url = url_of(*c->rq);
    tf.reason = reason;
    return tf;
  }

  /// Every record sent gets the same record-level error (final 4xx on a
  /// batch, an async status listed as failed).
  void fail_records(const std::shared_ptr<job>& j, const http_response& r, const std::string& msg,
                    bool retryable) {
    record_outcome o;
    o.ok = false;
    o.error = msg;
    o.retryable = retryable;
    o.http_status = r.status;
    o.received = cap_received(r.body);
    // The records that went out; skipped deletes were never the target's.
    finish_with(j, std::vector<record_outcome>(j->sent().records.size(), o));
  }

  // ---- entry --------------------------------------------------------------

  void start(std::shared_ptr<job> j) {
    const auto n = j->batch->records.size();
    if (n == 0) return finish(j);
    if (!rt.breaker().admit(&j->probe)) {
      auto b = rt.breaker().snapshot();
      target_failure tf;
      tf.cls = failure_class::circuit_open;
      tf.reason = "circuit open: " + std::to_string(b.consecutive_failures) +
                  " consecutive target-level failures, nothing sent; next try in " +
                  std::to_string((b.retry_in.count() + 999) / 1000) + "s; last: " + b.last_failure;
      return fail_target(j, std::move(tf));
    }
    j->admitted = true;
    if (!tgt.setup.empty() && rt.setup().st != target_runtime::setup_gate::state::done) {
      auto self = shared_from_this();
      return await_setup(j, [self, j](const target_failure* f) {
        if (f) return self->fail_target(j, *f);
        self->proceed(j);
      });
    }
    proceed(j);
  }

  // ---- setup requests ([[targets.NAME.setup]]) ------------------------------

  /// Runs `cont` once the target's setup is done (nullptr) or failed.
  void await_setup(const std::shared_ptr<job>& j, std::function<void(const target_failure*)> cont) {
    auto& g = rt.setup();
    if (g.st == target_runtime::setup_gate::state::done) return cont(nullptr);
    g.waiters.push_back(std::move(cont));
    if (g.st == target_runtime::setup_gate::state::running) return;
    g.st = target_runtime::setup_gate::state::running;
    const std::string hash = rt.setup_hash();
    std::optional<std::string> last;
    if (g.load) {
      try {
        last = g.load();
      } catch (const std::exception& e) {
        spdlog::warn("target {}: reading the last setup from the state store: {}; sending it",
                     tgt.name, e.what());
      }
    }
    if (last && *last == hash) {
      spdlog::info("target {}: setup unchanged since it last succeeded; not sent again", tgt.name);
      return setup_finished(nullptr);
    }
    send_setup(j, 0, hash);
  }

  void setup_finished(const target_failure* f) {
    auto& g = rt.setup();
    g.st = f ? target_runtime::setup_gate::state::pending : target_runtime::setup_gate::state::done;
    auto waiters = std::move(g.waiters);
    g.waiters.clear();
    for (auto& w : waiters) w(f);
  }

  void send_setup(const std::shared_ptr<job>& j, std::size_t i, const std::string& hash) {
    const setup_request& s = tgt.setup[i];
    auto rq = base_request(tgt, s.method, target_url(tgt, s.path, ref()));
    if (!s.body.empty()) {
      rq.headers.emplace_back("Content-Type", "application/json");
      rq.body = s.body;
    }
    auto c = make_call(endpoint_kind::sync, exchange_kind::setup,
                       std::make_shared<const http_request>(std::move(rq)));
    auto self = shared_from_this();
    run(j, c,
        [self, j, i, hash](const http_response&) -> std::optional<std::string> {
          if (i + 1 < self->tgt.setup.size()) {
            self->send_setup(j, i + 1, hash);
            return std::nullopt;
          }
          spdlog::info("target {}: setup sent ({} request{})", self->tgt.name,
                       self->tgt.setup.size(), self->tgt.setup.size() == 1 ? "" : "s");
          if (self->rt.setup().save) {
            try {
              self->rt.setup().save(hash);
            } catch (const std::exception& e) {
              spdlog::warn("target {}: keeping the setup's hash in the state store: {}; the next "
                           "worker sends it again", self->tgt.name, e.what());
            }
          }
          self->setup_finished(nullptr);
          return std::nullopt;
        },
        [self, c](const failure_decision& d, const http_response& r, const std::string& msg) {
          // Whatever the answer, the records are not at fault: target level
          // (a 4xx is a setup the target refuses: a route/config problem).
          failure_decision td = d;
          if (td.action != failure_action::target) td.cls = failure_class::route;
          auto tf = self->target_of(td, c, r, "setup request failed: " + msg);
          self->setup_finished(&tf);
        });
  }

  void proceed(std::shared_ptr<job> j) {
    const auto n = j->batch->records.size();
    if (!j->batch->resume_batch_id.empty() && proto->polls()) {
      j->batch_id = j->batch->resume_batch_id;
      return start_polling(j, duration{0});
    }
    if (per_record()) {
      j->outcomes.resize(n);
      j->remaining = n;
      for (std::size_t i = 0; i < n; ++i) queue.emplace_back(j, i);
      queued.fetch_add(n, std::memory_order_relaxed);
      return pump();
    }
    if (tgt.request.on_delete == delete_mode::skip && split_skipped(*j)) {
      if (j->wire->records.empty()) return finish_with(j, {});
    }
    j->req = std::make_shared<const http_request>(proto->batch_request(j->sent(), ref()));
    send_batch_request(j);
  }

  /// final_fn of a whole-batch request (sync POST, async submit).
  final_fn batch_final(const std::shared_ptr<job>& j, const std::shared_ptr<call>& c) {
    auto self = shared_from_this();
    return [self, j, c](const failure_decision& d, const http_response& r, const std::string& msg) {
      if (d.action == failure_action::record_error) return self->fail_records(j, r, msg, false);
      self->fail_target(j, self->target_of(d, c, r, msg));
    };
  }

  /// request.delete = "skip": the wire batch without the deletes; false
  /// when the batch has none.
  bool split_skipped(job& j) const {
    const send_batch& b = *j.batch;
    if (std::none_of(b.records.begin(), b.records.end(),
                     [](const out_record& r) { return r.op == record_op::del; }))
      return false;
    auto w = std::make_shared<send_batch>();
    w->service = b.service;
    w->resume_batch_id = b.resume_batch_id;
    w->arena = b.arena;
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      if (b.records[i].op == record_op::del) continue;
      w->records.push_back(b.records[i]);
      j.wire_index.push_back(i);
    }
    j.wire = std::move(w);
    return true;
  }

  /// Ends the batch with the outcomes of the wire's records (in its order);
  /// skipped deletes are done without a request.
  void finish_with(const std::shared_ptr<job>& j, std::vector<record_outcome> wire_outcomes) {
    if (!j->wire) {
      j->outcomes = std::move(wire_outcomes);
      return finish(j);
    }
    const auto& recs = j->batch->records;
    j->outcomes.assign(recs.size(), record_outcome{});
    for (std::size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].op != record_op::del) continue;
      auto& o = j->outcomes[i];
      o.ok = true;
      o.not_sent = true;
      o.remote_id = recs[i].remote_id;
    }
    for (std::size_t k = 0; k < wire_outcomes.size() && k < j->wire_index.size(); ++k)
      j->outcomes[j->wire_index[k]] = std::move(wire_outcomes[k]);
    finish(j);
  }

  /// Acts on the protocol's verdict on a 2xx answer (batch request or
  /// poll); returns why the answer is unusable (an unknown outcome).
  std::optional<std::string> apply(const std::shared_ptr<job>& j, const http_response& r,
                                   batch_verdict v) {
    switch (v.k) {
      case batch_verdict::kind::done:
        finish_with(j, std::move(v.outcomes));
        return std::nullopt;
      case batch_verdict::kind::submitted:
        submitted(j, std::move(v.batch_id));
        return std::nullopt;
      case batch_verdict::kind::failed_records:
        // The target gave up on the whole batch: each record may succeed
        // when resent (same idempotency keys).
        fail_records(j, r, "async batch " + j->batch_id + " ended '" + v.status +
                               "' at the target (HTTP " + std::to_string(r.status) + ")",
                     true);
        return std::nullopt;
      case batch_verdict::kind::poll_again:
        if (clock::now() >= j->poll_deadline) {
          // Not a failure: the records stay Pending with the id; a later cycle polls.
          spdlog::info("target {} service {}: async batch {} still '{}' after poll_timeout; "
                       "its records stay pending and a later cycle polls it again",
                       tgt.name, service, j->batch_id, v.status);
          j->still_processing = true;
          finish(j);
          return std::nullopt;
        }
        j->poll_wait = std::min(tgt.poll_interval, j->poll_wait * 2);
        schedule_poll(j, j->poll_wait);
        return std::nullopt;
      case batch_verdict::kind::unusable:
        break;
    }
    return v.why;
  }

  /// The whole batch in one request (sync POST, async submit).
  void send_batch_request(std::shared_ptr<job> j) {
    auto self = shared_from_this();
    auto c = make_call(proto->batch_endpoint(), proto->batch_exchange(), j->req);
    run(j, c,
        [self, j](const http_response& r) {
          return self->apply(j, r, self->proto->on_batch_answer(r, j->sent()));
        },
        batch_final(j, c));
  }

  // ---- async --------------------------------------------------------------

  /// Calls start_polling once `persisted` is called; fails the batch as
  /// cancelled (id kept) when the callback is dropped uncalled.
  struct persist_guard {
    std::shared_ptr<impl> self;
    std::shared_ptr<job> j;
    std::atomic<bool> called{false};
    void fire() {
      if (called.exchange(true)) return;
      auto s = self;
      auto jj = j;
      if (!s->client.schedule(duration{0}, [s, jj] { s->start_polling(jj, std::min(s->tgt.poll_interval, duration(5))); }))
        s->fail_cancelled(jj);  // client stopped: nothing else runs for this job
    }
    ~persist_guard() {
      if (called.load()) return;
      auto s = self;
      auto jj = j;
      if (!s->client.schedule(duration{0}, [s, jj] { s->fail_cancelled(jj); })) s->fail_cancelled(jj);
    }
  };

  /// Accepted under `id`: polling starts once the caller persisted the id.
  void submitted(const std::shared_ptr<job>& j, std::string id) {
    j->batch_id = std::move(id);
    if (!j->on_submitted) return start_polling(j, std::min(tgt.poll_interval, duration(5)));
    auto guard = std::make_shared<persist_guard>();
    guard->self = shared_from_this();
    guard->j = j;
    auto cb = std::move(j->on_submitted);
    cb(j->batch_id, [guard] { guard->fire(); });
  }

  void start_polling(const std::shared_ptr<job>& j, duration first_wait) {
    if (j->finished) return;
    // Adaptive polling: a fast target answers within milliseconds, so the
    // first poll comes soon; the wait doubles up to tgt.poll_interval.
    j->poll_deadline = clock::now() + tgt.poll_timeout;
    j->poll_wait = std::max(duration(1), std::min(tgt.poll_interval, duration(5)));
    schedule_poll(j, first_wait);
  }

  void schedule_poll(const std::shared_ptr<job>& j, duration d) {
    auto self = shared_from_this();
    if (!client.schedule(d, [self, j] { self->poll(j); })) fail_cancelled(j);
  }

  void poll(std::shared_ptr<job> j) {
    if (j->finished) return;
    auto self = shared_from_this();
    auto c = make_call(endpoint_kind::poll, exchange_kind::poll,
                       std::make_shared<const http_request>(proto->poll_request(ref(), j->batch_id)));
    run(j, c,
        [self, j](const http_response& r) {
          return self->apply(j, r, self->proto->on_poll_answer(r, j->sent()));
        },
        [self, j, c](const failure_decision& d, const http_response& r, const std::string& msg) {
          if (d.action == failure_action::batch_unknown) {
            return self->fail_records(
                j, r, "async batch " + j->batch_id + " unknown to the target (HTTP " + std::to_string(r.status) + ")",
                true);
          }
          // A poll failure is never a record failure: target-level, id kept.
          self->fail_target(j, self->target_of(d, c, r, msg));
        });
  }

  // ---- per record (rest / envelope) --------------------------------------

  void pump() {
    while (slots_busy.load(std::memory_order_relaxed) < slots && !queue.empty()) {
      auto [j, i] = std::move(queue.front());
      queue.pop_front();
      queued.fetch_sub(1, std::memory_order_relaxed);
      bump_max(max_slots_busy, slots_busy.fetch_add(1, std::memory_order_relaxed) + 1);
      record_attempt(j, i);
    }
  }

  /// A record's slot is free again (its outcome set, or the batch failed).
  void record_release(const std::shared_ptr<job>& j) {
    slots_busy.fetch_sub(1, std::memory_order_relaxed);
    if (--j->remaining == 0) finish(j);
    pump();
  }

  void record_done(const std::shared_ptr<job>& j, std::size_t i, record_outcome o) {
    if (!j->target) j->outcomes[i] = std::move(o);
    record_release(j);
  }

  void record_attempt(std::shared_ptr<job> j, std::size_t i) {
    if (j->target || j->finished) return record_release(j);
    if (auto done = proto->skipped(j->batch->records[i])) return record_done(j, i, std::move(*done));
    auto plan = proto->plan_record(*j->batch, j->batch->records[i], ref());
    if (!plan.request) return record_done(j, i, std::move(plan.without_request));
    auto c = make_call(plan.endpoint, exchange_kind::record,
                       std::make_shared<const http_request>(std::move(*plan.request)));
    c->record = i;
    auto self = shared_from_this();
    run(j, c,
        [self, j, i](const http_response& r) -> std::optional<std::string> {
          auto v = self->proto->on_record_answer(r, j->batch->records[i]);
          if (!v.outcome) return v.why;  // unreadable 2xx: an unknown outcome
          self->record_done(j, i, std::move(*v.outcome));
          return std::nullopt;
        },
        [self, j, i, c](const failure_decision& d, const http_response& r, const std::string& msg) {
          record_outcome o;
          o.http_status = r.status;
          o.received = cap_received(r.body);
          switch (d.action) {
            case failure_action::record_gone:
              o.ok = true;
              o.remote_id = j->batch->records[i].remote_id;
              return self->record_done(j, i, std::move(o));
            case failure_action::record_error:
            case failure_action::batch_unknown:
              o.error = msg;
              return self->record_done(j, i, std::move(o));
            default:
              if (!j->target) self->fail_target(j, self->target_of(d, c, r, msg));
              return self->record_release(j);
          }
        });
  }
};

send_driver::send_driver(target_runtime& rt, std::uint32_t service, std::string service_name,
                         const service_envelope& envelope)
    : p_(std::make_shared<impl>(nullptr, rt, service, std::move(service_name), envelope)) {}

send_driver::send_driver(const target_config& tgt, http_client& client, std::uint32_t service) {
  auto own = std::make_unique<target_runtime>(tgt, client);
  auto& rt = *own;
  p_ = std::make_shared<impl>(std::move(own), rt, service, std::string());
}

send_driver::~send_driver() = default;

void send_driver::send(std::shared_ptr<send_batch> batch, std::function<void(batch_result)> done,
                       submitted_fn on_submitted) {
  auto j = std::make_shared<job>();
  j->batch = std::move(batch);
  j->done = std::move(done);
  j->on_submitted = std::move(on_submitted);
  p_->batches_active.fetch_add(1, std::memory_order_relaxed);
  auto self = p_;
  if (!p_->client.schedule(duration{0}, [self, j] { self->start(j); })) p_->fail_cancelled(j);
}

send_driver_status send_driver::status() const {
  send_driver_status s;
  s.requests = p_->requests.load();
  s.retries = p_->retries.load();
  s.unknown_outcome_retries = p_->unknown_retries.load();
  s.target_failures = p_->target_failures.load();
  s.in_flight = p_->in_flight.load();
  s.max_in_flight = p_->max_in_flight.load();
  s.slots_busy = p_->slots_busy.load();
  s.max_slots_busy = p_->max_slots_busy.load();
  s.queued = p_->queued.load();
  s.batches_active = p_->batches_active.load();
  s.batches_done = p_->batches_done.load();
  s.token_fetches = p_->rt.auth().token_fetches();
  return s;
}

}  // namespace stampede
