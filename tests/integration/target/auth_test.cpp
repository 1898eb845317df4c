// stampede-target authentication: static bearer key and OAuth2 client credentials.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {
const std::string one = R"({"records":[{"key":"a","op":"create","data":{}}]})";

stampede::target::options oauth_opts(int ttl) {
  stampede::target::options o;
  o.auth = "oauth2";
  o.client_id = "demo";
  o.client_secret = "s3cret";
  o.token_ttl_s = ttl;
  return o;
}
}  // namespace

TEST_CASE("static auth: the bearer must equal the key", "[target][auth]") {
  stampede::target::options o;
  o.auth = "static";
  o.static_key = "k3y";
  running t(o);
  auto none = http("POST", t.url("/services/1/sync"), one);
  CHECK(none.status == 401);
  CHECK(json(none.body).str("/error/code") == "unauthorized");
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Bearer wrong"}).status == 401);
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Basic k3y"}).status == 401);
  CHECK(json(t.srv.stats_json()).num("/records") == 0);
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Bearer k3y"}).status == 200);
  CHECK(http("GET", t.url("/stats")).status == 200);  // not under /services/
  CHECK_THROWS_AS(stampede::target::server([] {
                    stampede::target::options x;
                    x.auth = "static";
                    return x;
                  }()),
                  std::invalid_argument);
}

TEST_CASE("oauth2: token issue (form and Basic), use, wrong secret", "[target][auth]") {
  running t(oauth_opts(3600));
  auto tok = http("POST", t.url("/oauth/token"),
                  "grant_type=client_credentials&client_id=demo&client_secret=s3cret",
                  {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE(tok.status == 200);
  json j(tok.body);
  CHECK(j.str("/token_type") == "Bearer");
  CHECK(j.num("/expires_in") == 3600);
  const std::string token = j.str("/access_token");
  CHECK(token.size() >= 16);

  CHECK(http("POST", t.url("/services/1/sync"), one).status == 401);
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Bearer nottoken"}).status == 401);
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Bearer " + token}).status == 200);

  auto bad = http("POST", t.url("/oauth/token"),
                  "grant_type=client_credentials&client_id=demo&client_secret=nope");
  CHECK(bad.status == 401);
  CHECK_FALSE(json(bad.body).has("/access_token"));
  // "demo:s3cret" in base64
  auto basic = http("POST", t.url("/oauth/token"), "grant_type=client_credentials",
                    {"Authorization: Basic ZGVtbzpzM2NyZXQ="});
  CHECK(basic.status == 200);
  const std::string t2 = json(basic.body).str("/access_token");
  CHECK(t2 != token);
  CHECK(http("POST", t.url("/services/1/sync"), one, {"Authorization: Bearer " + t2}).status == 200);
  // "demo:wrong"
  CHECK(http("POST", t.url("/oauth/token"), "grant_type=client_credentials",
             {"Authorization: Basic ZGVtbzp3cm9uZw=="}).status == 401);
  CHECK(http("POST", t.url("/oauth/token"), "grant_type=password&client_id=demo&client_secret=s3cret")
            .status == 400);
}

TEST_CASE("oauth2: an expired token gets 401", "[target][auth]") {
  running t(oauth_opts(1));
  auto tok = http("POST", t.url("/oauth/token"),
                  "grant_type=client_credentials&client_id=demo&client_secret=s3cret");
  REQUIRE(tok.status == 200);
  const std::string h = "Authorization: Bearer " + json(tok.body).str("/access_token");
  CHECK(http("POST", t.url("/services/1/sync"), one, {h}).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = http("POST", t.url("/services/1/sync"), one, {h});
  CHECK(r.status == 401);
  CHECK(json(r.body).str("/error/message").find("expired") != std::string::npos);
}
