// [request] templates: wrapping, flat records, request.fields with returned
// values, deletes (send / mark), methods, the batch idempotency header and
// per-record paths with placeholders (docs/targets.md "Request templates").
#include "target/request_builder.hpp"
#include "target_support.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using stampede::test::header;

namespace {

out_record rec(send_batch& b, std::string key, record_op op, std::string data,
               std::string remote = {},
               std::vector<std::pair<std::string, std::string>> returned = {}) {
  std::string idem = "idem-" + key;
  return test::make_record(b, std::move(key), op, std::move(data), std::move(idem),
                           std::move(remote), std::move(returned));
}

target_config couch() {
  target_config t;
  t.base_url = "http://127.0.0.1:5984";
  t.protocol = target_protocol::sync_batch;
  t.paths.sync = "/erp/_bulk_docs";
  t.request.wrap = "docs";
  t.request.shape = record_shape::flat;
  t.request.key_field = "_id";
  t.request.fields = {{"_rev", "{rev}"}};
  return t;
}

}  // namespace

TEST_CASE("flat records under docs: key as _id, _rev only once returned, deletes marked",
          "[request_templates]") {
  send_batch b;
  b.records.push_back(rec(b, "0001", record_op::create, R"({"name":"ACME","n":1})"));
  b.records.push_back(rec(b, "0002", record_op::update, R"({"name":"B"})", "0002", {{"rev", "1-ab"}}));
  b.records.push_back(rec(b, "0003", record_op::del, R"({"name":"C"})", "0003", {{"rev", "2-cd"}}));
  b.records.push_back(rec(b, "0004", record_op::del, ""));
  auto t = couch();
  CHECK(batch_body(t, b) ==
        R"({"docs":[{"_id":"0001","name":"ACME","n":1},)"
        R"({"_id":"0002","_rev":"1-ab","name":"B"},)"
        R"({"_id":"0003","_rev":"2-cd","name":"C","_deleted":true},)"
        R"({"_id":"0004","_deleted":true}]})");
  // Constant members beside the array, a bare array, no key member.
  t.request.body_fields = {{"new_edits", "true"}, {"source", "\"erp\""}};
  send_batch one;
  one.records.push_back(rec(one, "9", record_op::create, "{}"));
  CHECK(batch_body(t, one) == R"({"new_edits":true,"source":"erp","docs":[{"_id":"9"}]})");
  t.request.wrap = "";
  t.request.key_field = "";
  t.request.fields.clear();
  CHECK(batch_body(t, one) == R"([{}])");
}

TEST_CASE("wrapped records: request.fields beside key and op, mark sends a delete as an update",
          "[request_templates]") {
  target_config t;
  t.base_url = "http://h";
  t.request.fields = {{"ref", "{service_name}/{key}"}, {"rev", "{rev}"}};
  t.request.on_delete = delete_mode::mark;
  t.request.delete_field = "ativo";
  t.request.delete_value = "false";
  send_batch b;
  b.records.push_back(rec(b, "7", record_op::del, R"({"a":1})", "r7", {{"rev", "3"}}));
  b.records.push_back(rec(b, "8", record_op::create, "{}"));
  CHECK(batch_body(t, b, service_ref(4, "clientes")) ==
        R"({"records":[{"key":"7","op":"update","idempotencyKey":"idem-7","ref":"clientes/7","rev":"3","data":{"a":1,"ativo":false}},)"
        R"({"key":"8","op":"create","idempotencyKey":"idem-8","ref":"clientes/8","data":{}}]})");
}

TEST_CASE("REST: methods per operation, {rev} in the path, a missing value is reported",
          "[request_templates]") {
  target_config t;
  t.base_url = "http://h/api";
  t.protocol = target_protocol::rest;
  t.paths.record = "/db/{key}";
  t.paths.record_id = "/db/{id}?rev={rev}";
  t.request.method_create = "PUT";
  t.request.method_update = "PATCH";
  send_batch b;
  auto c = rec(b, "a b", record_op::create, R"({"x":1})");
  auto u = rec(b, "k", record_op::update, R"({"x":2})", "id/1", {{"rev", "1-x"}});
  auto d = rec(b, "k", record_op::del, "", "id/1", {{"rev", "2-y"}});
  auto norev = rec(b, "k", record_op::update, "{}", "id/1");
  rest_errc err;
  auto rc = rest_request(t, b, c, 1, err);
  CHECK(err == rest_errc::ok);
  CHECK(rc.method == "PUT");
  CHECK(rc.url == "http://h/api/db/a%20b");
  CHECK(rc.body == R"({"x":1})");
  auto ru = rest_request(t, b, u, 1, err);
  CHECK(err == rest_errc::ok);
  CHECK(ru.method == "PATCH");
  CHECK(ru.url == "http://h/api/db/id%2F1?rev=1-x");
  auto rd = rest_request(t, b, d, 1, err);
  CHECK(rd.method == "DELETE");
  CHECK(rd.url == "http://h/api/db/id%2F1?rev=2-y");
  CHECK(rd.body.empty());
  std::string missing;
  rest_request(t, b, norev, 1, err, &missing);
  CHECK(err == rest_errc::missing_value);
  CHECK(missing == "rev");
  // mark: the delete goes out as an update with the marker in its body.
  t.request.on_delete = delete_mode::mark;
  auto rm = rest_request(t, b, d, 1, err);
  CHECK(rm.method == "PATCH");
  CHECK(rm.body == R"({"_deleted":true})");
}

TEST_CASE("batch idempotency header: one key per batch, the same on every build of it",
          "[request_templates]") {
  auto t = couch();
  t.request.batch_idempotency_header = "Idempotency-Key";
  send_batch b;
  b.records.push_back(rec(b, "1", record_op::create, "{}"));
  b.records.push_back(rec(b, "2", record_op::create, "{}"));
  const auto k = header(batch_request(t, b, 1), "Idempotency-Key");
  CHECK(k.size() == 16);
  CHECK(k == header(batch_request(t, b, 1), "Idempotency-Key"));
  b.records[1].idempotency_key = "other";
  CHECK(k != header(batch_request(t, b, 1), "Idempotency-Key"));
  t.request.batch_idempotency_header.clear();
  CHECK(header(batch_request(t, b, 1), "Idempotency-Key") == "<absent>");
}

TEST_CASE("envelope: the message type in the path, {type} follows the operation",
          "[request_templates]") {
  target_config t;
  t.base_url = "http://h";
  t.format = payload_format::envelope;
  t.paths.message = "/link/send/{type}/LinkProxy";
  t.envelope.type_create = "FinLanIncDataCommand";
  t.envelope.type_update = "FinLanAltDataCommand";
  send_batch b;
  auto c = rec(b, "1", record_op::create, "{}");
  auto u = rec(b, "1", record_op::update, "{}", "r1");
  CHECK(envelope_request(t, b, c, 1).url == "http://h/link/send/FinLanIncDataCommand/LinkProxy");
  CHECK(envelope_request(t, b, u, 1).url == "http://h/link/send/FinLanAltDataCommand/LinkProxy");
  t.paths.message = "/m/{rev}";
  std::string missing;
  envelope_request(t, b, u, 1, &missing);
  CHECK(missing == "rev");
}

TEST_CASE("envelope: a configured header has exactly its members", "[request_templates]") {
  target_config t;
  t.base_url = "http://h";
  t.format = payload_format::envelope;
  t.envelope.type_update = "FinLanAltDataCommand";
  t.envelope.header = {{"type", "{type}"}, {"tenantId", "T1"}, {"ref", "{rev}"}};
  send_batch b;
  auto u = rec(b, "9", record_op::update, R"({"IdLan":9})", "r9");
  CHECK(envelope_body(t, b, u, 1) ==
        R"({"header":{"type":"FinLanAltDataCommand","tenantId":"T1"},"data":{"IdLan":9}})");
  u.returned = {{"rev", "7"}};
  CHECK(envelope_body(t, b, u, 1) ==
        R"({"header":{"type":"FinLanAltDataCommand","tenantId":"T1","ref":"7"},"data":{"IdLan":9}})");
}
