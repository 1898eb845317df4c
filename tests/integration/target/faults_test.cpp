// stampede-target fault injection: each fault does what it says.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {
const std::string one = R"({"records":[{"key":"a","op":"create","data":{"cnpj":"123"}}]})";
}

TEST_CASE("fail_rate=1: every /services/ request is 503 and changes nothing", "[target][faults]") {
  stampede::target::options o;
  o.f.fail_rate = 1;
  running t(o);
  for (int i = 0; i < 3; ++i) {
    auto r = http("POST", t.url("/services/1/sync"), one);
    CHECK(r.status == 503);
    CHECK(is_json(r.body));
  }
  CHECK(http("GET", t.url("/health")).status == 200);  // faults only on /services/
  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/faults/5xx") == 3);
  CHECK(s.num("/records") == 0);
  t.srv.set_faults({});
  CHECK(http("POST", t.url("/services/1/sync"), one).status == 200);
}

TEST_CASE("fail_rate=0.5: about half fail, reproducibly per seed", "[target][faults]") {
  auto run = [](std::uint64_t seed) {
    stampede::target::options o;
    o.f.fail_rate = 0.5;
    o.f.seed = seed;
    running t(o);
    std::string pattern;
    for (int i = 0; i < 200; ++i) pattern += http("GET", t.url("/services/1/keys/x")).status == 503 ? 'F' : '.';
    return pattern;
  };
  const auto a = run(42), b = run(42);
  CHECK(a == b);
  const auto fails = std::count(a.begin(), a.end(), 'F');
  CHECK(fails > 60);
  CHECK(fails < 140);
}

TEST_CASE("rate_limit_rate=1: 429 with Retry-After", "[target][faults]") {
  stampede::target::options o;
  o.f.rate_limit_rate = 1;
  o.f.retry_after_s = 7;
  running t(o);
  auto r = http("POST", t.url("/services/1/sync"), one);
  CHECK(r.status == 429);
  CHECK(r.headers["retry-after"] == "7");
  CHECK(json(t.srv.stats_json()).num("/faults/429") == 1);
  CHECK(json(t.srv.stats_json()).num("/records") == 0);
}

TEST_CASE("latency_ms delays every /services/ answer, connection keeps order", "[target][faults]") {
  stampede::target::options o;
  o.f.latency_ms = 300;
  running t(o);
  auto r = http("POST", t.url("/services/1/sync"), one);
  CHECK(r.status == 200);
  CHECK(r.seconds >= 0.29);
  // a second request on the same worker is served after the delayed one
  CURL* h = curl_easy_init();
  auto a = http("GET", t.url("/services/1/keys/a"), {}, {}, h);
  auto b = http("GET", t.url("/services/1/keys/a"), {}, {}, h);
  curl_easy_cleanup(h);
  CHECK(a.status == 200);
  CHECK(b.status == 200);
  CHECK(b.seconds >= 0.29);
}

TEST_CASE("drop_rate=1: connection closed without an answer", "[target][faults]") {
  stampede::target::options o;
  o.f.drop_rate = 1;
  running t(o);
  auto r = http("POST", t.url("/services/1/sync"), one);
  CHECK(r.curl != CURLE_OK);
  CHECK(r.status == 0);
  CHECK(json(t.srv.stats_json()).num("/faults/dropped") == 1);
  CHECK(json(t.srv.stats_json()).num("/records") == 0);
}

TEST_CASE("malformed_rate=1: 200 whose body is not JSON", "[target][faults]") {
  stampede::target::options o;
  o.f.malformed_rate = 1;
  running t(o);
  auto r = http("POST", t.url("/services/1/sync"), one);
  CHECK(r.status == 200);
  CHECK_FALSE(r.body.empty());
  CHECK_FALSE(is_json(r.body));
  CHECK(json(t.srv.stats_json()).num("/faults/malformed") == 1);
}

TEST_CASE("batch_delay_ms: processing, then done", "[target][faults]") {
  stampede::target::options o;
  o.f.batch_delay_ms = 400;
  running t(o);
  auto r = http("POST", t.url("/services/1/batches"), one);
  REQUIRE(r.status == 202);
  const std::string url = t.url("/services/1/batches/" + json(r.body).str("/batchId"));
  auto p = http("GET", url);
  CHECK(json(p.body).str("/status") == "processing");
  CHECK_FALSE(json(p.body).has("/results"));
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  json d(http("GET", url).body);
  CHECK(d.str("/status") == "done");
  CHECK(d.str("/results/0/key") == "a");
}

TEST_CASE("validate rules: per-record validation errors", "[target][faults]") {
  stampede::target::options o;
  o.f.validate = {"cnpj:digits", "name:nonempty", "addr.zip:maxlen=8"};
  running t(o);
  json j(http("POST", t.url("/services/1/sync"),
              R"({"records":[
    {"key":"ok","op":"create","data":{"cnpj":"123","name":"A","addr":{"zip":"01310200"}}},
    {"key":"d","op":"create","data":{"cnpj":"12a","name":"A"}},
    {"key":"n","op":"create","data":{"cnpj":"1","name":""}},
    {"key":"z","op":"create","data":{"name":"A","addr":{"zip":"013102000"}}},
    {"key":"m","op":"create","data":{"cnpj":"1"}}]})").body);
  CHECK(j.has("/results/0/id"));
  CHECK(j.str("/results/1/error/code") == "validation");
  CHECK(j.str("/results/1/error/message").find("cnpj") != std::string::npos);
  CHECK(j.str("/results/1/error/message").find("digits") != std::string::npos);
  CHECK(j.str("/results/2/error/message").find("name") != std::string::npos);
  CHECK(j.str("/results/3/error/message").find("addr.zip") != std::string::npos);
  CHECK(j.str("/results/4/error/message").find("nonempty") != std::string::npos);
  CHECK(http("GET", t.url("/services/1/keys/d")).status == 404);
  json s(t.srv.stats_json());
  CHECK(s.num("/record_errors") == 4);
  CHECK(s.num("/creates") == 1);
  auto rest = http("POST", t.url("/services/1/records"), R"({"cnpj":"x","name":"A"})", {"X-Record-Key: r"});
  CHECK(rest.status == 422);
  CHECK(json(rest.body).str("/error/code") == "validation");
  CHECK_THROWS_AS(t.srv.set_faults([] {
                    stampede::target::faults f;
                    f.validate = {"cnpj:weird"};
                    return f;
                  }()),
                  std::invalid_argument);
}

TEST_CASE("POST /faults sets faults at runtime, bad input is 400", "[target][faults]") {
  running t;
  CHECK(http("POST", t.url("/faults"), R"({"rate_limit_rate":1,"retry_after_s":3})").status == 200);
  auto r = http("POST", t.url("/services/1/sync"), one);
  CHECK(r.status == 429);
  CHECK(r.headers["retry-after"] == "3");
  CHECK(http("POST", t.url("/faults"), R"({"fail_rate":2})").status == 400);
  CHECK(http("POST", t.url("/faults"), R"({"bogus":1})").status == 400);
  CHECK(http("POST", t.url("/faults"), R"({"validate":["x:bad"]})").status == 400);
  CHECK(http("POST", t.url("/services/1/sync"), one).status == 429);  // unchanged by bad input
  CHECK(http("POST", t.url("/faults"), R"({"validate":["cnpj:maxlen=2"]})").status == 200);
  json j(http("POST", t.url("/services/1/sync"), one).body);
  CHECK(j.str("/results/0/error/code") == "validation");
  CHECK(json(http("GET", t.url("/faults")).body).str("/validate/0") == "cnpj:maxlen=2");
  CHECK(http("POST", t.url("/faults"), "{}").status == 200);
  CHECK(http("POST", t.url("/services/1/sync"), one).status == 200);
}
