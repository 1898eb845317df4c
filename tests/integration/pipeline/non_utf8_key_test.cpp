// A CHAR key column holding a Latin-1 byte (0xE9 = 'é') must not make a batch
// invalid JSON: the real request builder, the reference target and the
// response mapping, every protocol. Policy: docs/transform.md (invalid UTF-8
// -> U+FFFD), the same escaper as the record data.
#include "http_support.hpp"
#include "target/request_builder.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace stampede::test;

namespace {

// Keys as a Latin-1 CHAR column delivers them, plus quote/backslash/control.
const std::string kLatin1Key = "CLI\xE9";                 // "CLIé" in Latin-1
const std::string kLatin1KeyAsSent = "CLI\xEF\xBF\xBD";   // "CLI" + U+FFFD
const std::string kOddKey = std::string("q\"b\\s\n\x01", 7);

std::shared_ptr<send_batch> odd_batch(std::uint32_t service) {
  auto b = make_batch(service, "ok", 2, record_op::create);
  for (const auto* k : {&kLatin1Key, &kOddKey}) {
    out_record r;
    r.key = *k;
    r.op = record_op::create;
    r.idempotency_key = "idem-" + std::to_string(service) + "-" + std::to_string(b->records.size());
    const std::string data = R"({"name":"x"})";
    r.data_off = static_cast<std::uint32_t>(b->arena.size());
    r.data_len = static_cast<std::uint32_t>(data.size());
    b->arena += data;
    b->records.push_back(std::move(r));
  }
  return b;
}

// The string at `pointer`, or throws when the body is not valid JSON.
std::string string_at(const std::string& body, const char* pointer) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  auto err = p.parse(body).get(doc);
  if (err) throw std::runtime_error(std::string("invalid JSON (") + simdjson::error_message(err) + "): " + body);
  std::string_view s;
  if (doc.at_pointer(pointer).get_string().get(s)) throw std::runtime_error(std::string("no string at ") + pointer);
  return std::string(s);
}

}  // namespace

TEST_CASE("a batch whose record key holds byte 0xE9 is valid JSON", "[integration][http][utf8]") {
  auto t = make_target(8787, target_protocol::sync_batch);
  auto b = odd_batch(1);
  const auto rq = batch_request(t, *b, 1);
  CHECK(string_at(rq.body, "/records/2/key") == kLatin1KeyAsSent);
  CHECK(string_at(rq.body, "/records/3/key") == kOddKey);
  CHECK(string_at(rq.body, "/records/0/key") == "ok0");

  t.format = payload_format::envelope;
  t.envelope.type_create = "{key}.{service}.Inc";
  t.envelope.tenant_id = "T\xE9";
  const auto env = envelope_request(t, *b, b->records[2], 1);
  CHECK(string_at(env.body, "/header/key") == kLatin1KeyAsSent);
  CHECK(string_at(env.body, "/header/type") == kLatin1KeyAsSent + ".1.Inc");
  CHECK(string_at(env.body, "/header/tenantId") == "T\xEF\xBF\xBD");
}

TEST_CASE("records with a 0xE9 key are delivered by every protocol", "[integration][http][utf8]") {
  fixture f;
  using P = target_protocol;
  const std::pair<P, payload_format> vs[] = {{P::sync_batch, payload_format::records},
                                             {P::async_batch, payload_format::records},
                                             {P::rest, payload_format::records},
                                             {P::sync_batch, payload_format::envelope}};
  std::uint32_t service = 30;
  for (const auto& [protocol, format] : vs) {
    const auto svc = ++service;
    INFO("service " << svc);
    send_driver d(make_target(f.srv.port(), protocol, format), f.client, svc);
    auto r = send_and_wait(d, odd_batch(svc));
    REQUIRE(r.outcomes.size() == 4);
    for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
      INFO("record " << i << ": " << r.outcomes[i].error);
      CHECK(r.outcomes[i].ok);
      CHECK_FALSE(r.outcomes[i].remote_id.empty());
    }
    CHECK(stat(f.srv, ("/services/" + std::to_string(svc) + "/creates").c_str()) == 4);
  }
  CHECK(stat(f.srv, "/duplicates") == 0);
}
