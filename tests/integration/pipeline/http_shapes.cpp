// Target shapes (issue 8) through the real send driver, libcurl and the
// in-process reference target's profiles: CouchDB's _bulk_docs (flat docs,
// the _rev round trip, conflicts as record errors), webhooks acknowledged by
// status, deletes skipped without a request, a REST create answered without
// an id, an async status configured as failed.
#include "http_support.hpp"
#include "target/request_builder.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace stampede::test;

namespace {

target_config couch_target(std::uint16_t port) {
  auto t = make_target(port, target_protocol::sync_batch);
  t.base_url += "/couchdb";
  t.paths.sync = "/{service_name}/_bulk_docs";
  t.idempotency_field = "";
  t.request.wrap = "docs";
  t.request.shape = record_shape::flat;
  t.request.key_field = "_id";
  t.request.fields = {{"_rev", "{rev}"}};
  t.response.results = "";
  t.response.key_field = "id";
  t.response.id_field = "/id";
  t.response.returns = {{"rev", "/rev"}};
  t.response.error_fields = {"/error", "/reason"};
  t.response.rule = error_rule::first_decides;
  return t;
}

target_config hook_target(std::uint16_t port, const std::string& hook) {
  auto t = make_target(port, target_protocol::sync_batch);
  t.paths.sync = "/hooks/" + hook;
  t.response.acknowledge = acknowledge_mode::status;
  return t;
}

std::string get(fixture& f, const std::string& path) {
  http_request rq;
  rq.method = "GET";
  rq.url = "http://127.0.0.1:" + std::to_string(f.srv.port()) + path;
  rq.timeout = duration{5000};
  auto prom = std::make_shared<std::promise<std::string>>();
  auto fut = prom->get_future();
  f.client.submit(std::move(rq), [prom](http_response r) { prom->set_value(r.body); });
  return fut.get();
}

std::string post(fixture& f, const std::string& path, const std::string& body) {
  http_request rq;
  rq.method = "POST";
  rq.url = "http://127.0.0.1:" + std::to_string(f.srv.port()) + path;
  rq.body = body;
  rq.headers.emplace_back("Content-Type", "application/json");
  rq.timeout = duration{5000};
  auto prom = std::make_shared<std::promise<std::string>>();
  auto fut = prom->get_future();
  f.client.submit(std::move(rq), [prom](http_response r) { prom->set_value(r.body); });
  return fut.get();
}

std::int64_t json_int(const std::string& body, const char* pointer) {
  simdjson::dom::parser p;
  std::int64_t v = -1;
  if (p.parse(body).at_pointer(pointer).get(v) != simdjson::SUCCESS) return -1;
  return v;
}

std::string returned(const record_outcome& o, const std::string& name) {
  for (const auto& [n, v] : o.returned)
    if (n == name) return v;
  return {};
}

}  // namespace

TEST_CASE("couchdb shape: creates return revs, updates carry them, a stale rev is a conflict",
          "[integration][http][shapes]") {
  fixture f;
  driver d(couch_target(f.srv.port()), f.client, 3);  // service name "svc-3"
  auto created = send_and_wait(d, make_batch(3, "doc", 4, record_op::create));
  REQUIRE(count_ok(created) == 4);
  std::vector<std::string> ids;
  for (const auto& o : created.outcomes) {
    CHECK(returned(o, "rev").rfind("1-", 0) == 0);
    ids.push_back(o.remote_id);
  }
  CHECK(ids == std::vector<std::string>{"doc0", "doc1", "doc2", "doc3"});
  const auto doc = get(f, "/couchdb/svc-3/doc1");
  CHECK(doc.find("\"name\":\"name doc1\"") != std::string::npos);

  // Updates with the returned revs succeed; one record goes with a stale rev.
  auto upd = make_batch(3, "doc", 4, record_op::update, 2, &ids);
  for (std::size_t i = 0; i < 4; ++i) upd->records[i].returned = {{"rev", returned(created.outcomes[i], "rev")}};
  upd->records[2].returned = {{"rev", "1-00000000000000000000000000000000"}};
  auto updated = send_and_wait(d, upd);
  REQUIRE(updated.outcomes.size() == 4);
  CHECK(updated.outcomes[0].ok);
  CHECK(returned(updated.outcomes[0], "rev").rfind("2-", 0) == 0);
  CHECK_FALSE(updated.outcomes[2].ok);
  CHECK(updated.outcomes[2].error == "conflict: Document update conflict.");
  CHECK_FALSE(updated.outcomes[2].retryable);
  CHECK(json_int(get(f, "/couchdb/svc-3/_stats"), "/conflicts") == 1);

  // A delete is a _deleted doc with its rev.
  auto del = make_batch(3, "doc", 1, record_op::del, 3, &ids);
  del->records[0].returned = {{"rev", returned(updated.outcomes[0], "rev")}};
  auto deleted = send_and_wait(d, del);
  REQUIRE(count_ok(deleted) == 1);
  CHECK(get(f, "/couchdb/svc-3/doc0").find("\"reason\":\"deleted\"") != std::string::npos);
}

TEST_CASE("webhook shape: acknowledged by status (204, empty 200, accepted), skipped deletes are not sent",
          "[integration][http][shapes]") {
  fixture f;
  auto t = hook_target(f.srv.port(), "h1");
  t.request.on_delete = delete_mode::skip;
  t.request.batch_idempotency_header = "X-Batch-Idempotency-Key";
  driver d(t, f.client, 1);
  for (const char* answer : {"204", "empty200", "accepted"}) {
    INFO(answer);
    post(f, "/hooks/h1/_config", std::string(R"({"answer":")") + answer + "\"}");
    auto r = send_and_wait(d, make_batch(1, std::string("k") + answer + "-", 3, record_op::create));
    CHECK(count_ok(r) == 3);
    CHECK_FALSE(r.target.has_value());
  }
  auto mixed = make_batch(1, "m", 3, record_op::create);
  mixed->records[1].op = record_op::del;
  mixed->records[1].remote_id = "m1";
  auto r = send_and_wait(d, mixed);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(count_ok(r) == 3);
  CHECK(r.outcomes[1].not_sent);
  CHECK_FALSE(r.outcomes[0].not_sent);
  const auto hook = get(f, "/hooks/h1");
  CHECK(json_int(hook, "/records") == 11);  // 9 + m0 + m2: the delete was never sent
  CHECK(hook.find("\"m1\"") == std::string::npos);
  simdjson::dom::parser p;
  std::string_view key;
  REQUIRE(p.parse(hook).at_pointer("/headers/x-batch-idempotency-key").get(key) == simdjson::SUCCESS);
  send_batch wire;  // what went out: the batch without the skipped delete
  wire.records = {mixed->records[0], mixed->records[2]};
  CHECK(key == batch_idempotency_key(wire));
  // Only deletes: nothing to send at all.
  auto only = make_batch(1, "d", 2, record_op::del);
  auto before = json_int(get(f, "/hooks/h1"), "/requests");
  auto none = send_and_wait(d, only);
  CHECK(count_ok(none) == 2);
  CHECK(none.http_attempts == 0);
  CHECK(json_int(get(f, "/hooks/h1"), "/requests") == before);
}

TEST_CASE("webhook shape: a 2xx of the wrong shape is an unknown outcome, not a success",
          "[integration][http][shapes]") {
  fixture f;
  auto t = hook_target(f.srv.port(), "h2");
  t.response.acknowledge = acknowledge_mode::records;
  t.request_attempts = 3;
  post(f, "/hooks/h2/_config", R"({"answer":"malformed200"})");
  driver d(t, f.client, 1);
  auto r = send_and_wait(d, make_batch(1, "x", 2, record_op::create));
  REQUIRE(r.target.has_value());
  CHECK(r.target->cls == failure_class::exhausted);
  CHECK(r.outcomes.empty());
  CHECK(r.unknown_outcome_retries == 2);
  CHECK(json_int(get(f, "/hooks/h2"), "/requests") == 3);  // the same request, three times
}

TEST_CASE("rest shape: a create answered 2xx without an id is a record error unless id_field is empty",
          "[integration][http][shapes]") {
  fixture f;
  auto t = make_target(f.srv.port(), target_protocol::rest);
  t.paths.record = "/hooks/h3";  // answers 204: no id
  driver d(t, f.client, 1);
  auto r = send_and_wait(d, make_batch(1, "c", 2, record_op::create));
  REQUIRE(r.outcomes.size() == 2);
  CHECK_FALSE(r.outcomes[0].ok);
  CHECK(r.outcomes[0].error.find("its answer has no id at /id") != std::string::npos);
  t.response.id_field = "";
  driver none(t, f.client, 1);
  CHECK(count_ok(send_and_wait(none, make_batch(1, "c", 2, record_op::create))) == 2);
}

TEST_CASE("async shape: a status listed as failed fails every record, retryable",
          "[integration][http][shapes]") {
  target::options o;
  o.f.batch_delay_ms = 60000;  // stays 'processing'
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.async.failed = {"processing"};
  driver d(t, f.client, 1);
  auto r = send_and_wait(d, make_batch(1, "a", 3, record_op::create));
  REQUIRE(r.outcomes.size() == 3);
  for (const auto& o2 : r.outcomes) {
    CHECK_FALSE(o2.ok);
    CHECK(o2.retryable);
    CHECK(o2.error.find("ended 'processing' at the target") != std::string::npos);
  }
}

namespace {

target_config link_target(std::uint16_t port) {
  auto t = make_target(port, target_protocol::rest, payload_format::envelope);
  t.paths.message = "/link/send/{type}/LinkProxy";
  t.envelope.header = {{"type", "{type}"}, {"tenantId", "T1"}};
  t.envelope.type_create = "FinLanIncDataCommand";
  t.envelope.type_update = "FinLanAltDataCommand";
  t.request_attempts = 3;
  setup_request s;
  s.path = "/link/setup";
  s.body = R"({"tenantId":"T1","subscriptions":["FinLanIncDataCommand","FinLanAltDataCommand","CtbLanIncDataCommand"],"requeueCountMax":2})";
  t.setup = {s};
  return t;
}

/// `n` records "<prefix>i" whose data carries IdLan = i + 1 (the consumer's key).
std::shared_ptr<send_batch> lan_batch(const std::string& prefix, int n, record_op op) {
  auto b = make_batch(1, prefix, n, op);
  b->arena.clear();
  for (int i = 0; i < n; ++i) {
    auto& r = b->records[static_cast<std::size_t>(i)];
    const std::string data = "{\"CodColigada\":1,\"IdLan\":" + std::to_string(i + 1) + "}";
    r.data_off = static_cast<std::uint32_t>(b->arena.size());
    r.data_len = static_cast<std::uint32_t>(data.size());
    b->arena += data;
  }
  return b;
}

}  // namespace

TEST_CASE("setup requests: sent once per runtime before the first batch, shared by its services",
          "[integration][http][shapes]") {
  fixture f;
  target_runtime rt(link_target(f.srv.port()), f.client);
  std::string saved;
  rt.setup().save = [&](const std::string& h) { saved = h; };
  send_driver fin(rt, 1, "fin");
  service_envelope ctb_types;
  ctb_types.type_create = "CtbLanIncDataCommand";
  send_driver ctb(rt, 2, "ctb", ctb_types);
  // Two services' first batches at once: one setup, both wait for it.
  auto a = std::async(std::launch::async, [&] { return send_and_wait(fin, lan_batch("f", 3, record_op::create)); });
  auto b = std::async(std::launch::async, [&] { return send_and_wait(ctb, lan_batch("c", 2, record_op::create)); });
  auto ra = a.get();
  auto rb = b.get();
  CHECK(count_ok(ra) == 3);
  CHECK(count_ok(rb) == 2);
  const auto stats = get(f, "/link/_stats");
  CHECK(json_int(stats, "/setups") == 1);
  CHECK(json_int(stats, "/creates") == 5);
  CHECK(json_int(stats, "/dead") == 0);
  CHECK(saved == rt.setup_hash());
  // The service's own types went out (CtbLan records exist).
  CHECK(get(f, "/link/records/T1").find("\"entity\":\"CtbLan\"") != std::string::npos);
  // Later batches do not repeat it.
  CHECK(count_ok(send_and_wait(fin, lan_batch("f", 3, record_op::update))) == 3);
  CHECK(json_int(get(f, "/link/_stats"), "/setups") == 1);
}

TEST_CASE("setup requests: an unchanged setup that succeeded before is not sent, a refused one fails the batch at the target level",
          "[integration][http][shapes]") {
  fixture f;
  {
    target_runtime rt(link_target(f.srv.port()), f.client);
    const std::string h = rt.setup_hash();
    rt.setup().load = [h] { return std::optional<std::string>(h); };
    send_driver d(rt, 1, "fin");
    // The target never got the setup, so the message is refused (422): the
    // proof that stampede did not send it.
    auto r = send_and_wait(d, lan_batch("f", 1, record_op::create));
    REQUIRE(r.outcomes.size() == 1);
    CHECK_FALSE(r.outcomes[0].ok);
    CHECK(json_int(get(f, "/link/_stats"), "/setups") == 0);
  }
  auto t = link_target(f.srv.port());
  t.setup[0].body = R"({"subscriptions":[]})";  // the target refuses an empty setup (400)
  target_runtime rt(t, f.client);
  send_driver d(rt, 1, "fin");
  const auto sends = json_int(get(f, "/link/_stats"), "/sends");
  auto r = send_and_wait(d, lan_batch("g", 2, record_op::create));
  REQUIRE(r.target.has_value());
  CHECK(r.target->cls == failure_class::route);
  CHECK(r.target->reason.find("setup request failed") != std::string::npos);
  CHECK(r.outcomes.empty());
  CHECK(json_int(get(f, "/link/_stats"), "/sends") == sends);  // no message was sent
  // The next batch tries the setup again.
  auto again = send_and_wait(d, lan_batch("g", 2, record_op::create));
  CHECK(again.target.has_value());
  CHECK(json_int(get(f, "/link/_stats"), "/rejected") == 2);
}

TEST_CASE("skipped deletes stay done when the rest of their batch fails as a whole",
          "[integration][http][shapes]") {
  target::options o;
  o.f.batch_delay_ms = 60000;  // stays 'processing', listed as failed below
  fixture f(o);
  auto t = make_target(f.srv.port(), target_protocol::async_batch);
  t.async.failed = {"processing"};
  t.request.on_delete = delete_mode::skip;
  driver d(t, f.client, 1);
  auto b = make_batch(1, "s", 3, record_op::create);
  b->records[1].op = record_op::del;
  b->records[1].remote_id = "1-9";
  auto r = send_and_wait(d, b);
  REQUIRE(r.outcomes.size() == 3);
  CHECK_FALSE(r.outcomes[0].ok);
  CHECK(r.outcomes[0].retryable);
  CHECK(r.outcomes[1].ok);  // never sent: not the target's to fail
  CHECK(r.outcomes[1].not_sent);
  CHECK(r.outcomes[1].remote_id == "1-9");
  CHECK_FALSE(r.outcomes[2].ok);
}
