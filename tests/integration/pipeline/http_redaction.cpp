// Secrets echoed by a careless target never reach what stampede keeps: the
// reference target with --echo-credentials appends the Authorization header
// and the latest token request's form body (client id and URL-encoded
// secret) to every error it answers; per-record errors, their `received`
// answers and target-level reasons must carry none of them.
#include "http_support.hpp"
#include "pipeline/redact.hpp"
#include "target/request_builder.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace stampede::test;

namespace {

// Every text of a batch result that may be stored or printed.
std::string texts_of(const batch_result& r) {
  std::string all;
  for (const auto& o : r.outcomes) all += o.error + "\n" + o.received + "\n";
  if (r.target) all += r.target->reason + "\n";
  return all;
}

void check_absent(const std::string& all, const std::vector<std::string>& secrets) {
  INFO(all.substr(0, 4000));
  for (const auto& s : secrets) {
    INFO("secret form: " << s);
    CHECK(all.find(s) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("per-record errors echoing the bare static key are redacted", "[integration][http][redact]") {
  target::options o;
  o.auth = "static";
  o.static_key = "St4tic-K3y-0123456789";
  o.echo_credentials = true;
  o.f.validate = {"name:maxlen=3"};
  target::server srv(o);
  srv.start();
  http_client client;
  for (auto p : {target_protocol::sync_batch, target_protocol::async_batch, target_protocol::rest}) {
    INFO("protocol " << static_cast<int>(p));
    auto t = make_target(srv.port(), p);
    t.auth.kind = auth_kind::static_key;
    t.auth.value = "Bearer St4tic-K3y-0123456789";
    const std::uint32_t svc = 60 + static_cast<std::uint32_t>(p);
    driver d(t, client, svc);
    auto r = send_and_wait(d, make_batch(svc, "a", 3, record_op::create));
    REQUIRE(r.outcomes.size() == 3);
    for (const auto& out : r.outcomes) {
      CHECK_FALSE(out.ok);
      // The echo is there, its secret is not.
      CHECK(out.error.find("authorization=***") != std::string::npos);
    }
    check_absent(texts_of(r), {"St4tic-K3y-0123456789"});
  }
  client.stop();
}

TEST_CASE("oauth2: tokens, the client id and the URL-encoded client secret echoed in per-record "
          "errors and in a token refusal are redacted",
          "[integration][http][redact]") {
  const std::string secret = "s3cr3t/Cl13nt+key&x y";  // encodes differently in a form
  target::options o;
  o.auth = "oauth2";
  o.client_id = "portal-client-7f3a";
  o.client_secret = secret;
  o.token_ttl_s = 1;  // a second token: earlier ones stay redacted too
  o.echo_credentials = true;
  o.f.validate = {"name:maxlen=3"};
  target::server srv(o);
  srv.start();
  http_client client;
  const std::vector<std::string> forms{secret, url_encode(secret), "s3cr3t%2FCl13nt%2Bkey%26x+y",
                                       "portal-client-7f3a"};
  auto t = make_target(srv.port(), target_protocol::sync_batch);
  t.auth.kind = auth_kind::oauth2;
  t.auth.token_url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/oauth/token";
  t.auth.client_id = "portal-client-7f3a";
  t.auth.client_secret = secret;
  driver d(t, client, 70);
  std::string all;
  for (int round = 0; round < 2; ++round) {
    auto r = send_and_wait(d, make_batch(70, "k" + std::to_string(round), 3, record_op::create));
    REQUIRE(r.outcomes.size() == 3);
    for (const auto& out : r.outcomes) {
      CHECK_FALSE(out.ok);
      INFO(out.error);
      CHECK(out.error.find("authorization=Bearer ***") != std::string::npos);
      CHECK(out.error.find("client_id=***&client_secret=***") != std::string::npos);
    }
    all += texts_of(r);
    if (round == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // token expires
  }
  CHECK(d.status().token_fetches >= 2);
  // Not even a token of the first fetch: every "Bearer " is followed by ***.
  for (auto at = all.find("Bearer "); at != std::string::npos; at = all.find("Bearer ", at + 1))
    CHECK(all.compare(at + 7, 3, "***") == 0);
  check_absent(all, forms);

  // A refused token request: its echo (the form body) is redacted in the reason.
  auto bad = t;
  bad.auth.client_secret = "wr0ng/S3cret+value&z w";
  driver d2(bad, client, 71);
  auto r = send_and_wait(d2, make_batch(71, "w", 2, record_op::create));
  REQUIRE(r.target);
  CHECK(r.target->cls == failure_class::credentials);
  CHECK(r.target->reason.find("token request=") != std::string::npos);
  check_absent(texts_of(r), {"wr0ng/S3cret+value&z w", url_encode("wr0ng/S3cret+value&z w"),
                             "wr0ng%2FS3cret%2Bvalue%26z+w", "portal-client-7f3a"});
  client.stop();
}
