// Every validation error kind, with the exact position it reports.
#include "helpers.hpp"

#include <cstdlib>
#include <filesystem>

using namespace stampede;
using namespace stampede::test;

TEST_CASE("malformed TOML reports the parser's position", "[config][errors]") {
  std::string text = with_source_key("page_size = = 3");
  auto ds = errors_of(text);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].line == pos_of(text, "page_size = = 3").line);
  CHECK(ds[0].column > 0);
  CHECK_THAT(ds[0].message, Catch::StartsWith("malformed TOML"));

  text = "[source\npath = \"x\"\n";
  ds = errors_of(text);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].line == 1);
}

TEST_CASE("unknown key suggests the closest valid key", "[config][errors]") {
  expect_error(with_source_key("pagesize = 10"), "source.pagesize", "pagesize",
               "unknown key `pagesize`", "did you mean `page_size`?");
  expect_error(with_service_key("shedule = \"always\""), "services[0].shedule", "shedule",
               "unknown key", "did you mean `schedule`?");
  expect_error(with_field_key("nulable = false"), "services[0].fields[0].nulable", "nulable",
               "unknown key", "did you mean `nullable`?");
  expect_error(base_config + "[egnine]\n", "egnine", "egnine]", "unknown key",
               "did you mean `engine`?");
  // no plausible typo: list the valid keys
  expect_error(with_target_key("frobnicate = 1"), "targets.portal.frobnicate", "frobnicate",
               "unknown key", "valid keys here: base_url");
}

TEST_CASE("wrong types", "[config][errors]") {
  expect_error(with_source_key("page_size = \"10\""), "source.page_size", "\"10\"",
               "expected an integer, found a string");
  expect_error(with_source_key("page_size = 10.5"), "source.page_size", "10.5",
               "expected an integer, found a float");
  expect_error(with_field_key("trim = \"yes\""), "services[0].fields[0].trim", "\"yes\"",
               "expected a boolean");
  expect_error(with_source_key("safety_delay = 2"), "source.safety_delay", "2\n\n[targets",
               "expected a duration string", "\"2s\"");
  auto ds = errors_of(base_config + "[state]\ndir = 5\n");
  CHECK(diag_for(ds, "state.dir").message == "expected a string, found an integer");
  ds = errors_of(edit(base_config, "[source]\n", "source = 3\n[x]\n"));
  CHECK_THAT(diag_for(ds, "source").message, Catch::Contains("expected a table"));
}

TEST_CASE("bad enum values list the allowed ones", "[config][errors]") {
  expect_error(with_target_key("protocol = \"soap\""), "targets.portal.protocol", "\"soap\"",
               "unknown value \"soap\"; expected one of \"async_batch\", \"sync_batch\", \"rest\"");
  expect_error(with_target_key("format = \"envelop\""), "targets.portal.format", "\"envelop\"",
               "\"records\", \"envelope\"", "did you mean \"envelope\"?");
  expect_error(edit(base_config, "kind = \"sqlite\"", "kind = \"oracle\""), "source.kind",
               "\"oracle\"", "expected one of \"sqlite\", \"postgres\"");
  expect_error(base_config + "[engine]\nlog_level = \"verbose\"\n", "engine.log_level",
               "\"verbose\"", "\"trace\", \"debug\", \"info\", \"warn\", \"error\"");
  expect_error(with_target_key("[targets.portal.auth]\nkind = \"basic\""),
               "targets.portal.auth.kind", "\"basic\"", "\"none\", \"static\", \"oauth2\"");
}

TEST_CASE("unknown field type", "[config][errors]") {
  expect_error(with_field_key("type = \"money\""), "services[0].fields[0].type", "\"money\"",
               "unknown value \"money\"; expected one of \"string\", \"integer\", \"decimal\", "
               "\"date\", \"datetime\", \"boolean\"");
}

TEST_CASE("bad durations", "[config][errors]") {
  expect_error(with_source_key("safety_delay = \"2 seconds\""), "source.safety_delay",
               "\"2 seconds\"", "\"2 seconds\" is not a duration", "500ms, 2s, 15m, 1h, 1d");
  expect_error(with_target_key("request_timeout = \"0s\""), "targets.portal.request_timeout",
               "\"0s\"", "too short");
  expect_error(base_config + "[engine]\ndrain_timeout = \"30\"\n", "engine.drain_timeout",
               "\"30\"", "is not a duration");
}

TEST_CASE("bad schedules", "[config][errors]") {
  expect_error(with_service_key("schedule = \"every 15 minutes\""), "services[0].schedule",
               "\"every 15 minutes\"", "\"every 15 minutes\" is not a schedule",
               "\"daily 08:00\"");
  expect_error(with_service_key("schedule = \"daily 25:00\""), "services[0].schedule",
               "\"daily 25:00\"", "is not a schedule");
}

TEST_CASE("bad time zone", "[config][errors]") {
  expect_error(with_source_key("timezone = \"America/Sao_Paulo\""), "source.timezone",
               "\"America/Sao_Paulo\"", "not a supported time zone", "-03:00");
}

TEST_CASE("missing required keys", "[config][errors]") {
  // source.path: at the [source] table
  std::string text = edit(base_config, "path = \"demo.db\"\n", "");
  expect_error(text, "source.path", "[source]", "missing required key", "path = ");
  // no [source] at all: no position
  text = edit(base_config, "[source]\nkind = \"sqlite\"\npath = \"demo.db\"\n", "");
  auto ds = errors_of(text);
  CHECK(diag_for(ds, "source.path").line == 0);
  CHECK(diag_for(ds, "source.path").to_string().rfind("test.toml: source.path: missing", 0) == 0);
  // given but empty
  ::unsetenv("STAMPEDE_T_UNSET_DB");
  text = edit(base_config, "path = \"demo.db\"", "path = \"${STAMPEDE_T_UNSET_DB:-}\"");
  expect_error(text, "source.path", "\"${", "must not be empty");
  // postgres needs a dsn
  text = edit(base_config, "kind = \"sqlite\"\npath = \"demo.db\"", "kind = \"postgres\"");
  expect_error(text, "source.dsn", "[source]", "missing required key");

  // service keys: at the [[services]] table
  for (const char* key : {"id = 1\n", "name = \"taxpayers\"\n", "table = \"SA1010\"\n",
                          "target = \"portal\"\n"}) {
    INFO(key);
    std::string k(key);
    text = edit(base_config, k, "");
    std::string path = "services[0]." + k.substr(0, k.find(' '));
    expect_error(text, path, "[[services]]", "missing required key");
  }
  // target base_url
  text = edit(base_config, "base_url = \"http://127.0.0.1:8787\"\n", "");
  expect_error(text, "targets.portal.base_url", "[targets.portal]", "missing required key");
  // field name; field column-or-value: at the [[services.fields]] table
  text = edit(base_config, "name = \"code\"\n", "");
  expect_error(text, "services[0].fields[0].name", "[[services.fields]]", "missing required key");
  text = edit(base_config, "column = \"A1_COD\"\n", "");
  expect_error(text, "services[0].fields[0].column", "[[services.fields]]",
               "`column` (or a constant `value`)");
  // both column and value
  expect_error(with_field_key("value = \"x\""), "services[0].fields[0].value", "\"x\"",
               "not both");
  // a service without fields
  text = edit(base_config, "[[services.fields]]\nname = \"code\"\ncolumn = \"A1_COD\"\n", "");
  expect_error(text, "services[0].fields", "[[services]]", "at least one field");
}

TEST_CASE("duplicate service id and name", "[config][errors]") {
  std::string text = base_config +
                     "\n[[services]]\nid = 1\nname = \"other\"\ntable = \"SB1010\"\n"
                     "target = \"portal\"\nfields = [{ name = \"a\", column = \"B1_COD\" }]\n"
                     "\n[[services]]\nid = 2\nname = \"other\"\ntable = \"SB1010\"\n"
                     "target = \"portal\"\nfields = [{ name = \"a\", column = \"B1_COD\" }]\n";
  auto ds = errors_of(text);
  auto d = diag_for(ds, "services[1].id");
  CHECK(d.line == pos_of(text, "id = 1\nname = \"other\"").line);
  CHECK_THAT(d.message, Catch::Contains("duplicate service id 1 (also used by services[0])"));
  d = diag_for(ds, "services[2].name");
  CHECK(d.line == pos_of(text, "name = \"other\"", 2).line);
  CHECK_THAT(d.message, Catch::Contains("duplicate service name \"other\""));
  // duplicate field names within a service
  text = with_field_key("[[services.fields]]\nname = \"code\"\ncolumn = \"A1_NOME\"");
  expect_error(text, "services[0].fields[1].name", "\"code\"\ncolumn = \"A1_NOME\"",
               "duplicate field name");
}

TEST_CASE("service target must be defined", "[config][errors]") {
  expect_error(edit(base_config, "target = \"portal\"", "target = \"portl\""),
               "services[0].target", "\"portl\"", "target \"portl\" is not defined",
               "did you mean \"portal\"?");
  expect_error(edit(base_config, "target = \"portal\"", "target = \"elsewhere\""),
               "services[0].target", "\"elsewhere\"", "not defined", "defined targets: portal");
}

TEST_CASE("out-of-range numbers", "[config][errors]") {
  expect_error(with_source_key("page_size = 0"), "source.page_size", "0\n",
               "0 is out of range; expected 1..1000000");
  expect_error(with_source_key("page_size = 1000001"), "source.page_size", "1000001",
               "out of range");
  expect_error(base_config + "[engine]\nqueue_batches = 0\n", "engine.queue_batches", "0\n",
               "out of range");
  expect_error(with_target_key("in_flight = 0"), "targets.portal.in_flight", "0\n",
               "out of range");
  expect_error(with_target_key("batch_records = 0"), "targets.portal.batch_records", "0\n",
               "out of range");
  expect_error(with_target_key("batch_bytes = -5"), "targets.portal.batch_bytes", "-5",
               "-5 is out of range; expected at least 1");
  expect_error(edit(base_config, "id = 1", "id = 70000"), "services[0].id", "70000",
               "expected 1..65535");
  expect_error(edit(base_config, "id = 1", "id = 0"), "services[0].id", "0\n", "out of range");
}

TEST_CASE("base_url must be http(s)", "[config][errors]") {
  expect_error(edit(base_config, "http://127.0.0.1:8787", "ftp://127.0.0.1"),
               "targets.portal.base_url", "\"ftp://", "is not an http:// or https:// URL");
  expect_error(edit(base_config, "http://127.0.0.1:8787", "127.0.0.1:8787"),
               "targets.portal.base_url", "\"127.0.0.1", "not an http");
  expect_error(edit(base_config, "http://127.0.0.1:8787", "http://"), "targets.portal.base_url",
               "\"http://\"", "not an http");
}

TEST_CASE("auth requirements", "[config][errors]") {
  std::string text = with_target_key("[targets.portal.auth]\nkind = \"static\"");
  expect_error(text, "targets.portal.auth.value", "[targets.portal.auth]", "missing required key",
               "value = ");
  text = with_target_key("[targets.portal.auth]\nkind = \"oauth2\"\nclient_id = \"me\"");
  auto ds = errors_of(text);
  pos p = pos_of(text, "[targets.portal.auth]");
  for (const char* k : {"targets.portal.auth.token_url", "targets.portal.auth.client_secret"}) {
    auto d = diag_for(ds, k);
    CHECK(d.line == p.line);
    CHECK_THAT(d.message, Catch::Contains("for kind = \"oauth2\""));
  }
  for (const auto& d : ds) CHECK(d.key_path != "targets.portal.auth.client_id");
  text = with_target_key("[targets.portal.auth]\nkind = \"oauth2\"");
  ds = errors_of(text);
  CHECK(ds.size() == 3);
}

TEST_CASE("secrets never appear in diagnostics", "[config][errors][secrets]") {
  ::setenv("STAMPEDE_T_SECRET", "s3cr3t-Value", 1);
  const std::string secret = "s3cr3t-Value";
  // value set while kind = "none"
  std::string text = with_target_key("[targets.portal.auth]\nvalue = \"Bearer ${STAMPEDE_T_SECRET}\"");
  auto ds = errors_of(text);
  auto d = diag_for(ds, "targets.portal.auth.kind");
  CHECK_THAT(d.message, Catch::Contains("<redacted>"));
  // a literal secret with a line break in a static header value
  text = with_target_key(
      "[targets.portal.auth]\nkind = \"static\"\nvalue = \"s3cr3t-Value\\nX-Evil: 1\"\n"
      "client_secret = \"s3cr3t-Value\"\nbogus = 1");
  try {
    parse_config(text, "test.toml");
    FAIL("should not parse");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()).find(secret) == std::string::npos);
    bool redacted = false;
    for (const auto& x : e.diagnostics) {
      CHECK(x.to_string().find(secret) == std::string::npos);
      redacted = redacted || x.message.find("<redacted>") != std::string::npos;
    }
    CHECK(redacted);
    diag_for(e.diagnostics, "targets.portal.auth.value");
  }
}

TEST_CASE("missing environment variable", "[config][errors][env]") {
  ::unsetenv("STAMPEDE_T_NOPE");
  std::string text = edit(base_config, "path = \"demo.db\"", "path = \"${STAMPEDE_T_NOPE}\"");
  expect_error(text, "source.path", "\"${STAMPEDE_T_NOPE}\"",
               "environment variable `STAMPEDE_T_NOPE` is not set",
               "export STAMPEDE_T_NOPE=… or give a default with ${STAMPEDE_T_NOPE:-…}");
  // reported once: not also as "missing required key"
  CHECK(errors_of(text).size() == 1);
  text = with_source_key("safety_delay = \"${STAMPEDE_T_NOPE}\"");
  expect_error(text, "source.safety_delay", "\"${STAMPEDE_T_NOPE}\"", "is not set");
  text = with_source_key("lookback = \"${STAMPEDE_T_NOPE\"");
  expect_error(text, "source.lookback", "\"${STAMPEDE_T_NOPE\"", "malformed ${...} reference");
}

TEST_CASE("unsafe identifiers are rejected", "[config][errors]") {
  expect_error(edit(base_config, "table = \"SA1010\"", "table = \"SA1010; DROP\""),
               "services[0].table", "\"SA1010; DROP\"", "not a plain SQL identifier");
  expect_error(edit(base_config, "column = \"A1_COD\"", "column = \"A1\\\"COD\""),
               "services[0].fields[0].column", "\"A1", "not a plain SQL identifier");
}

TEST_CASE("all problems are collected, in file order", "[config][errors]") {
  std::string text = R"([source]
path = "demo.db"
page_size = 0
lookback = "forever"

[targets.portal]
base_url = "http://x"
protocol = "soap"

[[services]]
id = 1
name = "a"
table = "T"
target = "nowhere"
fields = [{ name = "f" }]
)";
  auto ds = errors_of(text);
  REQUIRE(ds.size() == 5);
  CHECK(ds[0].key_path == "source.page_size");
  CHECK(ds[0].line == 3);
  CHECK(ds[1].key_path == "source.lookback");
  CHECK(ds[1].line == 4);
  CHECK(ds[2].key_path == "targets.portal.protocol");
  CHECK(ds[2].line == 8);
  CHECK(ds[3].key_path == "services[0].target");
  CHECK(ds[3].line == 14);
  CHECK(ds[4].key_path == "services[0].fields[0].column");
  CHECK(ds[4].line == 15);
}

TEST_CASE("broken config files under tests/data/config", "[config][errors]") {
  const std::string dir = std::string(STAMPEDE_SOURCE_DIR) + "/tests/data/config/";
  SECTION("malformed") {
    try {
      load_config(dir + "malformed.toml");
      FAIL("should not load");
    } catch (const config_error& e) {
      REQUIRE(e.diagnostics.size() == 1);
      CHECK(e.diagnostics[0].file == dir + "malformed.toml");
      CHECK(e.diagnostics[0].line == 6);
    }
  }
  SECTION("many problems") {
    try {
      load_config(dir + "many_errors.toml");
      FAIL("should not load");
    } catch (const config_error& e) {
      std::vector<std::pair<std::string, int>> got;
      for (const auto& d : e.diagnostics) got.emplace_back(d.key_path, d.line);
      std::vector<std::pair<std::string, int>> want{
          {"source.safety_delay", 4},
          {"engine.queue_batches", 7},
          {"targets.portal.batch_sise", 11},
          {"targets.portal.auth.client_id", 12},
          {"services[0].schedule", 22},
          {"services[0].fields[0].type", 27},
          {"services[1].id", 30},
      };
      CHECK(got == want);
    }
  }
}

TEST_CASE("unreadable config file names the file and the OS error", "[config][errors]") {
  temp_dir dir;
  std::string path = dir.file("absent.toml");
  try {
    load_config(path);
    FAIL("should not load");
  } catch (const config_error& e) {
    REQUIRE(e.diagnostics.size() == 1);
    CHECK(e.diagnostics[0].file == path);
    CHECK_THAT(e.diagnostics[0].message, Catch::Contains("No such file or directory"));
    CHECK_THAT(std::string(e.what()), Catch::StartsWith(path + ": cannot read config file"));
  }
  try {
    load_config(dir.path.string());
    FAIL("should not load");
  } catch (const config_error& e) {
    CHECK_THAT(e.diagnostics[0].message, Catch::Contains("directory"));
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("metrics.listen must be host:port, and port 0 picks a free port", "[config][errors]") {
  for (auto bad : {"9464", "localhost", ":9464", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:94x4"}) {
    INFO(bad);
    expect_error(base_config + "[metrics]\nlisten = \"" + bad + "\"\n", "metrics.listen",
                 std::string("\"") + bad + "\"", "is not host:port", "\"\" to disable");
  }
  CHECK(parse_config(base_config + "[metrics]\nlisten = \"127.0.0.1:0\"\n", "t.toml").metrics.listen ==
        "127.0.0.1:0");
  CHECK(parse_config(base_config + "[metrics]\nlisten = \"\"\n", "t.toml").metrics.listen.empty());
}

TEST_CASE("delivery keys: resend backoff, attempts, resend_schedule and [journal] reject bad values",
          "[config][resend]") {
  expect_error(with_target_key("max_attempts = -1"), "targets.portal.max_attempts", "-1", "");
  expect_error(with_target_key("request_attempts = 0 "), "targets.portal.request_attempts", "0 ",
               "out of range");
  {
    // No resend_backoff_max key: the problem points at the target's table.
    auto d = diag_for(errors_of(with_target_key("resend_backoff = \"2h\"")),
                      "targets.portal.resend_backoff_max");
    CHECK_THAT(d.message, Catch::Contains("shorter than resend_backoff"));
    CHECK_THAT(d.hint, Catch::Contains("resend_backoff_max >= resend_backoff"));
  }
  expect_error(edit(base_config, "target = \"portal\"", "target = \"portal\"\nresend_schedule = \"always\""),
               "services[0].resend_schedule", "\"always\"", "not a resend schedule", "every 1h");
  expect_error(base_config + "\n[journal]\npayloads = \"some\"\n", "journal.payloads", "\"some\"", "");
  expect_error(base_config + "\n[journal]\nmax_items = 0\n", "journal.max_items", "0\n", "");
  expect_error(base_config + "\n[journal]\nkeep = 1\n", "journal.keep", "keep", "");
  // ...and accept good ones.
  auto c = parse_config(edit(base_config, "target = \"portal\"",
                             "target = \"portal\"\nresend_schedule = \"every 1h\"") +
                          "\n[journal]\npayloads = \"all\"\nmax_items = 3\n",
                        "test.toml");
  CHECK(c.services[0].resend_when.has_value());
  CHECK(c.journal.payloads == journal_payloads::all);
  CHECK(c.journal.max_items == 3);
  CHECK(c.targets.at("portal").response.keep_success_answers);
}
