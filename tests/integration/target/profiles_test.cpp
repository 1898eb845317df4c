// stampede-target profiles over real HTTP: the CouchDB-style bulk API under
// /couchdb/ and the webhooks under /hooks/.
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {

std::string gen_of(const std::string& rev) { return rev.substr(0, rev.find('-')); }

// A _bulk_docs post that must answer 201 with a JSON array.
json bulk(const running& t, const std::string& db, const std::string& docs) {
  auto r = http("POST", t.url("/couchdb/" + db + "/_bulk_docs"), R"({"docs":[)" + docs + "]}");
  REQUIRE(r.status == 201);
  json j(r.body);
  REQUIRE(j.root.is_array());
  return j;
}

json hook_state(const running& t, const std::string& name) {
  auto r = http("GET", t.url("/hooks/" + name));
  REQUIRE(r.status == 200);
  return json(r.body);
}

}  // namespace

TEST_CASE("couchdb bulk_docs: create, update with the current rev, conflicts, delete, not_found",
          "[target][couchdb]") {
  running t;
  json c = bulk(t, "erp", R"({"_id":"a","name":"Ana","n":1},{"_id":"b","name":"Bia"},{"nome":"no id"})");
  REQUIRE(c.root.get_array().size() == 3);
  CHECK(c.at("/0/ok").get_bool().value());
  CHECK(c.str("/0/id") == "a");
  const std::string rev_a1 = c.str("/0/rev");
  CHECK(gen_of(rev_a1) == "1");
  CHECK(rev_a1.size() == 2 + 32);
  CHECK(c.str("/1/id") == "b");
  const std::string rev_b1 = c.str("/1/rev");
  CHECK(rev_b1 != rev_a1);
  CHECK(c.str("/2/error") == "bad_request");
  CHECK(c.str("/2/reason") == "Document must have an _id");
  CHECK_FALSE(c.has("/2/id"));

  json g(http("GET", t.url("/couchdb/erp/a")).body);
  CHECK(g.str("/_id") == "a");
  CHECK(g.str("/_rev") == rev_a1);
  CHECK(g.str("/name") == "Ana");
  CHECK(g.num("/n") == 1);

  json u = bulk(t, "erp",
                R"({"_id":"a","_rev":")" + rev_a1 + R"(","name":"Ana 2"},)"  // update
                R"({"_id":"b","name":"no rev"},)"                              // conflict: no rev
                R"({"_id":"a","_rev":")" + rev_a1 + R"(","name":"stale"},)"    // conflict: stale rev
                R"({"_id":"ghost","_rev":"1-0123"},)"                         // not_found
                R"({"_id":"b","_rev":")" + rev_b1 + R"(","_deleted":true})");  // delete
  const std::string rev_a2 = u.str("/0/rev");
  CHECK(gen_of(rev_a2) == "2");
  CHECK(rev_a2 != rev_a1);
  CHECK(u.str("/1/id") == "b");
  CHECK(u.str("/1/error") == "conflict");
  CHECK(u.str("/1/reason") == "Document update conflict.");
  CHECK(u.str("/2/id") == "a");
  CHECK(u.str("/2/error") == "conflict");
  CHECK(u.str("/3/id") == "ghost");
  CHECK(u.str("/3/error") == "not_found");
  CHECK(u.str("/3/reason") == "missing");
  CHECK(u.at("/4/ok").get_bool().value());
  CHECK(gen_of(u.str("/4/rev")) == "2");

  json g2(http("GET", t.url("/couchdb/erp/a")).body);
  CHECK(g2.str("/_rev") == rev_a2);
  CHECK(g2.str("/name") == "Ana 2");
  CHECK_FALSE(g2.has("/n"));  // an update replaces the whole body

  auto gone = http("GET", t.url("/couchdb/erp/b"));
  CHECK(gone.status == 404);
  CHECK(json(gone.body).str("/error") == "not_found");
  CHECK(json(gone.body).str("/reason") == "deleted");
  auto never = http("GET", t.url("/couchdb/erp/ghost"));
  CHECK(never.status == 404);
  CHECK(json(never.body).str("/reason") == "missing");

  // A deleted document is created again without a rev; its generation goes on.
  json again = bulk(t, "erp", R"({"_id":"b","name":"Bia again"})");
  CHECK(gen_of(again.str("/0/rev")) == "3");

  json s(http("GET", t.url("/couchdb/erp/_stats")).body);
  CHECK(s.num("/requests") == 7);  // 3 bulks, 4 document reads (not _stats itself)
  CHECK(s.num("/docs") == 9);
  CHECK(s.num("/creates") == 3);
  CHECK(s.num("/updates") == 1);
  CHECK(s.num("/deletes") == 1);
  CHECK(s.num("/conflicts") == 2);
  CHECK(s.num("/not_found") == 1);
  CHECK(s.num("/bad_request") == 1);
  CHECK(s.num("/doc_count") == 2);
  CHECK(s.num("/doc_del_count") == 0);
  // /services/ counters stay untouched.
  CHECK(json(t.srv.stats_json()).num("/requests") == 0);
}

TEST_CASE("couchdb: _all_docs sorted by id without deleted docs, databases apart",
          "[target][couchdb]") {
  running t;
  json c = bulk(t, "one", R"({"_id":"m"},{"_id":"z%2F1","v":1},{"_id":"c"},{"_id":"x"})");
  bulk(t, "two", R"({"_id":"only-two"})");
  bulk(t, "one", R"({"_id":"x","_rev":")" + c.str("/3/rev") + R"(","_deleted":true})");
  json a(http("GET", t.url("/couchdb/one/_all_docs")).body);
  CHECK(a.num("/total_rows") == 3);
  CHECK(a.num("/offset") == 0);
  REQUIRE(a.at("/rows").get_array().size() == 3);
  CHECK(a.str("/rows/0/id") == "c");
  CHECK(a.str("/rows/1/id") == "m");
  CHECK(a.str("/rows/2/id") == "z%2F1");
  CHECK(a.str("/rows/2/key") == "z%2F1");
  CHECK(a.str("/rows/0/value/rev") == c.str("/2/rev"));
  // The doc id in the path is percent-decoded.
  CHECK(json(http("GET", t.url("/couchdb/one/z%252F1")).body).num("/v") == 1);
  CHECK(http("GET", t.url("/couchdb/one/x")).status == 404);
  CHECK(http("GET", t.url("/couchdb/two/m")).status == 404);
  json b(http("GET", t.url("/couchdb/two/_all_docs")).body);
  CHECK(b.num("/total_rows") == 1);
  CHECK(b.str("/rows/0/id") == "only-two");
}

TEST_CASE("couchdb: a malformed bulk body changes nothing", "[target][couchdb]") {
  running t;
  json c = bulk(t, "erp", R"({"_id":"a","v":1})");
  const std::string rev = c.str("/0/rev");
  for (const std::string& body :
       {std::string("not json"), std::string(R"({"docs":[{"_id":"b"},{"_id":"a","_rev":")") + rev + "\"",
        std::string(R"({"documents":[{"_id":"b"}]})"), std::string(R"([{"_id":"b"}])"),
        std::string(R"({"docs":{"_id":"b"}})"), std::string()}) {
    auto r = http("POST", t.url("/couchdb/erp/_bulk_docs"), body);
    CHECK(r.status == 400);
    CHECK(json(r.body).str("/error") == "bad_request");
  }
  CHECK(json(http("GET", t.url("/couchdb/erp/a")).body).str("/_rev") == rev);
  CHECK(http("GET", t.url("/couchdb/erp/b")).status == 404);
  json s(http("GET", t.url("/couchdb/erp/_stats")).body);
  CHECK(s.num("/docs") == 1);
  CHECK(s.num("/creates") == 1);
  CHECK(s.num("/doc_count") == 1);
  // A malformed post to a database that does not exist does not create it.
  CHECK(http("POST", t.url("/couchdb/fresh/_bulk_docs"), "{").status == 400);
  CHECK(http("GET", t.url("/couchdb/fresh/_all_docs")).status == 404);
}

TEST_CASE("couchdb: PUT creates a database once, unknown database 404, bad name 400",
          "[target][couchdb]") {
  running t;
  auto p = http("PUT", t.url("/couchdb/crm"));
  CHECK(p.status == 201);
  CHECK(json(p.body).at("/ok").get_bool().value());
  auto twice = http("PUT", t.url("/couchdb/crm"));
  CHECK(twice.status == 412);
  CHECK(json(twice.body).str("/error") == "file_exists");
  json info(http("GET", t.url("/couchdb/crm")).body);
  CHECK(info.str("/db_name") == "crm");
  CHECK(info.num("/doc_count") == 0);
  json empty(http("GET", t.url("/couchdb/crm/_all_docs")).body);
  CHECK(empty.num("/total_rows") == 0);
  auto none = http("GET", t.url("/couchdb/nodb/_all_docs"));
  CHECK(none.status == 404);
  CHECK(json(none.body).str("/reason") == "Database does not exist.");
  CHECK(http("GET", t.url("/couchdb/nodb/a")).status == 404);
  CHECK(http("GET", t.url("/couchdb/Upper/_all_docs")).status == 400);
  CHECK(json(http("GET", t.url("/couchdb/Upper/a")).body).str("/error") == "illegal_database_name");
  CHECK(http("GET", t.url("/couchdb/crm/_bulk_docs")).status == 405);
  CHECK(http("PUT", t.url("/couchdb/crm/a"), "{}").status == 405);
  CHECK(http("GET", t.url("/couchdb/crm/_changes")).status == 404);
}

TEST_CASE("webhook: the default answer is 204 and the hook keeps keys, body and headers",
          "[target][hooks]") {
  running t;
  const std::string body = R"({"records":[{"key":"a","v":1},{"key":"b"},{"v":"no key"}]})";
  auto r = http("POST", t.url("/hooks/erp"), body,
                {"Idempotency-Key: batch-1", "X-Batch-Idempotency-Key: xb-1"});
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(r.headers.count("content-length") == 0);
  json s = hook_state(t, "erp");
  CHECK(s.num("/requests") == 1);
  CHECK(s.num("/records") == 3);
  CHECK(s.num("/unkeyed") == 1);
  CHECK(s.num("/keys/a") == 1);
  CHECK(s.num("/keys/b") == 1);
  CHECK(s.at("/keys").get_object().size() == 2);
  CHECK(s.str("/last_body") == body);
  CHECK(s.num("/last_body_bytes") == body.size());
  CHECK(s.str("/headers/idempotency-key") == "batch-1");
  CHECK(s.str("/headers/x-batch-idempotency-key") == "xb-1");

  // A deliberate retry of the same batch: the keys count twice; the headers
  // are the last post's (none here).
  CHECK(http("POST", t.url("/hooks/erp"), R"({"records":[{"key":"a"}]})").status == 204);
  json s2 = hook_state(t, "erp");
  CHECK(s2.num("/requests") == 2);
  CHECK(s2.num("/records") == 4);
  CHECK(s2.num("/keys/a") == 2);
  CHECK(s2.str("/headers/idempotency-key") == "");
  // Hooks are apart; one never posted to answers zeros.
  json other = hook_state(t, "other");
  CHECK(other.num("/requests") == 0);
  CHECK(other.at("/keys").get_object().size() == 0);
  CHECK(other.str("/config/answer") == "204");
}

TEST_CASE("webhook: each answer mode", "[target][hooks]") {
  running t;
  struct mode {
    std::string answer;
    long status;
    std::string body, content_type;
  };
  for (const auto& m : {mode{"empty200", 200, "", "application/json"},
                        mode{"accepted", 202, R"({"status":"accepted"})", "application/json"},
                        mode{"malformed200", 200, "<html>ok</html>", "text/html"},
                        mode{"204", 204, "", ""}}) {
    INFO(m.answer);
    auto c = http("POST", t.url("/hooks/h/_config"), R"({"answer":")" + m.answer + "\"}");
    REQUIRE(c.status == 200);
    CHECK(json(c.body).str("/answer") == m.answer);
    CHECK(json(http("GET", t.url("/hooks/h/_config")).body).str("/answer") == m.answer);
    auto r = http("POST", t.url("/hooks/h"), R"([{"id":"k-)" + m.answer + "\"}]");
    CHECK(r.status == m.status);
    CHECK(r.body == m.body);
    if (!m.content_type.empty()) CHECK(r.headers["content-type"] == m.content_type);
  }
  json s = hook_state(t, "h");
  CHECK(s.num("/requests") == 4);
  CHECK(s.num("/keys/k-malformed200") == 1);
  CHECK(s.num("/keys/k-204") == 1);
  auto bad = http("POST", t.url("/hooks/h/_config"), R"({"answer":"201"})");
  CHECK(bad.status == 400);
  CHECK(json(bad.body).str("/error/code") == "bad_request");
  CHECK(http("POST", t.url("/hooks/h/_config"), R"({"answr":"204"})").status == 400);
  CHECK(http("POST", t.url("/hooks/h/_config"), R"({"fail_next":-1})").status == 400);
  CHECK(http("DELETE", t.url("/hooks/h")).status == 405);
  CHECK(http("POST", t.url("/hooks/h/extra"), "{}").status == 404);
}

TEST_CASE("webhook: fail_next answers 503 and keeps nothing", "[target][hooks]") {
  running t;
  auto c = http("POST", t.url("/hooks/f/_config"), R"({"answer":"accepted","fail_next":2})");
  REQUIRE(c.status == 200);
  CHECK(json(c.body).num("/fail_next") == 2);
  const std::string body = R"({"records":[{"key":"a"}]})";
  for (int i = 0; i < 2; ++i) {
    auto r = http("POST", t.url("/hooks/f"), body, {"Idempotency-Key: try"});
    CHECK(r.status == 503);
    CHECK(json(r.body).str("/error/code") == "unavailable");
  }
  json s = hook_state(t, "f");
  CHECK(s.num("/requests") == 0);
  CHECK(s.num("/records") == 0);
  CHECK(s.num("/failed") == 2);
  CHECK(s.str("/last_body") == "");
  CHECK(s.str("/headers/idempotency-key") == "");
  CHECK(s.num("/config/fail_next") == 0);
  auto ok = http("POST", t.url("/hooks/f"), body, {"Idempotency-Key: try"});
  CHECK(ok.status == 202);
  json s2 = hook_state(t, "f");
  CHECK(s2.num("/requests") == 1);
  CHECK(s2.num("/keys/a") == 1);
  CHECK(s2.str("/headers/idempotency-key") == "try");
}

TEST_CASE("webhook: keys from a root array or the first array member, non-JSON is 400",
          "[target][hooks]") {
  running t;
  CHECK(http("POST", t.url("/hooks/k"), R"([{"key":"r1"},{"_id":"r2"},{"id":42},{"id":"r4","key":"k4"}])")
            .status == 204);
  CHECK(http("POST", t.url("/hooks/k"),
             R"({"meta":{"n":2},"count":2,"docs":[{"_id":"d1"},{"id":1.5}],"records":[{"key":"ignored"}]})")
            .status == 204);
  CHECK(http("POST", t.url("/hooks/k"), R"({"no":"array"})").status == 204);
  json s = hook_state(t, "k");
  CHECK(s.num("/requests") == 3);
  CHECK(s.num("/records") == 6);
  CHECK(s.num("/unkeyed") == 0);
  CHECK(s.num("/keys/r1") == 1);
  CHECK(s.num("/keys/r2") == 1);
  CHECK(s.num("/keys/42") == 1);
  CHECK(s.num("/keys/k4") == 1);  // "key" wins over "id"
  CHECK(s.num("/keys/d1") == 1);
  CHECK(s.num("/keys/1.5") == 1);
  CHECK_FALSE(s.has("/keys/ignored"));
  CHECK(s.at("/keys").get_object().size() == 6);

  auto bad = http("POST", t.url("/hooks/k"), "<xml/>");
  CHECK(bad.status == 400);
  CHECK(json(bad.body).str("/error/code") == "bad_json");
  CHECK(http("POST", t.url("/hooks/k"), "").status == 400);
  json s2 = hook_state(t, "k");
  CHECK(s2.num("/requests") == 3);
  CHECK(s2.num("/rejected") == 2);
  CHECK(s2.str("/last_body") == R"({"no":"array"})");
}

TEST_CASE("webhook: the kept body is capped at 64 KiB", "[target][hooks]") {
  running t;
  std::string body = R"({"records":[{"key":"big","pad":")" + std::string(70000, 'x') + "\"}]}";
  CHECK(http("POST", t.url("/hooks/big"), body).status == 204);
  json s = hook_state(t, "big");
  CHECK(s.num("/last_body_bytes") == body.size());
  CHECK(s.str("/last_body").size() == 64 * 1024);
  CHECK(s.num("/keys/big") == 1);
}

TEST_CASE("reset forgets couchdb and webhook state", "[target][couchdb][hooks]") {
  running t;
  bulk(t, "erp", R"({"_id":"a"})");
  REQUIRE(http("POST", t.url("/hooks/r/_config"), R"({"answer":"accepted"})").status == 200);
  REQUIRE(http("POST", t.url("/hooks/r"), R"([{"key":"a"}])").status == 202);
  REQUIRE(http("POST", t.url("/reset")).status == 200);
  CHECK(http("GET", t.url("/couchdb/erp/_all_docs")).status == 404);
  CHECK(http("GET", t.url("/couchdb/erp/a")).status == 404);
  json s = hook_state(t, "r");
  CHECK(s.num("/requests") == 0);
  CHECK(s.at("/keys").get_object().size() == 0);
  CHECK(s.str("/config/answer") == "204");
  CHECK(http("POST", t.url("/hooks/r"), R"([{"key":"a"}])").status == 204);
  // After the reset the same document is created afresh (generation 1).
  json c = bulk(t, "erp", R"({"_id":"a"})");
  CHECK(gen_of(c.str("/0/rev")) == "1");
  t.srv.reset();  // the library call does the same
  CHECK(hook_state(t, "r").num("/requests") == 0);
}

TEST_CASE("profiles: auth and faults apply as to /services/", "[target][couchdb][hooks]") {
  stampede::target::options o;
  o.auth = "static";
  o.static_key = "k3y";
  running t(o);
  const std::string docs = R"({"docs":[{"_id":"a"}]})";
  auto no = http("POST", t.url("/couchdb/erp/_bulk_docs"), docs);
  CHECK(no.status == 401);
  CHECK(json(no.body).str("/error/code") == "unauthorized");
  CHECK(http("POST", t.url("/hooks/h"), "[]").status == 401);
  CHECK(http("GET", t.url("/hooks/h"), "", {"Authorization: Bearer wrong"}).status == 401);
  const std::string auth = "Authorization: Bearer k3y";
  CHECK(http("GET", t.url("/couchdb/erp/_all_docs"), "", {auth}).status == 404);  // nothing applied
  CHECK(http("POST", t.url("/couchdb/erp/_bulk_docs"), docs, {auth}).status == 201);
  CHECK(http("POST", t.url("/hooks/h"), R"([{"key":"x"}])", {auth}).status == 204);

  stampede::target::faults always_503;
  always_503.fail_rate = 1.0;
  t.srv.set_faults(always_503);
  auto f = http("POST", t.url("/hooks/h"), R"([{"key":"y"}])", {auth});
  CHECK(f.status == 503);
  CHECK(http("POST", t.url("/couchdb/erp/_bulk_docs"), R"({"docs":[{"_id":"b"}]})", {auth}).status == 503);
  t.srv.set_faults({});
  CHECK(json(t.srv.stats_json()).num("/faults/5xx") == 2);
  json s(http("GET", t.url("/hooks/h"), "", {auth}).body);
  CHECK(s.num("/requests") == 1);
  CHECK_FALSE(s.has("/keys/y"));
  CHECK(http("GET", t.url("/couchdb/erp/b"), "", {auth}).status == 404);
  CHECK(http("GET", t.url("/couchdb/erp/a"), "", {auth}).status == 200);
}

TEST_CASE("profiles: concurrent bulks and posts from several connections apply exactly once",
          "[target][couchdb][hooks]") {
  stampede::target::options o;
  o.threads = 4;
  running t(o);
  constexpr int clients = 4, rounds = 25;
  std::vector<std::thread> th;
  std::vector<int> bad(clients, 0);
  for (int c = 0; c < clients; ++c) {
    th.emplace_back([&, c] {
      CURL* h = curl_easy_init();
      for (int i = 0; i < rounds; ++i) {
        const std::string id = std::to_string(c) + "-" + std::to_string(i);
        // Every client also writes "shared" without a rev: one create, the rest conflict.
        auto b = http("POST", t.url("/couchdb/load/_bulk_docs"),
                      R"({"docs":[{"_id":")" + id + R"("},{"_id":"shared"}]})", {}, h);
        auto w = http("POST", t.url("/hooks/load"), R"([{"key":")" + id + R"("},{"key":"shared"}])", {}, h);
        if (b.status != 201 || w.status != 204) ++bad[c];
      }
      curl_easy_cleanup(h);
    });
  }
  for (auto& x : th) x.join();
  for (int c = 0; c < clients; ++c) CHECK(bad[c] == 0);
  json s(http("GET", t.url("/couchdb/load/_stats")).body);
  CHECK(s.num("/creates") == clients * rounds + 1);
  CHECK(s.num("/conflicts") == clients * rounds - 1);
  CHECK(s.num("/doc_count") == clients * rounds + 1);
  json h = hook_state(t, "load");
  CHECK(h.num("/requests") == clients * rounds);
  CHECK(h.num("/records") == 2 * clients * rounds);
  CHECK(h.num("/keys/shared") == clients * rounds);
  CHECK(h.at("/keys").get_object().size() == clients * rounds + 1);
}
