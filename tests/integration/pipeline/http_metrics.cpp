// Sender metrics count HTTP requests, through the exchange observer: every
// request once (async polls and per-record requests are requests, not
// retries), by status class and latency; retries only when a request really
// repeats a failed one. Before the observer, the sender actor counted one
// request per batch and every further request of the batch as a retry.
#include "http_support.hpp"
#include "metrics/probes.hpp"
#include "metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace stampede;
using namespace stampede::test;

namespace {

/// Value of the sample `series` (exact name and label block), 0 when absent.
double metric(const metrics_registry& reg, const std::string& series) {
  std::istringstream in(reg.render_text());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

struct metered {
  metrics_registry reg;
  driver d;
  metered(const target_config& t, http_client& c, std::uint32_t svc) : d(t, c, svc) {
    d.rt.add_observer(std::make_shared<http_probe>(reg, t.name));
  }
};

}  // namespace

TEST_CASE("metrics: an async batch with polls counts every request and no retry", "[integration][http][metrics]") {
  target::options o;
  o.f.batch_delay_ms = 150;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.poll_interval = duration{10};
  metered m(t, f.client, 5);
  auto r = send_and_wait(m.d, make_batch(5, "a", 10, record_op::create));
  REQUIRE(count_ok(r) == 10);
  REQUIRE(r.http_attempts >= 3);  // submit + "processing" polls + the final poll
  const double polls = r.http_attempts - 1;
  CHECK(metric(m.reg, R"(stampede_sender_retries_total{service="5"})") == 0);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="202",service="5"})") == 1);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="200",service="5"})") == polls);
  CHECK(metric(m.reg, R"(stampede_sender_http_requests_total{class="2xx",kind="poll",service="5"})") == polls);
  CHECK(metric(m.reg, R"(stampede_sender_http_requests_total{class="2xx",kind="submit",service="5"})") == 1);
  CHECK(metric(m.reg, R"(stampede_sender_request_duration_seconds_count{service="5"})") == r.http_attempts);
}

TEST_CASE("metrics: per-record REST of N records counts N requests", "[integration][http][metrics]") {
  fixture f;
  metered m(make_target(f.srv.port(), target_protocol::rest), f.client, 6);
  auto r = send_and_wait(m.d, make_batch(6, "r", 7, record_op::create));
  REQUIRE(count_ok(r) == 7);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="201",service="6"})") == 7);
  CHECK(metric(m.reg, R"(stampede_sender_http_requests_total{class="2xx",kind="record",service="6"})") == 7);
  CHECK(metric(m.reg, R"(stampede_sender_retries_total{service="6"})") == 0);
  CHECK(metric(m.reg, R"(stampede_sender_request_duration_seconds_count{service="6"})") == 7);
}

TEST_CASE("metrics: real retries, status classes, target failures and the breaker", "[integration][http][metrics]") {
  target::options o;
  o.f.fail_rate = 1.0;
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::sync_batch);
  t.request_attempts = 3;
  t.breaker_failures = 1;
  t.breaker_cooldown = duration{60000};
  metered m(t, f.client, 7);
  auto r = send_and_wait(m.d, make_batch(7, "x", 2, record_op::create));
  REQUIRE(r.target);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="503",service="7"})") == 3);
  CHECK(metric(m.reg, R"(stampede_sender_http_requests_total{class="5xx",kind="sync",service="7"})") == 3);
  CHECK(metric(m.reg, R"(stampede_sender_retries_total{service="7"})") == 2);
  CHECK(metric(m.reg, R"(stampede_target_failures_total{class="exhausted",target="it"})") == 1);
  CHECK(metric(m.reg, R"(stampede_target_breaker_state{target="it"})") == 1);  // open
  auto refused = send_and_wait(m.d, make_batch(7, "y", 2, record_op::create));
  REQUIRE(refused.target);
  CHECK(metric(m.reg, R"(stampede_target_failures_total{class="circuit_open",target="it"})") == 1);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="503",service="7"})") == 3);  // nothing sent
}

TEST_CASE("metrics: OAuth2 token requests are counted per target, not as sender requests",
          "[integration][http][metrics]") {
  target::options o;
  o.auth = "oauth2";
  o.client_id = "stampede";
  o.client_secret = "s3cret";
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::sync_batch);
  t.auth.kind = auth_kind::oauth2;
  t.auth.token_url = t.base_url + "/oauth/token";
  t.auth.client_id = "stampede";
  t.auth.client_secret = "s3cret";
  metered m(t, f.client, 8);
  REQUIRE(count_ok(send_and_wait(m.d, make_batch(8, "t", 3, record_op::create))) == 3);
  CHECK(metric(m.reg, R"(stampede_target_token_requests_total{class="2xx",target="it"})") == 1);
  CHECK(metric(m.reg, R"(stampede_sender_requests_total{code="200",service="8"})") == 1);
  CHECK(m.reg.render_text().find("s3cret") == std::string::npos);
}
