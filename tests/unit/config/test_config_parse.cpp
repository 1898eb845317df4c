// Valid configurations: defaults, every key, interpolation, durations,
// schedules, time zones.
#include "helpers.hpp"

#include <cstdlib>
#include <filesystem>

using namespace stampede;
using namespace stampede::test;
using namespace std::chrono_literals;

TEST_CASE("minimal config is filled with defaults", "[config]") {
  config c = parse_config(base_config, "test.toml");
  CHECK(c.file == "test.toml");
  CHECK(c.source.kind == source_kind::sqlite);
  CHECK(c.source.path == "demo.db");
  CHECK(c.source.stamp_column == "S_T_A_M_P_");
  CHECK(c.source.recno_column == "R_E_C_N_O_");
  CHECK(c.source.deleted_column == "D_E_L_E_T_");
  CHECK(c.source.page_size == 5000);
  CHECK(c.source.safety_delay == 2s);
  CHECK(c.source.lookback == 10min);
  CHECK(c.source.utc_offset_minutes == 0);
  CHECK(c.source.line == 3);  // position of source.path
  CHECK(c.state.dir == "state");
  CHECK(c.engine.queue_batches == 4);
  CHECK(c.engine.transformers == 2);
  CHECK(c.engine.drain_timeout == 30s);
  CHECK(c.engine.log_level == "info");
  CHECK(c.metrics.listen.empty());
  REQUIRE(c.targets.size() == 1);
  const target_config& t = c.targets.at("portal");
  CHECK(t.name == "portal");
  CHECK(t.protocol == target_protocol::async_batch);
  CHECK(t.format == payload_format::records);
  CHECK(t.batch_records == 1000);
  CHECK(t.in_flight == 4);
  CHECK(t.auth.kind == auth_kind::none);
  CHECK(t.response.results == "/results");
  CHECK(t.paths.batch == "/services/{service}/batches");
  REQUIRE(c.services.size() == 1);
  const service_config& s = c.services[0];
  CHECK(s.id == 1);
  CHECK(s.key_column == "R_E_C_N_O_");  // defaults to source.recno_column
  CHECK(s.when.k == schedule::kind::interval);
  CHECK(s.when.every == 15min);
  CHECK(s.line == 8);
  CHECK(s.file_index == 0);
  REQUIRE(s.fields.size() == 1);
  CHECK(s.fields[0].type == field_type::string);
  CHECK(s.fields[0].trim);
  CHECK(s.fields[0].nullable);
  CHECK_FALSE(s.fields[0].value.has_value());
  CHECK(s.fields[0].line == 14);
  CHECK(&c.target_of(s) == &t);
  CHECK(c.find_service(1) == &c.services[0]);
  CHECK(c.find_service(2) == nullptr);
}

TEST_CASE("every key is read", "[config]") {
  const std::string text = R"([source]
kind = "sqlite"
path = "erp.db"
stamp_column = "STAMP"
recno_column = "RECNO"
deleted_column = "DEL"
page_size = 20000
safety_delay = "500ms"
lookback = "1h"
timezone = "-03:00"

[state]
dir = "/var/lib/stampede"

[engine]
queue_batches = 8
transformers = 3
drain_timeout = "1m"
log_level = "debug"

[metrics]
listen = "0.0.0.0:9464"

[targets.gov]
base_url = "https://portal.example.gov.br/api/"
protocol = "rest"
format = "envelope"
batch_records = 250
batch_bytes = 1048576
in_flight = 16
connect_timeout = "3s"
request_timeout = "45s"
poll_interval = "1s"
max_attempts = 7
retry_backoff_base = "100ms"
retry_backoff_max = "1m"
idempotency_header = "X-Idem"
idempotency_field = ""

[targets.gov.paths]
batch = "/b/{service}"
batch_status = "/b/{service}/{batch}"
sync = "/s/{service}"
record = "/r/{service}"
record_id = "/r/{service}/{id}"
message = "/m/{service}"

[targets.gov.auth]
kind = "oauth2"
token_url = "https://auth.example/token"
client_id = "stampede"
client_secret = "shh-s3cr3t"
scope = "erp.write"

[targets.gov.response]
results = ""
key_field = ""
id_field = "/uuid"
error_fields = ["/err", "/msg"]

[targets.gov.envelope]
tenant_id = "3550308"
type_create = "{service}.Create"
type_update = "{service}.Update"
type_delete = "{service}.Delete"

[[services]]
id = 20
name = "invoices"
table = "SF2010"
target = "gov"
key_column = "F2_DOC"
schedule = "daily 08:30"

[[services.fields]]
name = "doc"
column = "F2_DOC"

[[services.fields]]
name = "total"
column = "F2_VALBRUT"
type = "decimal"
nullable = false

[[services.fields]]
name = "origin"
value = "erp"
trim = false

[[services]]
id = 3
name = "taxpayers"
table = "SA1010"
target = "gov"
schedule = "every 15m offset 5m"
fields = [ { name = "code", column = "A1_COD", type = "integer" } ]
)";
  config c = parse_config(text, "full.toml");
  CHECK(c.source.path == "erp.db");
  CHECK(c.source.stamp_column == "STAMP");
  CHECK(c.source.recno_column == "RECNO");
  CHECK(c.source.deleted_column == "DEL");
  CHECK(c.source.page_size == 20000);
  CHECK(c.source.safety_delay == 500ms);
  CHECK(c.source.lookback == 1h);
  CHECK(c.source.utc_offset_minutes == -180);
  CHECK(c.state.dir == "/var/lib/stampede");
  CHECK(c.engine.queue_batches == 8);
  CHECK(c.engine.transformers == 3);
  CHECK(c.engine.drain_timeout == 1min);
  CHECK(c.engine.log_level == "debug");
  CHECK(c.metrics.listen == "0.0.0.0:9464");
  const target_config& t = c.targets.at("gov");
  CHECK(t.base_url == "https://portal.example.gov.br/api");  // trailing '/' dropped
  CHECK(t.protocol == target_protocol::rest);
  CHECK(t.format == payload_format::envelope);
  CHECK(t.batch_records == 250);
  CHECK(t.batch_bytes == 1048576);
  CHECK(t.in_flight == 16);
  CHECK(t.connect_timeout == 3s);
  CHECK(t.request_timeout == 45s);
  CHECK(t.poll_interval == 1s);
  CHECK(t.max_attempts == 7);
  CHECK(t.retry_backoff_base == 100ms);
  CHECK(t.retry_backoff_max == 1min);
  CHECK(t.idempotency_header == "X-Idem");
  CHECK(t.idempotency_field.empty());
  CHECK(t.paths.batch == "/b/{service}");
  CHECK(t.paths.batch_status == "/b/{service}/{batch}");
  CHECK(t.paths.sync == "/s/{service}");
  CHECK(t.paths.record == "/r/{service}");
  CHECK(t.paths.record_id == "/r/{service}/{id}");
  CHECK(t.paths.message == "/m/{service}");
  CHECK(t.auth.kind == auth_kind::oauth2);
  CHECK(t.auth.token_url == "https://auth.example/token");
  CHECK(t.auth.client_id == "stampede");
  CHECK(t.auth.client_secret == "shh-s3cr3t");
  CHECK(t.auth.scope == "erp.write");
  CHECK(t.response.results.empty());
  CHECK(t.response.key_field.empty());
  CHECK(t.response.id_field == "/uuid");
  CHECK(t.response.error_fields == std::vector<std::string>{"/err", "/msg"});
  CHECK(t.envelope.tenant_id == "3550308");
  CHECK(t.envelope.type_create == "{service}.Create");
  CHECK(t.envelope.type_update == "{service}.Update");
  CHECK(t.envelope.type_delete == "{service}.Delete");

  REQUIRE(c.services.size() == 2);  // sorted by id
  const service_config& a = c.services[0];
  const service_config& b = c.services[1];
  CHECK(a.id == 3);
  CHECK(a.file_index == 1);
  CHECK(a.key_column == "RECNO");  // default follows source.recno_column
  CHECK(a.when.k == schedule::kind::interval);
  CHECK(a.when.every == 15min);
  CHECK(a.when.offset == 5min);
  REQUIRE(a.fields.size() == 1);
  CHECK(a.fields[0].type == field_type::integer);
  CHECK(a.fields[0].line == pos_of(text, "fields = [ {").line);
  CHECK(b.id == 20);
  CHECK(b.file_index == 0);
  CHECK(b.key_column == "F2_DOC");
  CHECK(b.when.k == schedule::kind::daily);
  CHECK(b.when.daily_minutes == 8 * 60 + 30);
  REQUIRE(b.fields.size() == 3);
  CHECK(b.fields[1].type == field_type::decimal);
  CHECK_FALSE(b.fields[1].nullable);
  CHECK(b.fields[2].value == std::optional<std::string>("erp"));
  CHECK(b.fields[2].column.empty());
  CHECK_FALSE(b.fields[2].trim);
  CHECK(b.line == pos_of(text, "[[services]]\nid = 20").line);
}

TEST_CASE("interpolate_env", "[config][env]") {
  ::setenv("STAMPEDE_T_SET", "value", 1);
  ::setenv("STAMPEDE_T_EMPTY", "", 1);
  ::unsetenv("STAMPEDE_T_UNSET");
  std::string missing;

  CHECK(interpolate_env("plain text", missing) == "plain text");
  CHECK(interpolate_env("${STAMPEDE_T_SET}", missing) == "value");
  CHECK(interpolate_env("Bearer ${STAMPEDE_T_SET}!", missing) == "Bearer value!");
  CHECK(interpolate_env("${STAMPEDE_T_SET}-${STAMPEDE_T_SET}", missing) == "value-value");
  CHECK(interpolate_env("${STAMPEDE_T_UNSET:-dflt}", missing) == "dflt");
  CHECK(interpolate_env("${STAMPEDE_T_UNSET:-}", missing) == "");
  CHECK(interpolate_env("${STAMPEDE_T_SET:-dflt}", missing) == "value");
  CHECK(interpolate_env("${STAMPEDE_T_EMPTY:-dflt}", missing) == "dflt");  // shell semantics
  CHECK(interpolate_env("${STAMPEDE_T_EMPTY}", missing) == "");
  CHECK(interpolate_env("x${STAMPEDE_T_UNSET:-${STAMPEDE_T_SET}}y", missing) == "xvaluey");
  CHECK(interpolate_env("${STAMPEDE_T_UNSET:-a:-b}", missing) == "a:-b");
  CHECK(interpolate_env("cost $$5 and $$${STAMPEDE_T_SET}", missing) == "cost $5 and $value");
  CHECK(interpolate_env("$$${STAMPEDE_T_SET}", missing) == "$value");
  CHECK(interpolate_env("$${NOT_A_VAR}", missing) == "${NOT_A_VAR}");
  CHECK(interpolate_env("price: 5$ $x", missing) == "price: 5$ $x");  // lone $ stays

  CHECK_FALSE(interpolate_env("a ${STAMPEDE_T_UNSET} b", missing).has_value());
  CHECK(missing == "STAMPEDE_T_UNSET");
  CHECK_FALSE(interpolate_env("${STAMPEDE_T_UNSET:-${STAMPEDE_T_UNSET2}}", missing).has_value());
  CHECK(missing == "STAMPEDE_T_UNSET2");

  // malformed: nullopt with `missing` empty
  for (const char* bad : {"${", "${STAMPEDE_T_SET", "${}", "${1X}", "${A-B}", "${ A}"}) {
    INFO(bad);
    CHECK_FALSE(interpolate_env(bad, missing).has_value());
    CHECK(missing.empty());
  }
}

TEST_CASE("interpolation applies to every string before type checks", "[config][env]") {
  ::setenv("STAMPEDE_T_DELAY", "750ms", 1);
  ::setenv("STAMPEDE_T_DB", "/data/erp.db", 1);
  ::setenv("STAMPEDE_T_TOKEN", "abc123", 1);
  ::unsetenv("STAMPEDE_T_UNSET");
  std::string text = edit(base_config, "path = \"demo.db\"",
                          "path = \"${STAMPEDE_T_DB}\"\nsafety_delay = \"${STAMPEDE_T_DELAY}\"\n"
                          "lookback = \"${STAMPEDE_T_UNSET:-5m}\"");
  text = edit(text, "base_url = \"http://127.0.0.1:8787\"",
              "base_url = \"${STAMPEDE_T_UNSET:-http://localhost:9000}\"\n"
              "protocol = \"${STAMPEDE_T_UNSET:-sync_batch}\"\n"
              "[targets.portal.auth]\nkind = \"static\"\nvalue = \"Bearer ${STAMPEDE_T_TOKEN}\"");
  text = edit(text, "name = \"code\"", "name = \"cost_$$\"");
  config c = parse_config(text, "env.toml");
  CHECK(c.source.path == "/data/erp.db");
  CHECK(c.source.safety_delay == 750ms);
  CHECK(c.source.lookback == 5min);
  const auto& t = c.targets.at("portal");
  CHECK(t.base_url == "http://localhost:9000");
  CHECK(t.protocol == target_protocol::sync_batch);
  CHECK(t.auth.kind == auth_kind::static_key);
  CHECK(t.auth.value == "Bearer abc123");
  CHECK(c.services[0].fields[0].name == "cost_$");
}

TEST_CASE("parse_duration", "[config][duration]") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("0s") == 0ms);
  CHECK(parse_duration("2s") == 2s);
  CHECK(parse_duration("15m") == 15min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("1d") == 24h);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1m500ms") == 60500ms);
  for (const char* bad : {"", "5", "s", "1.5s", "-1s", "5 s", " 5s", "5x", "5sec", "1w", "ms",
                          "99999999999999999999s", "9223372036854775807d"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("parse_schedule", "[config][schedule]") {
  auto a = parse_schedule("always");
  REQUIRE(a);
  CHECK(a->k == schedule::kind::always);

  auto e = parse_schedule("every 15m");
  REQUIRE(e);
  CHECK(e->k == schedule::kind::interval);
  CHECK(e->every == 15min);
  CHECK(e->offset == 0ms);

  auto o = parse_schedule("  every 1h   offset 10m ");
  REQUIRE(o);
  CHECK(o->every == 1h);
  CHECK(o->offset == 10min);

  auto d = parse_schedule("daily 08:00");
  REQUIRE(d);
  CHECK(d->k == schedule::kind::daily);
  CHECK(d->daily_minutes == 480);
  CHECK(parse_schedule("daily 23:59")->daily_minutes == 23 * 60 + 59);
  CHECK(parse_schedule("daily 00:00")->daily_minutes == 0);

  for (const char* bad : {"", "sometimes", "every", "every 0s", "every 15", "every 15 minutes",
                          "every 15m offset", "every 15m offset 15m", "every 15m offset 20m",
                          "every 15m after 5m", "daily", "daily 8:00", "daily 24:00",
                          "daily 12:60", "daily 12h", "always now"}) {
    INFO(bad);
    CHECK_FALSE(parse_schedule(bad).has_value());
  }
}

TEST_CASE("parse_utc_offset", "[config][timezone]") {
  CHECK(parse_utc_offset("UTC") == 0);
  CHECK(parse_utc_offset("Z") == 0);
  CHECK(parse_utc_offset("+00:00") == 0);
  CHECK(parse_utc_offset("-03:00") == -180);
  CHECK(parse_utc_offset("+05:30") == 330);
  CHECK(parse_utc_offset("+14:00") == 840);
  for (const char* bad : {"", "America/Sao_Paulo", "-3", "-03", "-0300", "+15:00", "+01:60",
                          "GMT", "03:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_utc_offset(bad).has_value());
  }
}

TEST_CASE("closest_name suggests plausible typos only", "[config]") {
  std::vector<std::string> keys{"page_size", "path", "lookback", "safety_delay"};
  CHECK(closest_name("pagesize", keys) == "page_size");
  CHECK(closest_name("PAGE_SIZE", keys) == "page_size");
  CHECK(closest_name("lokback", keys) == "lookback");
  CHECK(closest_name("pth", keys) == "path");
  CHECK(closest_name("completely_else", keys).empty());
  CHECK(closest_name("x", {}).empty());
}

TEST_CASE("diagnostic to_string format", "[config]") {
  config_diagnostic d{"c.toml", 3, 7, "source.page_size", "0 is out of range", "use 1..1000000"};
  CHECK(d.to_string() == "c.toml:3:7: source.page_size: 0 is out of range (use 1..1000000)");
  d.column = 0;
  CHECK(d.to_string() == "c.toml:3: source.page_size: 0 is out of range (use 1..1000000)");
  d.line = 0;
  d.hint.clear();
  CHECK(d.to_string() == "c.toml: source.page_size: 0 is out of range");
  d.key_path.clear();
  CHECK(d.to_string() == "c.toml: 0 is out of range");
  config_error e({d, d});
  CHECK(std::string(e.what()) == "c.toml: 0 is out of range\nc.toml: 0 is out of range");
  CHECK(e.diagnostics.size() == 2);
}

TEST_CASE("load_config reads a file", "[config]") {
  temp_dir dir;
  std::string path = dir.file("ok.toml");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(base_config.data(), 1, base_config.size(), f);
    std::fclose(f);
  }
  config c = load_config(path);
  CHECK(c.file == path);
  CHECK(c.services.size() == 1);
}

TEST_CASE("examples/demo.toml parses", "[config][demo]") {
  std::string path = std::string(STAMPEDE_SOURCE_DIR) + "/examples/demo.toml";
  if (!std::filesystem::exists(path)) {
    WARN("examples/demo.toml is absent; skipping");
    return;
  }
  try {
    config c = load_config(path);
    CHECK_FALSE(c.services.empty());
    CHECK_FALSE(c.targets.empty());
    for (std::size_t i = 0; i < c.services.size(); ++i) {
      if (i > 0) CHECK(c.services[i - 1].id < c.services[i].id);
      CHECK_NOTHROW(c.target_of(c.services[i]));
      CHECK(c.services[i].line > 0);
    }
  } catch (const config_error& e) {
    FAIL(e.what());
  }
}

TEST_CASE("a postgres source takes its dsn from the environment and points at the dsn line",
          "[config]") {
  ::setenv("STAMPEDE_TEST_PG_PASSWORD", "pg-secret-77", 1);
  config c = parse_config(edit(base_config, "kind = \"sqlite\"\npath = \"demo.db\"",
                               "kind = \"postgres\"\n\ndsn = \"host=db dbname=erp user=u "
                               "password=${STAMPEDE_TEST_PG_PASSWORD}\""),
                          "test.toml");
  ::unsetenv("STAMPEDE_TEST_PG_PASSWORD");
  CHECK(c.source.kind == source_kind::postgres);
  CHECK(c.source.dsn == "host=db dbname=erp user=u password=pg-secret-77");
  CHECK(c.source.path.empty());
  CHECK(c.source.line == 4);  // position of source.dsn, not [source]
}
