// stampede-target endpoints and record semantics over real HTTP.
#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {

std::string rec(const std::string& key, const std::string& op, const std::string& data = "{}",
                const std::string& idem = "") {
  std::string r = R"({"key":")" + key + R"(","op":")" + op + "\"";
  if (!idem.empty()) r += R"(,"idempotencyKey":")" + idem + "\"";
  return r + ",\"data\":" + data + "}";
}

std::string batch(const std::vector<std::string>& recs) {
  std::string b = R"({"records":[)";
  for (std::size_t i = 0; i < recs.size(); ++i) b += (i ? "," : "") + recs[i];
  return b + "]}";
}

}  // namespace

TEST_CASE("health, unknown routes and wrong methods", "[target]") {
  running t;
  CHECK(http("GET", t.url("/health")).status == 200);
  auto r = http("GET", t.url("/nope"));
  CHECK(r.status == 404);
  CHECK(json(r.body).str("/error/code") == "not_found");
  CHECK(http("GET", t.url("/services/19/sync")).status == 405);
  CHECK(http("POST", t.url("/services/abc/sync"), "{}").status == 404);
  CHECK(http("GET", t.url("/reset")).status == 405);
}

TEST_CASE("sync batch: creates, duplicates, updates, deletes, replays counted exactly", "[target]") {
  running t;
  auto r = http("POST", t.url("/services/19/sync"),
                batch({rec("a", "create", R"({"name":"A","n":1})"), rec("b", "create"),
                       rec("a", "create"),                             // duplicate
                       rec("a", "update", R"({"name":"A2"})", "i-1"),  // update + idem
                       rec("a", "update", R"({"name":"A3"})", "i-1"),  // replay: no change
                       rec("b", "delete"), rec("zz", "update"), rec("zz", "delete")}));
  REQUIRE(r.status == 200);
  json j(r.body);
  const std::string id_a = j.str("/results/0/id");
  CHECK(id_a.rfind("19-", 0) == 0);
  CHECK(j.str("/results/0/key") == "a");
  CHECK(j.str("/results/2/id") == id_a);
  CHECK(j.str("/results/3/id") == id_a);
  CHECK(j.str("/results/4/id") == id_a);
  CHECK(j.str("/results/5/id") == j.str("/results/1/id"));
  CHECK(j.str("/results/6/error/code") == "not_found");
  CHECK(j.str("/results/7/error/code") == "not_found");
  CHECK(j.str("/results/7/key") == "zz");

  json k(http("GET", t.url("/services/19/keys/a")).body);
  CHECK(k.str("/data/name") == "A2");
  CHECK(k.num("/version") == 2);
  CHECK(k.at("/deleted").get_bool().value() == false);
  json kb(http("GET", t.url("/services/19/keys/b")).body);
  CHECK(kb.at("/deleted").get_bool().value() == true);
  CHECK(http("GET", t.url("/services/19/keys/zz")).status == 404);

  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/requests") == 4);  // 1 sync + 3 key reads
  CHECK(s.num("/records") == 8);
  CHECK(s.num("/creates") == 2);
  CHECK(s.num("/duplicates") == 1);
  CHECK(s.num("/updates") == 1);
  CHECK(s.num("/replays") == 1);
  CHECK(s.num("/deletes") == 1);
  CHECK(s.num("/record_errors") == 2);
  CHECK(s.num("/batches") == 1);
  CHECK(s.num("/services/19/creates") == 2);
  CHECK(s.num("/services/19/live_keys") == 1);
  CHECK(s.num("/services/19/replays") == 1);
  CHECK(t.srv.stats_json() == http("GET", t.url("/stats")).body);
}

TEST_CASE("services are separate key spaces, delete then create revives", "[target]") {
  running t;
  json a(http("POST", t.url("/services/1/sync"), batch({rec("k", "create")})).body);
  json b(http("POST", t.url("/services/2/sync"), batch({rec("k", "create")})).body);
  CHECK(a.str("/results/0/id").rfind("1-", 0) == 0);
  CHECK(b.str("/results/0/id").rfind("2-", 0) == 0);
  http("POST", t.url("/services/1/sync"), batch({rec("k", "delete")}));
  json c(http("POST", t.url("/services/1/sync"), batch({rec("k", "create", R"({"v":2})")})).body);
  CHECK(c.str("/results/0/id") == a.str("/results/0/id"));
  json k(http("GET", t.url("/services/1/keys/k")).body);
  CHECK(k.at("/deleted").get_bool().value() == false);
  CHECK(k.num("/version") == 3);
  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/services/1/creates") == 2);
  CHECK(s.num("/services/1/deletes") == 1);
  CHECK(s.num("/services/2/live_keys") == 1);
}

TEST_CASE("GET /services/{id}/keys lists every record of that service by key, deleted ones too, "
          "an update with the stored data counts as unchanged_updates",
          "[target]") {
  running t;
  http("POST", t.url("/services/7/sync"),
       batch({rec("b", "create", R"({"v":1})"), rec("a", "create", R"({"v":"x"})"),
              rec("c", "create"), rec("c", "delete")}));
  http("POST", t.url("/services/8/sync"), batch({rec("z", "create")}));
  json l(http("GET", t.url("/services/7/keys")).body);
  REQUIRE(l.at("/records").get_array().size() == 3);
  CHECK(l.str("/records/0/key") == "a");
  CHECK(l.str("/records/0/data/v") == "x");
  CHECK(l.str("/records/1/key") == "b");
  CHECK(l.num("/records/1/data/v") == 1);
  CHECK(l.str("/records/2/key") == "c");
  CHECK(l.at("/records/2/deleted").get_bool().value() == true);
  CHECK(l.num("/records/2/version") == 2);
  CHECK(l.str("/records/0/id") == json(http("GET", t.url("/services/7/keys/a")).body).str("/id"));
  CHECK(json(http("GET", t.url("/services/9/keys")).body).at("/records").get_array().size() == 0);

  // Same data again under a new idempotency key: an update, and an unchanged one.
  http("POST", t.url("/services/7/sync"),
       batch({rec("b", "update", R"({"v":1})", "k1"), rec("b", "update", R"({"v":2})", "k2"),
              rec("b", "update", R"({"v":2})", "k2")}));  // the last one is a replay
  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/services/7/updates") == 2);
  CHECK(s.num("/services/7/unchanged_updates") == 1);
  CHECK(s.num("/services/7/replays") == 1);
  CHECK(s.num("/unchanged_updates") == 1);
  CHECK(s.num("/services/8/unchanged_updates") == 0);
}

TEST_CASE("async batches: 202 + batchId, results in request order, 404 for unknown", "[target]") {
  running t;
  auto r = http("POST", t.url("/services/7/batches"),
                batch({rec("x", "create"), rec("y", "update"), rec("x", "update", R"({"q":1})")}));
  REQUIRE(r.status == 202);
  const std::string id = json(r.body).str("/batchId");
  CHECK(id.rfind("b-", 0) == 0);
  auto g = http("GET", t.url("/services/7/batches/" + id));
  REQUIRE(g.status == 200);
  json j(g.body);
  CHECK(j.str("/status") == "done");
  CHECK(j.str("/results/0/key") == "x");
  CHECK(j.str("/results/1/key") == "y");
  CHECK(j.str("/results/1/error/code") == "not_found");
  CHECK(j.str("/results/2/id") == j.str("/results/0/id"));
  CHECK(http("GET", t.url("/services/7/batches/b-999")).status == 404);
  CHECK(http("GET", t.url("/services/8/batches/" + id)).status == 404);  // other service
  CHECK(http("GET", t.url("/services/7/batches/nonsense")).status == 404);
}

TEST_CASE("batch bodies: bad JSON is 400 and applies nothing, bad records are record errors",
          "[target]") {
  running t;
  auto r = http("POST", t.url("/services/3/sync"), R"({"records":[{"key":"a","op":"create"},{"key":)");
  CHECK(r.status == 400);
  CHECK(json(r.body).str("/error/code") == "bad_json");
  CHECK(http("GET", t.url("/services/3/keys/a")).status == 404);
  CHECK(http("POST", t.url("/services/3/sync"), R"({"other":1})").status == 400);
  CHECK(http("POST", t.url("/services/3/sync"), "").status == 400);
  json j(http("POST", t.url("/services/3/sync"),
              R"({"records":[{"op":"create"},{"key":"a","op":"upsert"},{"key":"b"}]})").body);
  CHECK(j.str("/results/0/error/code") == "bad_request");
  CHECK(j.str("/results/1/error/code") == "bad_request");
  CHECK(j.str("/results/2/error/code") == "bad_request");
  CHECK(json(http("GET", t.url("/stats")).body).num("/record_errors") == 3);
}

TEST_CASE("per-record REST: POST 201, PUT, DELETE by remote id, 404 and Idempotency-Key", "[target]") {
  running t;
  auto c = http("POST", t.url("/services/19/records"), R"({"name":"Ana"})",
                {"X-Record-Key: r1", "Content-Type: application/json"});
  REQUIRE(c.status == 201);
  const std::string id = json(c.body).str("/id");
  auto u = http("PUT", t.url("/services/19/records/" + id), R"({"name":"Bia"})");
  CHECK(u.status == 200);
  CHECK(json(u.body).str("/id") == id);
  CHECK(json(http("GET", t.url("/services/19/keys/r1")).body).str("/data/name") == "Bia");
  auto d = http("DELETE", t.url("/services/19/records/" + id));
  CHECK(d.status == 200);
  CHECK(json(d.body).str("/id") == id);
  auto nf = http("PUT", t.url("/services/19/records/19-424242"), "{}");
  CHECK(nf.status == 404);
  CHECK(json(nf.body).str("/error/code") == "not_found");
  CHECK(http("PUT", t.url("/services/20/records/" + id), "{}").status == 404);  // other service
  CHECK(http("POST", t.url("/services/19/records"), "{}").status == 400);       // no key header
  CHECK(http("POST", t.url("/services/19/records"), "[1]", {"X-Record-Key: z"}).status == 400);

  auto i1 = http("POST", t.url("/services/19/records"), R"({"v":1})",
                 {"X-Record-Key: r2", "Idempotency-Key: once"});
  auto i2 = http("POST", t.url("/services/19/records"), R"({"v":2})",
                 {"X-Record-Key: r3", "Idempotency-Key: once"});
  CHECK(i1.status == 201);
  CHECK(i2.status == 201);
  CHECK(json(i2.body).str("/id") == json(i1.body).str("/id"));
  CHECK(http("GET", t.url("/services/19/keys/r3")).status == 404);  // replay changed nothing
  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/creates") == 2);
  CHECK(s.num("/updates") == 1);
  CHECK(s.num("/deletes") == 1);
  CHECK(s.num("/replays") == 1);
}

TEST_CASE("envelope messages: operation from type, key from header or data", "[target]") {
  running t;
  auto msg = [&](const std::string& body, std::vector<std::string> h = {}) {
    return http("POST", t.url("/services/5/messages"), body, h);
  };
  auto c = msg(R"({"header":{"type":"ClienteInc","tenantId":"t1"},"data":{"key":"c1","nome":"X"}})");
  REQUIRE(c.status == 200);
  const std::string id = json(c.body).str("/id");
  auto u = msg(R"({"header":{"type":"ClienteAlt","tenantId":"t1","key":"c1"},"data":{"nome":"Y"}})");
  CHECK(u.status == 200);
  CHECK(json(u.body).str("/id") == id);
  CHECK(json(http("GET", t.url("/services/5/keys/c1")).body).str("/data/nome") == "Y");
  CHECK(msg(R"({"header":{"type":"ClienteExc","tenantId":"t1","key":"c1"},"data":{}})").status == 200);
  CHECK(json(http("GET", t.url("/services/5/keys/c1")).body).at("/deleted").get_bool().value());
  CHECK(msg(R"({"header":{"type":"ClienteDel","tenantId":"t1","key":"c1"},"data":{}})").status == 200);

  auto nt = msg(R"({"header":{"type":"ClienteInc"},"data":{"key":"c2"}})");
  CHECK(nt.status == 400);
  CHECK(json(nt.body).str("/error/message").find("tenantId") != std::string::npos);
  CHECK(msg(R"({"header":{"type":"Cliente","tenantId":"t"},"data":{"key":"c2"}})").status == 400);
  CHECK(msg(R"({"header":{"type":"ClienteInc","tenantId":"t"},"data":{}})").status == 400);
  auto missing = msg(R"({"header":{"type":"ClienteAlt","tenantId":"t","key":"nope"},"data":{}})");
  CHECK(missing.status == 404);
  CHECK(json(missing.body).str("/error/code") == "not_found");

  auto r1 = msg(R"({"header":{"type":"ClienteInc","tenantId":"t","key":"c3"},"data":{}})", {"Idempotency-Key: m-1"});
  auto r2 = msg(R"({"header":{"type":"ClienteInc","tenantId":"t","key":"c4"},"data":{}})", {"Idempotency-Key: m-1"});
  CHECK(json(r2.body).str("/id") == json(r1.body).str("/id"));
  CHECK(json(http("GET", t.url("/stats")).body).num("/services/5/replays") == 1);
}

TEST_CASE("POST /reset and server::reset forget state and counters", "[target]") {
  running t;
  http("POST", t.url("/services/1/sync"), batch({rec("a", "create")}));
  CHECK(http("POST", t.url("/reset")).status == 200);
  CHECK(http("GET", t.url("/services/1/keys/a")).status == 404);
  json s(http("GET", t.url("/stats")).body);
  CHECK(s.num("/creates") == 0);
  CHECK(s.num("/requests") == 1);  // only the key read above
  http("POST", t.url("/services/1/sync"), batch({rec("a", "create")}));
  t.srv.reset();
  CHECK(json(t.srv.stats_json()).num("/records") == 0);
}

TEST_CASE("HTTP framing: keep-alive, chunked rejected with 411, Expect 100-continue", "[target]") {
  running t;
  CURL* h = curl_easy_init();
  long conns = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = http("GET", t.url("/health"), {}, {}, h);
    CHECK(r.status == 200);
  }
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
  CHECK(conns == 0);  // the last request reused the connection
  curl_easy_cleanup(h);

  auto ch = http("POST", t.url("/services/1/sync"), batch({rec("a", "create")}),
                 {"Transfer-Encoding: chunked"});
  CHECK(ch.status == 411);
  CHECK(http("GET", t.url("/services/1/keys/a")).status == 404);

  std::string big = R"({"records":[)";
  for (int i = 0; i < 5000; ++i) big += (i ? "," : "") + rec("k" + std::to_string(i), "create", R"({"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})");
  big += "]}";
  REQUIRE(big.size() > 1024 * 1024);
  auto e = http("POST", t.url("/services/1/sync"), big, {"Expect: 100-continue"});
  CHECK(e.status == 200);
  CHECK(json(e.body).str("/results/4999/key") == "k4999");
  CHECK(json(http("GET", t.url("/stats")).body).num("/creates") == 5000);
}

TEST_CASE("state file: saved at stop, loaded at start", "[target]") {
  const std::string path = std::string(STAMPEDE_BINARY_DIR) + "/target_state_test.bin";
  std::remove(path.c_str());
  stampede::target::options o;
  o.state_file = path;
  std::string id;
  {
    running t(o);
    json j(http("POST", t.url("/services/9/sync"),
                batch({rec("p", "create", R"({"v":"1"})", "ik"), rec("q", "create")})).body);
    id = j.str("/results/0/id");
    http("POST", t.url("/services/9/sync"), batch({rec("q", "delete")}));
  }
  {
  running t(o);
  json k(http("GET", t.url("/services/9/keys/p")).body);
  CHECK(k.str("/id") == id);
  CHECK(k.str("/data/v") == "1");
  CHECK(json(http("GET", t.url("/services/9/keys/q")).body).at("/deleted").get_bool().value());
  CHECK(json(http("GET", t.url("/stats")).body).num("/services/9/live_keys") == 1);
  json r(http("POST", t.url("/services/9/sync"), batch({rec("other", "create", "{}", "ik")})).body);
  CHECK(r.str("/results/0/id") == id);  // idempotency survived the restart
  CHECK(http("PUT", t.url("/services/9/records/" + id), R"({"v":"2"})").status == 200);
  }
  std::remove(path.c_str());
}
