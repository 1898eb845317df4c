// Failure classes against the real reference target (docs/failure-classes.md):
// target-level failures leave every record untouched, record-level errors are
// per record, unknown outcomes repeat the same request, the breaker opens
// and half-opens, async batches survive slow targets and failing polls.
#include "http_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace stampede;
using namespace stampede::test;

namespace {

const target_protocol k_protocols[] = {target_protocol::sync_batch, target_protocol::async_batch,
                                       target_protocol::rest};

const char* name(target_protocol p) {
  return p == target_protocol::sync_batch ? "sync" : p == target_protocol::async_batch ? "async" : "rest";
}

/// Records every exchange event (copied out of the views).
struct recorder : exchange_observer {
  struct ev {
    exchange_kind kind;
    int status;
    bool timed_out, retry, unknown_outcome;
    std::uint32_t attempt;
  };
  std::mutex mu;
  std::vector<ev> events;
  std::function<void(const exchange_event&)> also;
  void on_exchange(const exchange_event& e) override {
    {
      std::lock_guard lk(mu);
      events.push_back({e.kind, e.status, e.timed_out, e.retry, e.unknown_outcome, e.attempt});
    }
    if (also) also(e);
  }
  std::vector<ev> snapshot() {
    std::lock_guard lk(mu);
    return events;
  }
};

void check_untouched(const batch_result& r, failure_class cls) {
  CHECK(r.outcomes.empty());
  REQUIRE(r.target);
  CHECK(r.target->cls == cls);
  INFO(r.target->reason);
  CHECK_FALSE(r.target->reason.empty());
}

}  // namespace

TEST_CASE("wrong static key: target-level credentials, no record touched", "[integration][http][failure]") {
  target::options o;
  o.auth = "static";
  o.static_key = "the-right-key";
  fixture f(o);
  for (auto p : k_protocols) {
    INFO(name(p));
    const std::uint32_t svc = 100 + static_cast<std::uint32_t>(p);
    auto t = make_target(f.srv.port(), p);
    t.auth.kind = auth_kind::static_key;
    t.auth.value = "Bearer wrong-key-123";
    t.in_flight = 1;  // rest: one record at a time, so the others are provably never sent
    driver d(t, f.client, svc);
    auto r = send_and_wait(d, make_batch(svc, "k", 5, record_op::create));
    check_untouched(r, failure_class::credentials);
    CHECK(r.target->http_status == 401);
    CHECK(r.target->reason.find("HTTP 401") != std::string::npos);
    CHECK(r.target->reason.find("/services/" + std::to_string(svc)) != std::string::npos);
    CHECK(r.target->reason.find("wrong-key-123") == std::string::npos);
    CHECK(r.target->url.rfind(t.base_url + "/services/", 0) == 0);
    CHECK(r.http_attempts == 1);  // no retry; rest: the other records were never sent
  }
  CHECK(stat(f.srv, "/records") == 0);
  CHECK(stat(f.srv, "/requests") == 3);
}

TEST_CASE("a missing route is target-level, a missing record is record-level", "[integration][http][failure]") {
  fixture f;
  for (auto p : k_protocols) {
    INFO(name(p));
    const std::uint32_t svc = 110 + static_cast<std::uint32_t>(p);
    auto t = make_target(f.srv.port(), p);
    t.paths.sync = "/api/v9/{service}/sync";
    t.paths.batch = "/api/v9/{service}/batches";
    t.paths.record = "/api/v9/{service}/records";
    t.in_flight = 1;
    driver d(t, f.client, svc);
    auto r = send_and_wait(d, make_batch(svc, "k", 3, record_op::create));
    check_untouched(r, failure_class::route);
    CHECK(r.target->http_status == 404);
    CHECK(r.target->reason.find("/api/v9/") != std::string::npos);
    CHECK(r.target->reason.find("no such endpoint") != std::string::npos);  // the server's message
    CHECK(r.http_attempts == 1);
  }
  // REST update of a record the target does not know: 404 with a JSON error -> that record only
  driver d(make_target(f.srv.port(), target_protocol::rest), f.client, 115);
  auto created = send_and_wait(d, make_batch(115, "r", 2, record_op::create));
  REQUIRE(count_ok(created) == 2);
  std::vector<std::string> ids{created.outcomes[0].remote_id, "115-999999"};
  auto u = send_and_wait(d, make_batch(115, "r", 2, record_op::update, 2, &ids));
  CHECK_FALSE(u.target);
  REQUIRE(u.outcomes.size() == 2);
  CHECK(u.outcomes[0].ok);
  CHECK(u.outcomes[0].http_status == 200);
  CHECK_FALSE(u.outcomes[1].ok);
  CHECK_FALSE(u.outcomes[1].retryable);
  CHECK(u.outcomes[1].http_status == 404);
  CHECK(u.outcomes[1].received.find("not_found") != std::string::npos);
  CHECK(u.outcomes[1].error.find("HTTP 404") != std::string::npos);
  // ... and a delete of it is already done
  auto del = send_and_wait(d, make_batch(115, "r", 2, record_op::del, 3, &ids));
  CHECK(count_ok(del) == 2);
}

TEST_CASE("503 until request_attempts: target-level exhausted", "[integration][http][failure]") {
  target::options o;
  o.f.fail_rate = 1.0;
  fixture f(o);
  for (auto p : k_protocols) {
    INFO(name(p));
    const std::uint32_t svc = 120 + static_cast<std::uint32_t>(p);
    auto t = make_target(f.srv.port(), p);
    t.request_attempts = 3;
    t.in_flight = 1;
    driver d(t, f.client, svc);
    auto r = send_and_wait(d, make_batch(svc, "k", 4, record_op::create));
    check_untouched(r, failure_class::exhausted);
    CHECK(r.target->http_status == 503);
    CHECK(r.target->reason.find("HTTP 503: injected failure") != std::string::npos);
    CHECK(r.target->reason.find("gave up after 3 attempts") != std::string::npos);
    CHECK(r.http_attempts == 3);  // rest: the first record's three, the rest never sent
    CHECK(d.status().retries == 2);
  }
  CHECK(stat(f.srv, "/records") == 0);
}

TEST_CASE("a whole batch rejected with a final 4xx is a record-level error for each record",
          "[integration][http][failure]") {
  fixture f;
  for (auto p : {target_protocol::sync_batch, target_protocol::async_batch}) {
    INFO(name(p));
    const std::uint32_t svc = 130 + static_cast<std::uint32_t>(p);
    driver d(make_target(f.srv.port(), p), f.client, svc);
    auto b = make_batch(svc, "k", 3, record_op::create);
    b->arena[b->records[1].data_off + 1] = '!';  // invalid JSON: the target answers 400
    auto r = send_and_wait(d, b);
    CHECK_FALSE(r.target);
    REQUIRE(r.outcomes.size() == 3);
    for (const auto& oc : r.outcomes) {
      CHECK_FALSE(oc.ok);
      CHECK_FALSE(oc.retryable);
      CHECK(oc.http_status == 400);
      CHECK(oc.error.find("HTTP 400") != std::string::npos);
      CHECK_FALSE(oc.received.empty());
    }
  }
  CHECK(stat(f.srv, "/records") == 0);
}

TEST_CASE("circuit breaker opens, refuses without sending, half-opens after the cooldown",
          "[integration][http][failure]") {
  target::options o;
  o.f.fail_rate = 1.0;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::sync_batch);
  t.request_attempts = 1;
  t.breaker_failures = 2;
  t.breaker_cooldown = duration{300};
  driver d(t, f.client, 140);
  auto rec = std::make_shared<recorder>();
  std::vector<breaker_state> transitions;
  struct breaker_log : exchange_observer {
    std::vector<breaker_state>* out;
    void on_exchange(const exchange_event&) override {}
    void on_breaker(const breaker_event& e) override { out->push_back(e.to); }
  };
  auto bl = std::make_shared<breaker_log>();
  bl->out = &transitions;
  d.rt.add_observer(bl);

  check_untouched(send_and_wait(d, make_batch(140, "a", 2, record_op::create)), failure_class::exhausted);
  CHECK(d.rt.status().breaker == breaker_state::closed);
  check_untouched(send_and_wait(d, make_batch(140, "b", 2, record_op::create)), failure_class::exhausted);
  auto st = d.rt.status();
  CHECK(st.breaker == breaker_state::open);
  CHECK(st.consecutive_failures == 2);
  CHECK(st.last_failure.find("HTTP 503") != std::string::npos);

  const auto before = stat(f.srv, "/requests");
  auto refused = send_and_wait(d, make_batch(140, "c", 2, record_op::create));
  check_untouched(refused, failure_class::circuit_open);
  CHECK(refused.target->reason.find("HTTP 503") != std::string::npos);  // says why it opened
  CHECK(refused.http_attempts == 0);
  CHECK(stat(f.srv, "/requests") == before);  // nothing sent

  // after the cooldown one batch probes: still failing -> open again
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  check_untouched(send_and_wait(d, make_batch(140, "d", 2, record_op::create)), failure_class::exhausted);
  CHECK(d.rt.status().breaker == breaker_state::open);
  CHECK(stat(f.srv, "/requests") == before + 1);

  // the target recovers: the next probe closes it
  f.srv.set_faults({});
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  auto ok = send_and_wait(d, make_batch(140, "e", 2, record_op::create));
  CHECK(count_ok(ok) == 2);
  CHECK(d.rt.status().breaker == breaker_state::closed);
  CHECK(d.rt.status().consecutive_failures == 0);
  CHECK(transitions == std::vector<breaker_state>{breaker_state::open, breaker_state::half_open,
                                                  breaker_state::open, breaker_state::half_open,
                                                  breaker_state::closed});
}

TEST_CASE("an async batch slower than request_timeout keeps its results and remote ids",
          "[integration][http][failure]") {
  target::options o;
  o.f.batch_delay_ms = 700;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.request_timeout = duration{100};  // before poll_timeout: the deadline was 2 x 100 ms
  t.request_attempts = 2;
  t.poll_interval = duration{20};
  t.response.keep_success_answers = true;  // [journal] payloads = "all": answers kept
  driver d(t, f.client, 150);
  auto r = send_and_wait(d, make_batch(150, "s", 20, record_op::create));
  CHECK_FALSE(r.target);
  CHECK(r.still_processing_batch_id.empty());
  REQUIRE(r.outcomes.size() == 20);
  std::set<std::string> ids;
  for (const auto& oc : r.outcomes) {
    INFO(oc.error);
    CHECK(oc.ok);
    CHECK(oc.http_status == 200);
    CHECK(oc.received.find(oc.remote_id) != std::string::npos);
    ids.insert(oc.remote_id);
  }
  CHECK(ids.size() == 20);
  CHECK(d.status().retries == 0);  // "processing" polls are not retries
}

TEST_CASE("async: polling starts after the id is persisted, and a poll failure is target-level with the id kept",
          "[integration][http][failure]") {
  target::options o;
  o.f.batch_delay_ms = 50;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.request_attempts = 3;
  driver d(t, f.client, 160);

  std::promise<std::pair<std::string, std::function<void()>>> submitted;
  auto fut_sub = submitted.get_future();
  auto prom = std::make_shared<std::promise<batch_result>>();
  auto fut = prom->get_future();
  auto batch = make_batch(160, "p", 5, record_op::create);
  d.send(batch, [prom](batch_result r) { prom->set_value(std::move(r)); },
         [&submitted](const std::string& id, std::function<void()> persisted) {
           submitted.set_value({id, std::move(persisted)});
         });
  REQUIRE(fut_sub.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto [id, persisted] = fut_sub.get();
  CHECK(id.rfind("b-", 0) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(stat(f.srv, "/requests") == 1);  // the submit only: no poll before persisted()
  target::faults fl;
  fl.fail_rate = 1.0;
  f.srv.set_faults(fl);  // every poll now answers 503
  persisted();
  REQUIRE(fut.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto r = fut.get();
  check_untouched(r, failure_class::exhausted);  // accepted records are never failed by a poll
  CHECK(r.still_processing_batch_id == id);
  CHECK(r.target->reason.find("GET") != std::string::npos);
  CHECK(r.target->reason.find(id) != std::string::npos);

  // a later cycle resumes: no new submit, the stored results arrive
  f.srv.set_faults({});
  auto again = make_batch(160, "p", 5, record_op::create);
  again->detached = true;
  again->resume_batch_id = id;
  auto r2 = send_and_wait(d, again);
  CHECK_FALSE(r2.target);
  REQUIRE(count_ok(r2) == 5);
  for (const auto& oc : r2.outcomes) CHECK_FALSE(oc.remote_id.empty());
  CHECK(stat(f.srv, "/batches") == 1);
  CHECK(stat(f.srv, "/creates") == 5);
}

TEST_CASE("async: a batch the target forgot is a retryable record-level error", "[integration][http][failure]") {
  fixture f;
  driver d(make_target(f.srv.port(), target_protocol::async_batch), f.client, 170);
  auto b = make_batch(170, "g", 3, record_op::create);
  b->resume_batch_id = "b-424242";
  auto r = send_and_wait(d, b);
  CHECK_FALSE(r.target);
  REQUIRE(r.outcomes.size() == 3);
  for (const auto& oc : r.outcomes) {
    CHECK_FALSE(oc.ok);
    CHECK(oc.retryable);
    CHECK(oc.http_status == 404);
    CHECK(oc.error.find("async batch b-424242 unknown to the target") != std::string::npos);
  }
  CHECK(stat(f.srv, "/batches") == 0);
}

TEST_CASE("async: a dropped persisted callback ends the batch as cancelled with its id",
          "[integration][http][failure]") {
  fixture f;
  driver d(make_target(f.srv.port(), target_protocol::async_batch), f.client, 175);
  auto prom = std::make_shared<std::promise<batch_result>>();
  auto fut = prom->get_future();
  std::string seen;
  d.send(make_batch(175, "x", 2, record_op::create), [prom](batch_result r) { prom->set_value(std::move(r)); },
         [&seen](const std::string& id, std::function<void()>) { seen = id; });
  REQUIRE(fut.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto r = fut.get();
  check_untouched(r, failure_class::cancelled);
  CHECK(r.still_processing_batch_id == seen);
}

TEST_CASE("unknown outcome: the same request is repeated with the same idempotency keys",
          "[integration][http][failure]") {
  for (auto p : {target_protocol::sync_batch, target_protocol::rest}) {
    INFO(name(p));
    target::options o;
    o.f.latency_ms = 400;  // answers come after request_timeout: the first attempt times out
    fixture f(o);
    auto t = make_target(f.srv.port(), p);
    t.request_timeout = duration{150};
    t.in_flight = 4;
    driver d(t, f.client, 180);
    auto rec = std::make_shared<recorder>();
    std::atomic<bool> cleared{false};
    rec->also = [&](const exchange_event& e) {
      if (e.timed_out && !cleared.exchange(true)) f.srv.set_faults({});  // the target recovers
    };
    d.rt.add_observer(rec);
    auto r = send_and_wait(d, make_batch(180, "u", 4, record_op::create));
    CHECK_FALSE(r.target);
    CHECK(count_ok(r) == 4);
    const auto expected_unknown = p == target_protocol::rest ? 4u : 1u;
    CHECK(r.unknown_outcome_retries == expected_unknown);
    CHECK(d.status().unknown_outcome_retries == expected_unknown);
    CHECK(stat(f.srv, "/creates") == 4);
    CHECK(stat(f.srv, "/replays") == 4);  // the repeat carried the same keys: replayed, not re-applied
    CHECK(stat(f.srv, "/duplicates") == 0);
    std::size_t repeats = 0;
    for (const auto& e : rec->snapshot()) {
      if (e.timed_out) CHECK_FALSE(e.retry);
      if (e.retry) {
        CHECK(e.unknown_outcome);
        CHECK(e.attempt == 2);
        ++repeats;
      }
    }
    CHECK(repeats == expected_unknown);
  }
}
