#include "http_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace stampede;
using namespace stampede::test;

TEST_CASE("static key auth", "[integration][http]") {
  target::options o;
  o.auth = "static";
  o.static_key = "s3cr3t-key";
  target::server srv(o);
  srv.start();
  http_client client;
  auto t = make_target(srv.port(), target_protocol::sync_batch);
  t.auth.kind = auth_kind::static_key;
  t.auth.value = "Bearer s3cr3t-key";
  driver good(t, client, 1);
  CHECK(count_ok(send_and_wait(good, make_batch(1, "a", 5, record_op::create))) == 5);

  t.auth.value = "Bearer wrong-key";
  driver bad(t, client, 2);
  auto r = send_and_wait(bad, make_batch(2, "a", 2, record_op::create));
  CHECK(r.http_status == 401);
  CHECK(r.http_attempts == 1);  // final: no retry, no refresh for static keys
  CHECK(r.outcomes.empty());    // target-level: no record touched
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::credentials);
  CHECK(r.target->reason.find("wrong-key") == std::string::npos);
  client.stop();
}

TEST_CASE("oauth2 client credentials: token fetched, cached and refreshed on expiry",
          "[integration][http]") {
  target::options o;
  o.auth = "oauth2";
  o.client_id = "stampede";
  o.client_secret = "very-secret-value";
  o.token_ttl_s = 1;
  target::server srv(o);
  srv.start();
  http_client client;
  for (auto p : {target_protocol::sync_batch, target_protocol::async_batch, target_protocol::rest}) {
    INFO("protocol " << static_cast<int>(p));
    auto t = make_target(srv.port(), p);
    t.auth.kind = auth_kind::oauth2;
    t.auth.token_url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/oauth/token";
    t.auth.client_id = "stampede";
    t.auth.client_secret = "very-secret-value";
    const std::uint32_t svc = 80 + static_cast<std::uint32_t>(p);
    driver d(t, client, svc);
    CHECK(count_ok(send_and_wait(d, make_batch(svc, "a", 5, record_op::create))) == 5);
    CHECK(d.status().token_fetches == 1);
    CHECK(count_ok(send_and_wait(d, make_batch(svc, "b", 5, record_op::create))) == 5);
    CHECK(d.status().token_fetches == 1);  // cached
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // token_ttl_s = 1 has passed
    CHECK(count_ok(send_and_wait(d, make_batch(svc, "c", 5, record_op::create))) == 5);
    CHECK(d.status().token_fetches >= 2);
  }
  CHECK(stat(srv, "/creates") == 45);
  client.stop();
}

TEST_CASE("oauth2: a 401 refreshes the token once and repeats the request", "[integration][http]") {
  target::options o;
  o.auth = "oauth2";
  o.client_id = "stampede";
  o.client_secret = "very-secret-value";
  auto srv = std::make_unique<target::server>(o);
  srv->start();
  const auto port = srv->port();
  http_client client;
  auto t = make_target(port, target_protocol::sync_batch);
  t.auth.kind = auth_kind::oauth2;
  t.auth.token_url = "http://127.0.0.1:" + std::to_string(port) + "/oauth/token";
  t.auth.client_id = "stampede";
  t.auth.client_secret = "very-secret-value";
  driver d(t, client, 90);
  CHECK(count_ok(send_and_wait(d, make_batch(90, "a", 3, record_op::create))) == 3);
  // A restarted target forgets the tokens it issued: the cached one now gets 401.
  srv.reset();
  o.port = port;
  srv = std::make_unique<target::server>(o);
  srv->start();
  auto r = send_and_wait(d, make_batch(90, "b", 3, record_op::create));
  CHECK(count_ok(r) == 3);
  CHECK(r.http_attempts >= 2);  // 401, then the repeat with the new token
  CHECK(d.status().token_fetches == 2);
  CHECK(stat(*srv, "/creates") == 3);
  client.stop();
}

TEST_CASE("oauth2: a token the target never accepts is refreshed only once", "[integration][http]") {
  target::options o;
  o.auth = "oauth2";
  o.client_id = "stampede";
  o.client_secret = "very-secret-value";
  target::server issuer(o), other(o);  // tokens from `issuer` are unknown to `other`
  issuer.start();
  other.start();
  http_client client;
  auto t = make_target(other.port(), target_protocol::sync_batch);
  t.auth.kind = auth_kind::oauth2;
  t.auth.token_url = "http://127.0.0.1:" + std::to_string(issuer.port()) + "/oauth/token";
  t.auth.client_id = "stampede";
  t.auth.client_secret = "very-secret-value";
  driver d(t, client, 92);
  auto r = send_and_wait(d, make_batch(92, "a", 2, record_op::create));
  CHECK(r.http_status == 401);
  CHECK(r.http_attempts == 2);
  CHECK(d.status().token_fetches == 2);
  CHECK(r.outcomes.empty());
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::credentials);
  CHECK(r.target->http_status == 401);
  client.stop();
}

TEST_CASE("oauth2: rejected credentials are reported without the secret", "[integration][http]") {
  target::options o;
  o.auth = "oauth2";
  o.client_id = "stampede";
  o.client_secret = "the-real-secret";
  target::server srv(o);
  srv.start();
  http_client client;
  auto t = make_target(srv.port(), target_protocol::rest);
  t.request_attempts = 2;
  t.auth.kind = auth_kind::oauth2;
  t.auth.token_url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/oauth/token";
  t.auth.client_id = "stampede";
  t.auth.client_secret = "wrong-secret-xyz";
  driver d(t, client, 91);
  auto r = send_and_wait(d, make_batch(91, "a", 2, record_op::create));
  CHECK(r.outcomes.empty());
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::credentials);  // the token endpoint refused us: no retry
  CHECK(d.status().token_fetches == 1);
  CHECK(r.target->reason.find("oauth2 token request") != std::string::npos);
  CHECK(r.target->reason.find("wrong-secret-xyz") == std::string::npos);
  CHECK(stat(srv, "/creates") == 0);
  client.stop();
}
