#include "target/request_builder.hpp"
#include "target_support.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using stampede::test::header;

namespace {

out_record rec(send_batch& b, std::string key, record_op op, std::string data, std::string idem,
               std::string remote = {}) {
  return test::make_record(b, std::move(key), op, std::move(data), std::move(idem), std::move(remote));
}

target_config tgt() {
  target_config t;
  t.base_url = "http://127.0.0.1:8787/";
  return t;
}

}  // namespace

TEST_CASE("batch body, records format, byte for byte", "[request_builder]") {
  send_batch b;
  b.records.push_back(rec(b, "0001", record_op::create, R"({"name":"ACME","n":1})", "ab12"));
  b.records.push_back(rec(b, "k\"2", record_op::update, R"({"name":"B"})", "cd34", "r-9"));
  b.records.push_back(rec(b, "3", record_op::del, "", "ef56", "r-3"));
  auto t = tgt();
  CHECK(batch_body(t, b) ==
        R"({"records":[{"key":"0001","op":"create","idempotencyKey":"ab12","data":{"name":"ACME","n":1}},)"
        R"({"key":"k\"2","op":"update","idempotencyKey":"cd34","data":{"name":"B"}},)"
        R"({"key":"3","op":"delete","idempotencyKey":"ef56","data":null}]})");
  t.idempotency_field = "";
  send_batch one;
  one.records.push_back(rec(one, "1", record_op::create, "{}", "x"));
  CHECK(batch_body(t, one) == R"({"records":[{"key":"1","op":"create","data":{}}]})");
  t.idempotency_field = "dedup";
  CHECK(batch_body(t, one) == R"({"records":[{"key":"1","op":"create","dedup":"x","data":{}}]})");
  send_batch empty;
  CHECK(batch_body(t, empty) == R"({"records":[]})");
}

TEST_CASE("JSON string escaping", "[request_builder]") {
  std::string out;
  append_json_string(out, std::string("a\\b\n\t\x01\"\xc3\xa9", 9));
  CHECK(out == "\"a\\\\b\\n\\t\\u0001\\\"\xc3\xa9\"");
  // The project's one escaper: invalid UTF-8 (a Latin-1 CHAR byte) -> U+FFFD.
  out.clear();
  append_json_string(out, "k\xE9\xE2\x80\xA8");
  CHECK(out == "\"k\xEF\xBF\xBD\\u2028\"");
}

TEST_CASE("URL templating and encoding", "[request_builder]") {
  auto t = tgt();
  CHECK(target_url(t, t.paths.sync, 7) == "http://127.0.0.1:8787/services/7/sync");
  CHECK(target_url(t, t.paths.batch_status, 7, "b 1/2?x") ==
        "http://127.0.0.1:8787/services/7/batches/b%201%2F2%3Fx");
  CHECK(target_url(t, t.paths.record_id, 12, {}, "id-_.~%") ==
        "http://127.0.0.1:8787/services/12/records/id-_.~%25");
  CHECK(target_url(t, "x/{service}", 1) == "http://127.0.0.1:8787/x/1");
  t.base_url = "http://h:1/api";
  CHECK(target_url(t, "/a/{id}", 1, {}, "\xc3\xa9") == "http://h:1/api/a/%C3%A9");
  CHECK(url_encode("AZaz09-._~ +&=") == "AZaz09-._~%20%2B%26%3D");
}

TEST_CASE("batch requests pick the protocol's path", "[request_builder]") {
  send_batch b;
  b.records.push_back(rec(b, "1", record_op::create, "{}", "i"));
  auto t = tgt();
  t.protocol = target_protocol::async_batch;
  auto a = batch_request(t, b, 3);
  CHECK(a.method == "POST");
  CHECK(a.url == "http://127.0.0.1:8787/services/3/batches");
  CHECK(header(a, "Content-Type") == "application/json");
  CHECK(a.timeout == t.request_timeout);
  t.protocol = target_protocol::sync_batch;
  CHECK(batch_request(t, b, 3).url == "http://127.0.0.1:8787/services/3/sync");
  auto p = batch_status_request(t, 3, "abc");
  CHECK(p.method == "GET");
  CHECK(p.url == "http://127.0.0.1:8787/services/3/batches/abc");
  CHECK(p.body.empty());
}

TEST_CASE("REST requests per op", "[request_builder]") {
  send_batch b;
  auto c = rec(b, "K1", record_op::create, R"({"a":1})", "idem1");
  auto u = rec(b, "K2", record_op::update, R"({"a":2})", "idem2", "remote/2");
  auto d = rec(b, "K3", record_op::del, "", "idem3", "r3");
  auto noid = rec(b, "K4", record_op::update, "{}", "idem4");
  auto t = tgt();
  rest_errc err;
  auto rc = rest_request(t, b, c, 5, err);
  CHECK(err == rest_errc::ok);
  CHECK(rc.method == "POST");
  CHECK(rc.url == "http://127.0.0.1:8787/services/5/records");
  CHECK(rc.body == R"({"a":1})");
  CHECK(header(rc, "X-Record-Key") == "K1");
  CHECK(header(rc, "Idempotency-Key") == "idem1");
  auto ru = rest_request(t, b, u, 5, err);
  CHECK(ru.method == "PUT");
  CHECK(ru.url == "http://127.0.0.1:8787/services/5/records/remote%2F2");
  CHECK(ru.body == R"({"a":2})");
  auto rd = rest_request(t, b, d, 5, err);
  CHECK(rd.method == "DELETE");
  CHECK(rd.url == "http://127.0.0.1:8787/services/5/records/r3");
  CHECK(rd.body.empty());
  rest_request(t, b, noid, 5, err);
  CHECK(err == rest_errc::missing_remote_id);
  auto odd = rec(b, "a b\r\nX: y", record_op::create, "{}", "");
  CHECK(header(rest_request(t, b, odd, 5, err), "X-Record-Key") == "a%20b%0D%0AX%3A%20y");
  CHECK(header(rest_request(t, b, odd, 5, err), "Idempotency-Key") == "<absent>");
  t.idempotency_header = "";
  CHECK(header(rest_request(t, b, c, 5, err), "Idempotency-Key") == "<absent>");
  t.idempotency_header = "X-Idem";
  CHECK(header(rest_request(t, b, c, 5, err), "X-Idem") == "idem1");
}

TEST_CASE("envelope types and body", "[request_builder]") {
  envelope_config env;
  CHECK(envelope_type(env, record_op::create, 9, "k") == "9.IncDataCommand");
  CHECK(envelope_type(env, record_op::update, 9, "k") == "9.AltDataCommand");
  CHECK(envelope_type(env, record_op::del, 9, "k") == "9.ExcDataCommand");
  env.type_create = "{op}:{service}:{key}:{unknown}";
  CHECK(envelope_type(env, record_op::create, 1, "{op}") == "create:1:{op}:{unknown}");

  send_batch b;
  auto r = rec(b, "A\"1", record_op::update, R"({"x":[1,2]})", "i");
  auto t = tgt();
  t.envelope.tenant_id = "T-01";
  CHECK(envelope_body(t, b, r, 4) ==
        R"({"header":{"type":"4.AltDataCommand","tenantId":"T-01","key":"A\"1"},"data":{"x":[1,2]}})");
  auto rq = envelope_request(t, b, r, 4);
  CHECK(rq.method == "POST");
  CHECK(rq.url == "http://127.0.0.1:8787/services/4/messages");
  CHECK(rq.body == envelope_body(t, b, r, 4));
}

TEST_CASE("{service} is the numeric id, {service_name} the name", "[request_builder]") {
  auto t = tgt();
  const service_ref svc{19, "Contribuintes PF"};
  CHECK(target_url(t, "/svc/{service}/{service_name}/x", svc) ==
        "http://127.0.0.1:8787/svc/19/Contribuintes%20PF/x");
  CHECK(target_url(t, "/{service_name}", service_ref{7, "{batch}"}, "b1") ==
        "http://127.0.0.1:8787/%7Bbatch%7D");  // a name is not expanded again
  CHECK(target_url(t, "/{service_name}", 7) == "http://127.0.0.1:8787/7");  // id only
  envelope_config env;
  env.type_create = "{service_name}.{service}.{op}";
  CHECK(envelope_type(env, record_op::create, svc, "k") == "Contribuintes PF.19.create");
  CHECK(envelope_type(env, record_op::create, 19, "k") == "19.19.create");
}
