#include "pipeline/send_driver.hpp"

#include "pipeline/auth.hpp"
#include "pipeline/request_builder.hpp"
#include "pipeline/response_map.hpp"
#include "pipeline/retry.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <random>

namespace stampede {
namespace {

using clock = std::chrono::steady_clock;

struct job {
  std::shared_ptr<send_batch> batch;
  std::function<void(batch_result)> done;
  std::vector<record_outcome> outcomes;
  std::size_t remaining = 0;
  int last_status = 0;
  std::uint32_t requests = 0;
  // batch protocols
  std::shared_ptr<const http_request> req;
  std::uint32_t send_attempts = 0;
  std::uint32_t poll_failures = 0;
  std::string batch_id;
  clock::time_point poll_deadline;
  duration poll_wait{0};  // next wait between polls: starts small, doubles up to poll_interval
  // record protocols
  std::vector<std::uint32_t> record_attempts;
  bool finished = false;
};

void bump_max(std::atomic<std::uint64_t>& mx, std::uint64_t v) {
  auto cur = mx.load(std::memory_order_relaxed);
  while (v > cur && !mx.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}

}  // namespace

struct send_driver::impl : std::enable_shared_from_this<send_driver::impl> {
  target_config tgt;
  http_client& client;
  std::uint32_t service;
  std::shared_ptr<authenticator> auth;
  std::mt19937_64 rng{std::random_device{}()};
  std::deque<std::pair<std::shared_ptr<job>, std::size_t>> queue;  // rest/envelope
  std::uint32_t slots = 1;

  std::atomic<std::uint64_t> requests{0}, retries{0}, in_flight{0}, max_in_flight{0},
      slots_busy{0}, max_slots_busy{0}, queued{0}, batches_active{0}, batches_done{0};

  impl(const target_config& t, http_client& c, std::uint32_t s)
      : tgt(t), client(c), service(s),
        auth(std::make_shared<authenticator>(t.auth, c, t.connect_timeout, t.request_timeout)),
        slots(std::max<std::uint32_t>(1, t.in_flight)) {}

  bool per_record() const {
    return tgt.protocol == target_protocol::rest || tgt.format == payload_format::envelope;
  }

  std::string describe(const http_response& r) const {
    std::string s;
    if (r.timed_out) s = "timed out: " + r.error;
    else if (r.transport_error()) s = "connection error: " + r.error;
    else {
      s = "HTTP " + std::to_string(r.status);
      if (auto e = error_text(r.body, tgt.response)) s += ": " + *e;
      else if (!r.body.empty()) s += ": " + r.body.substr(0, 200);
    }
    return auth->redact(s);
  }

  // ---- plumbing -----------------------------------------------------------

  void finish(const std::shared_ptr<job>& j) {
    if (j->finished) return;
    j->finished = true;
    batch_result res;
    res.batch = j->batch;
    res.outcomes = std::move(j->outcomes);
    res.http_status = j->last_status;
    res.http_attempts = j->requests;
    auto done = std::move(j->done);
    batches_active.fetch_sub(1, std::memory_order_relaxed);
    batches_done.fetch_add(1, std::memory_order_relaxed);
    if (done) done(std::move(res));
  }

  void fail_all(const std::shared_ptr<job>& j, const std::string& msg, bool retryable) {
    j->outcomes.assign(j->batch->records.size(), record_outcome{false, {}, msg, retryable});
    finish(j);
  }

  /// Sends `rq` with the auth header; one refresh-and-repeat on an OAuth2 401.
  void exchange(const std::shared_ptr<job>& j, std::shared_ptr<const http_request> rq,
                std::function<void(http_response)> cb, bool may_refresh = true) {
    auto self = shared_from_this();
    auth->get([self, j, rq, cb = std::move(cb), may_refresh](const auth_result& a) mutable {
      if (!a.ok()) {
        http_response r;
        r.error = a.error;
        return cb(std::move(r));
      }
      http_request q = *rq;
      std::string used;
      if (a.header) {
        q.headers.push_back(*a.header);
        used = a.header->second;
      }
      self->requests.fetch_add(1, std::memory_order_relaxed);
      bump_max(self->max_in_flight, self->in_flight.fetch_add(1, std::memory_order_relaxed) + 1);
      ++j->requests;
      auto on_done = [self, j, rq, cb, may_refresh, used](http_response r) mutable {
        self->in_flight.fetch_sub(1, std::memory_order_relaxed);
        j->last_status = r.status;
        if (r.status == 401 && may_refresh && self->auth->refreshable()) {
          self->auth->invalidate(used);
          return self->exchange(j, rq, std::move(cb), false);
        }
        cb(std::move(r));
      };
      if (!self->client.submit(std::move(q), on_done)) {
        self->in_flight.fetch_sub(1, std::memory_order_relaxed);
        http_response r;
        r.error = "cancelled: http client stopped";
        cb(std::move(r));
      }
    });
  }

  /// Schedules `again` after a backoff if `attempts` (already counting the
  /// failed one) is below max_attempts; otherwise calls `give_up`.
  void retry_or(std::uint32_t attempts, std::optional<duration> retry_after,
                std::function<void()> again, std::function<void()> give_up) {
    if (attempts >= std::max<std::uint32_t>(1, tgt.max_attempts)) return give_up();
    retries.fetch_add(1, std::memory_order_relaxed);
    auto d = retry_delay(attempts, tgt.retry_backoff_base, tgt.retry_backoff_max, retry_after, rng);
    if (!client.schedule(d, std::move(again))) give_up();
  }

  static std::string gave_up(const std::string& msg, std::uint32_t attempts) {
    return msg + " (gave up after " + std::to_string(attempts) + " attempts)";
  }

  // ---- entry --------------------------------------------------------------

  void start(std::shared_ptr<job> j) {
    const auto n = j->batch->records.size();
    if (n == 0) return finish(j);
    if (per_record()) {
      j->outcomes.resize(n);
      j->remaining = n;
      j->record_attempts.assign(n, 0);
      for (std::size_t i = 0; i < n; ++i) queue.emplace_back(j, i);
      queued.fetch_add(n, std::memory_order_relaxed);
      return pump();
    }
    j->req = std::make_shared<const http_request>(batch_request(tgt, *j->batch, service));
    if (tgt.protocol == target_protocol::sync_batch) sync_attempt(j);
    else async_submit(j);
  }

  // ---- sync ---------------------------------------------------------------

  // One batch-level request (sync POST or async submit) through the retry
  // table. `accepted` handles a 2xx answer: nullopt when it is done with the
  // job, else why the answer was unusable (then retried like a 5xx). A final
  // status fails every record; retries repeat `again`, then give up.
  template <class Accepted, class Again>
  void attempt_batch(std::shared_ptr<job> j, Accepted accepted, Again again) {
    auto self = shared_from_this();
    exchange(j, j->req, [self, j, accepted, again](http_response r) {
      ++j->send_attempts;
      auto d = decide(r.status, r.transport_error(), r.timed_out);
      std::string msg;
      if (d.success()) {
        std::optional<std::string> unusable = accepted(r);
        if (!unusable)
          return;
        msg = std::move(*unusable);
      } else if (!d.retry()) {
        return self->fail_all(j, self->describe(r), false);
      } else {
        msg = self->describe(r);
      }
      self->retry_or(
          j->send_attempts, r.retry_after, again,
          [self, j, msg] { self->fail_all(j, gave_up(msg, j->send_attempts), true); });
    });
  }

  void sync_attempt(std::shared_ptr<job> j) {
    auto self = shared_from_this();
    attempt_batch(
      j,
      [self, j](const http_response& r) -> std::optional<std::string> {
        auto m = map_batch_response(r.body, self->tgt.response, *j->batch);
        if (m.err != map_errc::ok)
          return m.error;
        j->outcomes = std::move(m.outcomes);
        self->finish(j);
        return std::nullopt;
      },
      [self, j] { self->sync_attempt(j); });
  }

  // ---- async --------------------------------------------------------------

  void async_submit(std::shared_ptr<job> j) {
    auto self = shared_from_this();
    attempt_batch(
      j,
      [self, j](const http_response& r) -> std::optional<std::string> {
        auto id = json_value_at(r.body, "/batchId");
        if (!id)
          id = json_value_at(r.body, "/id");
        if (!id || id->empty())
          return "malformed response: no batchId in HTTP " + std::to_string(r.status) + " answer";
        j->batch_id = *id;
        j->poll_deadline =
          clock::now() + self->tgt.request_timeout * std::max<std::uint32_t>(1, self->tgt.max_attempts);
        // Adaptive polling: a fast target answers within milliseconds, so the
        // first poll comes soon; the wait doubles up to tgt.poll_interval.
        j->poll_wait = std::min(self->tgt.poll_interval, duration(5));
        self->schedule_poll(j, j->poll_wait);
        return std::nullopt;
      },
      [self, j] { self->async_submit(j); });
  }

  void schedule_poll(const std::shared_ptr<job>& j, duration d) {
    auto self = shared_from_this();
    if (!client.schedule(d, [self, j] { self->poll(j); }))
      fail_all(j, "cancelled: http client stopped", true);
  }

  void poll(std::shared_ptr<job> j) {
    auto self = shared_from_this();
    auto rq = std::make_shared<const http_request>(batch_status_request(tgt, service, j->batch_id));
    exchange(j, rq, [self, j](http_response r) {
      auto d = decide(r.status, r.transport_error(), r.timed_out);
      std::string msg;
      if (d.success()) {
        auto st = json_value_at(r.body, "/status");
        if (st && *st == "done") {
          auto m = map_batch_response(r.body, self->tgt.response, *j->batch);
          if (m.err == map_errc::ok) {
            j->outcomes = std::move(m.outcomes);
            return self->finish(j);
          }
          msg = m.error;
        } else if (st) {
          j->poll_failures = 0;
          if (clock::now() >= j->poll_deadline)
            return self->fail_all(j, "async batch " + j->batch_id + " still '" + *st +
                                         "' at the poll deadline (max_attempts x request_timeout)",
                                  true);
          j->poll_wait = std::min(self->tgt.poll_interval, j->poll_wait * 2);
          return self->schedule_poll(j, j->poll_wait);
        } else {
          msg = "malformed response: batch status without a 'status' field";
        }
      } else if (!d.retry()) {
        return self->fail_all(j, "polling async batch " + j->batch_id + ": " + self->describe(r), true);
      } else {
        msg = self->describe(r);
      }
      ++j->poll_failures;
      self->retry_or(
          j->poll_failures, r.retry_after, [self, j] { self->poll(j); },
          [self, j, msg] {
            self->fail_all(j, "polling async batch " + j->batch_id + ": " + gave_up(msg, j->poll_failures), true);
          });
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

  void record_done(const std::shared_ptr<job>& j, std::size_t i, record_outcome o) {
    j->outcomes[i] = std::move(o);
    slots_busy.fetch_sub(1, std::memory_order_relaxed);
    if (--j->remaining == 0) finish(j);
    pump();
  }

  void record_attempt(std::shared_ptr<job> j, std::size_t i) {
    const auto& rec = j->batch->records[i];
    std::shared_ptr<const http_request> rq;
    if (tgt.format == payload_format::envelope) {
      rq = std::make_shared<const http_request>(envelope_request(tgt, *j->batch, rec, service));
    } else {
      rest_errc err;
      auto q = rest_request(tgt, *j->batch, rec, service, err);
      if (err == rest_errc::missing_remote_id)
        return record_done(j, i, record_outcome{false, {}, "no remote id known for " +
                                      std::string(op_name(rec.op)) + " of key " + rec.key +
                                      " (the ledger has none; it must be created first)", false});
      rq = std::make_shared<const http_request>(std::move(q));
    }
    auto self = shared_from_this();
    exchange(j, rq, [self, j, i](http_response r) {
      const auto& rec = j->batch->records[i];
      ++j->record_attempts[i];
      auto d = decide(r.status, r.transport_error(), r.timed_out);
      std::string msg;
      if (d.success()) {
        auto o = map_single_response(r.body, self->tgt.response);
        if (o.ok || !o.retryable) {
          if (o.ok && o.remote_id.empty()) o.remote_id = rec.remote_id;
          return self->record_done(j, i, std::move(o));
        }
        msg = o.error;
      } else if (r.status == 404 && rec.op == record_op::del &&
                 self->tgt.format == payload_format::records) {
        return self->record_done(j, i, record_outcome{true, rec.remote_id, {}, false});
      } else if (!d.retry()) {
        return self->record_done(j, i, record_outcome{false, {}, self->describe(r), false});
      } else {
        msg = self->describe(r);
      }
      self->retry_or(
          j->record_attempts[i], r.retry_after, [self, j, i] { self->record_attempt(j, i); },
          [self, j, i, msg] {
            self->record_done(j, i, record_outcome{false, {}, gave_up(msg, j->record_attempts[i]), true});
          });
    });
  }
};

send_driver::send_driver(const target_config& tgt, http_client& client, std::uint32_t service)
    : p_(std::make_shared<impl>(tgt, client, service)) {}

send_driver::~send_driver() = default;

void send_driver::send(std::shared_ptr<send_batch> batch, std::function<void(batch_result)> done) {
  auto j = std::make_shared<job>();
  j->batch = std::move(batch);
  j->done = std::move(done);
  p_->batches_active.fetch_add(1, std::memory_order_relaxed);
  auto self = p_;
  if (!p_->client.schedule(duration{0}, [self, j] { self->start(j); }))
    p_->fail_all(j, "cancelled: http client stopped", true);
}

send_driver_status send_driver::status() const {
  send_driver_status s;
  s.requests = p_->requests.load();
  s.retries = p_->retries.load();
  s.in_flight = p_->in_flight.load();
  s.max_in_flight = p_->max_in_flight.load();
  s.slots_busy = p_->slots_busy.load();
  s.max_slots_busy = p_->max_slots_busy.load();
  s.queued = p_->queued.load();
  s.batches_active = p_->batches_active.load();
  s.batches_done = p_->batches_done.load();
  s.token_fetches = p_->auth->token_fetches();
  return s;
}

}  // namespace stampede
