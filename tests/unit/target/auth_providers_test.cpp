// One auth provider per kind, each from its own config struct (target/auth.hpp).
#include "target/auth.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

TEST_CASE("auth providers: none adds no header, static its one header, neither refreshes",
          "[auth]") {
  auth_result got;
  make_no_auth()->get([&](const auth_result& r) { got = r; });
  CHECK(got.ok());
  CHECK_FALSE(got.header.has_value());
  CHECK_FALSE(make_no_auth()->refreshable());

  static_key_auth k;
  k.header = "X-Api-Key";
  k.value = "k3y-0123456789";
  auto p = make_static_key(k);
  p->get([&](const auth_result& r) { got = r; });
  REQUIRE(got.header.has_value());
  CHECK(got.header->first == "X-Api-Key");
  CHECK(got.header->second == "k3y-0123456789");
  p->invalidate("k3y-0123456789");  // a 401 cannot make a static key better
  p->get([&](const auth_result& r) { got = r; });
  CHECK(got.header->second == "k3y-0123456789");
  CHECK_FALSE(p->refreshable());
  CHECK(p->token_fetches() == 0);
}

TEST_CASE("auth providers: the authenticator picks the provider of auth.kind", "[auth]") {
  http_client client;
  auth_config a;
  a.kind = auth_kind::static_key;
  a.value = "Bearer s3cr3t-static-value";
  auto static_auth = std::make_shared<authenticator>(a, client, duration{1000}, duration{1000});
  auth_result got;
  static_auth->get([&](const auth_result& r) { got = r; });
  REQUIRE(got.header.has_value());
  CHECK(got.header->first == "Authorization");
  CHECK_FALSE(static_auth->refreshable());
  // Its secret is known to the redactor.
  CHECK(static_auth->redact("echo: s3cr3t-static-value") == "echo: ***");
  a.kind = auth_kind::oauth2;
  a.token_url = "http://127.0.0.1:1/token";
  a.client_id = "cid";
  a.client_secret = "s3cr3t-client";
  auto oauth = std::make_shared<authenticator>(a, client, duration{1000}, duration{1000});
  CHECK(oauth->refreshable());
  CHECK(oauth->token_fetches() == 0);
  client.stop();
}
