// Config of the target shapes (issue 8): [targets.X.request], response
// returns / error_rule / acknowledge and the placeholders of every template,
// each bad input an error at its line with a hint.
#include "helpers.hpp"

using namespace stampede;
using namespace stampede::test;

TEST_CASE("target shapes: a CouchDB-style target parses into its request and response",
          "[config][target_shapes]") {
  const std::string text = with_target_key(R"(protocol = "sync_batch"
paths = { sync = "/erp/_bulk_docs" }
request = { wrap = "docs", body_fields = { new_edits = true }, record = "flat", key_field = "_id", fields = { _rev = "{rev}" }, batch_idempotency_header = "Idempotency-Key" }
response = { results = "", key_field = "id", returns = { id = "/id", rev = "/rev" }, error_fields = ["/error", "/reason"], error_rule = "first_decides" }
)");
  const config c = parse_config(text, "test.toml");
  const auto& t = c.targets.at("portal");
  CHECK(t.request.wrap == "docs");
  REQUIRE(t.request.body_fields.size() == 1);
  CHECK(t.request.body_fields[0] == std::pair<std::string, std::string>{"new_edits", "true"});
  CHECK(t.request.shape == record_shape::flat);
  REQUIRE(t.request.fields.size() == 1);
  CHECK(t.request.fields[0].second == "{rev}");
  CHECK(t.request.batch_idempotency_header == "Idempotency-Key");
  CHECK(t.response.id_field == "/id");
  REQUIRE(t.response.returns.size() == 1);
  CHECK(t.response.returns[0].name == "rev");
  CHECK(t.response.returns[0].pointer == "/rev");
  CHECK(t.response.rule == error_rule::first_decides);
  CHECK(t.response.acknowledge == acknowledge_mode::records);
}

TEST_CASE("target shapes: returns without id means the target returns no id",
          "[config][target_shapes]") {
  const config c = parse_config(with_target_key(R"(response = { returns = { codCli = "/codCli" } })"),
                                "test.toml");
  CHECK(c.targets.at("portal").response.id_field.empty());
  const config d = parse_config(with_target_key(R"(response = { acknowledge = "status" })"), "test.toml");
  CHECK(d.targets.at("portal").response.acknowledge == acknowledge_mode::status);
}

TEST_CASE("target shapes: an unknown placeholder is an error at its line, with the closest name",
          "[config][target_shapes]") {
  expect_error(with_target_key(R"(paths = { record = "/r/{tpye}" })"), "targets.portal.paths.record",
               "\"/r/{tpye}\"", "unknown placeholder {tpye} in a per-record path: did you mean {type}?",
               "docs/targets.md");
  expect_error(with_target_key(R"(paths = { sync = "/s/{batch}" })"), "targets.portal.paths.sync",
               "\"/s/{batch}\"", "unknown placeholder {batch} in a batch path");
  expect_error(with_target_key(R"(envelope = { type_create = "{service}.{kind}" })"),
               "targets.portal.envelope.type_create", "\"{service}.{kind}\"",
               "unknown placeholder {kind} in an envelope type");
}

TEST_CASE("target shapes: a returned value used but never configured", "[config][target_shapes]") {
  expect_error(with_target_key(R"(request = { fields = { _rev = "{rev}" } })"),
               "targets.portal.request.fields._rev", "\"{rev}\"", "unknown placeholder {rev}",
               "");
  auto ds = errors_of(with_target_key(R"(request = { fields = { _rev = "{rev}" } })"));
  CHECK_THAT(diag_for(ds, "targets.portal.request.fields._rev").message,
             Catch::Contains("add `rev = \"/rev\"` under the target's [response.returns]"));
  // Configured: no error.
  CHECK_NOTHROW(parse_config(with_target_key(R"(request = { fields = { _rev = "{rev}" } }
response = { returns = { rev = "/rev" } })"),
                             "test.toml"));
}

TEST_CASE("target shapes: acknowledge = status with returns is refused", "[config][target_shapes]") {
  expect_error(with_target_key(R"(response = { acknowledge = "status", returns = { id = "/id" } })"),
               "targets.portal.response.returns", "{ id = \"/id\" }",
               "acknowledge = \"status\" accepts a request by its HTTP status alone",
               "remove `returns`");
}

TEST_CASE("target shapes: bad request values", "[config][target_shapes]") {
  expect_error(with_target_key(R"(request = { methods = { update = "PUTT" } })"),
               "targets.portal.request.methods.update", "\"PUTT\"", "unknown HTTP method \"PUTT\"",
               "did you mean \"PUT\"?");
  expect_error(with_target_key(R"(request = { record = "flatt" })"), "targets.portal.request.record",
               "\"flatt\"", "expected one of \"wrapped\", \"flat\"", "did you mean \"flat\"?");
  expect_error(with_target_key(R"(request = { wrap = "", body_fields = { a = 1 } })"),
               "targets.portal.request.body_fields", "{ a = 1 }", "bare array");
  expect_error(with_target_key(R"(request = { body_fields = { records = 1 } })"),
               "targets.portal.request.body_fields.records", "records = 1",
               "the member that holds the records");
  expect_error(with_target_key(R"(request = { delete = "drop" })"), "targets.portal.request.delete",
               "\"drop\"", "expected one of \"send\", \"skip\", \"mark\"");
  expect_error(with_target_key(R"(response = { returns = { key = "/key" } })"),
               "targets.portal.response.returns.key", "key = ", "built-in placeholder");
  expect_error(with_target_key(R"(response = { returns = { rev = "rev" } })"),
               "targets.portal.response.returns.rev", "\"rev\"", "is not a JSON pointer");
  expect_error(with_target_key(R"(response = { error_rule = "first" })"),
               "targets.portal.response.error_rule", "\"first\"",
               "\"first_present\", \"first_decides\"");
}
