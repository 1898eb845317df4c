#include "http_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace stampede;
using namespace stampede::test;

namespace {

const target_protocol k_protocols[] = {target_protocol::sync_batch, target_protocol::async_batch,
                                       target_protocol::rest};

}  // namespace

TEST_CASE("503s and 429s are retried to success", "[integration][http]") {
  target::options o;
  o.f.fail_rate = 0.5;
  o.f.rate_limit_rate = 0.2;
  o.f.retry_after_s = 0;
  o.f.seed = 12345;
  fixture f(o);
  std::int64_t expected = 0;
  for (auto p : k_protocols) {
    const std::uint32_t svc = 30 + static_cast<std::uint32_t>(p);
    driver d(make_target(f.srv.port(), p), f.client, svc);
    for (int batch = 0; batch < 3; ++batch) {
      auto r = send_and_wait(d, make_batch(svc, "b" + std::to_string(batch) + "-", 10, record_op::create));
      for (const auto& o2 : r.outcomes) {
        INFO(o2.error);
        CHECK(o2.ok);
      }
      expected += 10;
    }
    CHECK(d.status().retries > 0);
    CHECK(d.status().requests > d.status().batches_done);
  }
  CHECK(stat(f.srv, "/faults/5xx") > 0);
  CHECK(stat(f.srv, "/faults/429") > 0);
  CHECK(stat(f.srv, "/creates") == expected);
  CHECK(stat(f.srv, "/live_keys") == expected);
}

TEST_CASE("Retry-After is honoured and exhaustion is a target-level failure", "[integration][http]") {
  target::options o;
  o.f.rate_limit_rate = 1.0;  // every request 429
  o.f.retry_after_s = 0;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::sync_batch);
  t.request_attempts = 3;
  driver d(t, f.client, 40);
  auto r = send_and_wait(d, make_batch(40, "x", 4, record_op::create));
  CHECK(r.http_status == 429);
  CHECK(r.http_attempts == 3);
  CHECK(r.outcomes.empty());
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::exhausted);
  CHECK(r.target->reason.find("HTTP 429") != std::string::npos);
  CHECK(r.target->reason.find("gave up after 3 attempts") != std::string::npos);
  CHECK(d.status().retries == 2);

  // the client hands the Retry-After seconds to the retry policy
  target::faults fl;
  fl.rate_limit_rate = 1.0;
  fl.retry_after_s = 7;
  f.srv.set_faults(fl);
  std::promise<http_response> p;
  http_request rq;
  rq.method = "POST";
  rq.url = t.base_url + "/services/40/sync";
  rq.body = "{}";
  REQUIRE(f.client.submit(rq, [&p](http_response resp) { p.set_value(std::move(resp)); }));
  auto resp = p.get_future().get();
  CHECK(resp.status == 429);
  REQUIRE(resp.retry_after);
  CHECK(*resp.retry_after == duration{7000});
}

TEST_CASE("dropped connections and malformed responses are recovered by retry", "[integration][http]") {
  target::options o;
  o.f.drop_rate = 0.25;
  o.f.malformed_rate = 0.25;
  o.f.seed = 99;
  fixture f(o);
  std::int64_t expected = 0;
  for (auto p : k_protocols) {
    const std::uint32_t svc = 50 + static_cast<std::uint32_t>(p);
    driver d(make_target(f.srv.port(), p), f.client, svc);
    for (int batch = 0; batch < 3; ++batch) {
      auto r = send_and_wait(d, make_batch(svc, "d" + std::to_string(batch) + "-", 10, record_op::create));
      for (const auto& oc : r.outcomes) {
        INFO(oc.error);
        CHECK(oc.ok);
      }
      expected += 10;
    }
    CHECK(d.status().retries > 0);
  }
  CHECK(stat(f.srv, "/faults/dropped") > 0);
  CHECK(stat(f.srv, "/faults/malformed") > 0);
  // idempotency keys make resends after a lost answer apply once
  CHECK(stat(f.srv, "/live_keys") == expected);
}

TEST_CASE("slow async batches are polled to completion", "[integration][http]") {
  target::options o;
  o.f.batch_delay_ms = 300;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.poll_interval = duration{25};
  driver d(t, f.client, 60);
  auto r = send_and_wait(d, make_batch(60, "s", 25, record_op::create));
  CHECK(count_ok(r) == 25);
  CHECK(r.http_attempts >= 3);  // submit + at least one "processing" poll + the final poll
  CHECK(stat(f.srv, "/creates") == 25);
}

TEST_CASE("async batch still processing at poll_timeout stays pending with its id", "[integration][http]") {
  target::options o;
  o.f.batch_delay_ms = 60000;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.poll_timeout = duration{200};
  driver d(t, f.client, 61);
  auto r = send_and_wait(d, make_batch(61, "s", 3, record_op::create));
  CHECK(r.outcomes.empty());         // records NOT failed
  CHECK_FALSE(r.target);             // not a failure at all
  CHECK(r.still_processing_batch_id.rfind("b-", 0) == 0);
  CHECK(stat(f.srv, "/creates") == 3);
}

TEST_CASE("REST in-flight bound is respected across batches", "[integration][http]") {
  target::options o;
  o.f.latency_ms = 5;
  o.threads = 4;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::rest);
  t.in_flight = 3;
  driver d(t, f.client, 70);
  std::vector<std::future<batch_result>> futs;
  for (int b = 0; b < 4; ++b) {
    auto prom = std::make_shared<std::promise<batch_result>>();
    futs.push_back(prom->get_future());
    d.send(make_batch(70, "f" + std::to_string(b) + "-", 15, record_op::create),
           [prom](batch_result r) { prom->set_value(std::move(r)); });
  }
  for (auto& fu : futs) {
    REQUIRE(fu.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    CHECK(count_ok(fu.get()) == 15);
  }
  auto st = d.status();
  CHECK(st.max_slots_busy == 3);   // reached, never exceeded
  CHECK(st.max_in_flight <= 3);
  CHECK(st.in_flight == 0);
  CHECK(st.queued == 0);
  CHECK(stat(f.srv, "/creates") == 60);
}

TEST_CASE("transport errors: nothing listening", "[integration][http]") {
  std::uint16_t port;
  {
    target::server s(target::options{});
    s.start();
    port = s.port();
  }  // stopped: the port now refuses connections
  http_client client;
  auto t = make_target(port, target_protocol::sync_batch);
  t.request_attempts = 2;
  driver d(t, client, 1);
  auto r = send_and_wait(d, make_batch(1, "k", 2, record_op::create));
  CHECK(r.http_status == 0);
  CHECK(r.http_attempts == 2);
  CHECK(r.outcomes.empty());
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::unreachable);
  CHECK(r.target->reason.find("connection error") != std::string::npos);
  CHECK(r.target->reason.find("gave up after 2 attempts") != std::string::npos);
  CHECK(r.target->url == t.base_url + "/services/1/sync");
}

TEST_CASE("http_client stop cancels pending requests", "[integration][http]") {
  target::options o;
  o.f.latency_ms = 2000;
  target::server srv(o);
  srv.start();
  http_client client;
  std::promise<http_response> p;
  http_request rq;
  rq.url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/services/1/batches/x";
  REQUIRE(client.submit(rq, [&p](http_response r) { p.set_value(std::move(r)); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  client.stop();
  auto r = p.get_future().get();
  CHECK(r.status == 0);
  CHECK(r.error.find("cancelled") != std::string::npos);
  CHECK_FALSE(client.submit(rq, [](http_response) {}));
}
