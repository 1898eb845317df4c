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

TEST_CASE("target shapes: setup requests, envelope header, service message types, OAuth2 extras",
          "[config][target_shapes]") {
  const std::string text = edit(
      with_target_key(R"(format = "envelope"
paths = { message = "/link/send/{type}/LinkProxy" }
envelope = { tenant_id = "T1", header = { type = "{type}", tenantId = "T1" } }
auth = { kind = "oauth2", token_url = "http://127.0.0.1:1/t", client_id = "cid", client_secret = "s3cret", audience = "api://x", form = { resource = "r1" }, client_auth = "client_secret_basic" }
[[targets.portal.setup]]
path = "/link/setup"
body = '''{"subscriptions":["A"],"requeueCountMax":3}'''
)"),
      "target = \"portal\"", "target = \"portal\"\nenvelope = { type_create = \"FinLanIncDataCommand\" }");
  const config c = parse_config(text, "test.toml");
  const auto& t = c.targets.at("portal");
  REQUIRE(t.setup.size() == 1);
  CHECK(t.setup[0].method == "POST");
  CHECK(t.setup[0].path == "/link/setup");
  CHECK(t.setup[0].body == R"({"subscriptions":["A"],"requeueCountMax":3})");
  REQUIRE(t.envelope.header.size() == 2);
  // A TOML table has no order: members come sorted by name.
  CHECK(t.envelope.header[0] == std::pair<std::string, std::string>{"tenantId", "T1"});
  CHECK(t.envelope.header[1] == std::pair<std::string, std::string>{"type", "{type}"});
  CHECK(t.auth.audience == "api://x");
  CHECK(t.auth.form == std::vector<std::pair<std::string, std::string>>{{"resource", "r1"}});
  CHECK(t.auth.client_secret_basic);
  CHECK(basic_credentials(t.auth) == "Y2lkOnMzY3JldA==");  // base64("cid:s3cret")
  const auto& s = c.services.at(0);
  CHECK(s.envelope.type_create == std::optional<std::string>("FinLanIncDataCommand"));
  CHECK_FALSE(s.envelope.type_update.has_value());
}

TEST_CASE("target shapes: a setup body that is not JSON, a setup path with a placeholder",
          "[config][target_shapes]") {
  const std::string bad_json = base_config + R"(
[[targets.portal.setup]]
path = "/link/setup"
body = '{"subscriptions":[}'
)";
  expect_error(bad_json, "targets.portal.setup[0].body", "'{\"subscriptions\":[}'",
               "is not valid JSON", "one JSON value");
  const std::string placeholder = base_config + R"(
[[targets.portal.setup]]
path = "/link/{service}/setup"
)";
  expect_error(placeholder, "targets.portal.setup[0].path", "\"/link/{service}/setup\"",
               "unknown placeholder {service} in a setup path", "without placeholders");
  expect_error(base_config + "\n[[targets.portal.setup]]\nbody = '{}'\n", "targets.portal.setup[0].path",
               "[[targets.portal.setup]]", "missing required key");
  expect_error(with_target_key(R"(envelope = { header = { t = "{tpe}" } })"),
               "targets.portal.envelope.header.t", "\"{tpe}\"", "did you mean {type}?");
  expect_error(with_service_key(R"(envelope = { type_create = "{kind}" })"),
               "services[0].envelope.type_create", "\"{kind}\"", "unknown placeholder {kind}");
  expect_error(with_target_key(R"(auth = { kind = "oauth2", token_url = "http://h/t", client_id = "c", client_secret = "s3cret", form = { client_secret = "x" } })"),
               "targets.portal.auth.form.client_secret", "client_secret = \"x\"", "is set by stampede");
}

TEST_CASE("target shapes: bad targets.X.async values", "[config][target_shapes]") {
  expect_error(with_target_key(R"(async = { batch_id = "batchId" })"), "targets.portal.async.batch_id",
               "\"batchId\"", "is not a JSON pointer", "\"/batchId\"");
  expect_error(with_target_key(R"(async = { done = [] })"), "targets.portal.async.done", "[]",
               "must name at least one value");
  expect_error(with_target_key(R"(async = { done = ["ok"], failed = ["ok"] })"),
               "targets.portal.async.failed", "[\"ok\"] }", "listed in both done and failed");
  expect_error(with_target_key(R"(async = { statuz = "/s" })"), "targets.portal.async.statuz",
               "statuz", "unknown key", "did you mean `status`?");
  const config c = parse_config(with_target_key(R"(async = { batch_id = "/lote/id", status = "/situacao", done = ["concluido"], failed = ["erro"] })"),
                                "test.toml");
  const auto& a = c.targets.at("portal").async;
  CHECK(a.batch_id == "/lote/id");
  CHECK(a.status == "/situacao");
  CHECK(a.done == std::vector<std::string>{"concluido"});
  CHECK(a.failed == std::vector<std::string>{"erro"});
}
