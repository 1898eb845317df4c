// Hostile and careless configuration input (issue 11): deep ${} nesting,
// deep dotted keys, config paths that are not regular files, huge files,
// durations beyond their sane range, empty secrets. Each one failed before
// its fix (crash, hang, overflow or silent acceptance).
#include "helpers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

using namespace stampede;
using namespace stampede::test;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// load_config(path) in a child process: it must throw config_error within
// `seconds` with a message containing `msg`. A hang (FIFO) or an endless
// read (/dev/zero) fails the test instead of stalling or exhausting memory.
void refused_quickly(const std::string& path, const std::string& msg, int seconds = 5) {
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string out = "loaded";
    try {
      load_config(path);
    } catch (const config_error& e) {
      out = e.what();
    } catch (const std::exception& e) {
      out = std::string("other exception: ") + e.what();
    }
    (void)!::write(pipefd[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int st = 0;
  bool done = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      done = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
  }
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  INFO(path << ": " << got);
  REQUIRE(done);  // no hang
  CHECK_THAT(got, Catch::Contains(path + ": cannot read config file"));
  CHECK_THAT(got, Catch::Contains(msg));
}

} // namespace

TEST_CASE("${} nested 40k deep is a clear error, not a stack overflow", "[config][hostile]") {
  ::unsetenv("X");
  const std::string deep = repeat("${X:-", 40000) + "demo.db" + repeat("}", 40000);
  std::string text = edit(base_config, "path = \"demo.db\"", "path = \"" + deep + "\"");
  expect_error(text, "source.path", "\"${X:-", "nested deeper than 16 levels",
               "nested at most 16 levels");
  // The bound itself: 16 levels are fine, 17 are not.
  CHECK(interpolate(repeat("${X:-", 16) + "v" + repeat("}", 16)).value == "v");
  auto r = interpolate(repeat("${X:-", 17) + "v" + repeat("}", 17));
  CHECK_FALSE(r.value);
  CHECK_THAT(r.problem, Catch::Contains("nested deeper than 16 levels"));
}

TEST_CASE("${} expansions are bounded in size", "[config][hostile]") {
  ::setenv("STAMPEDE_T_KB", std::string(1024, 'k').c_str(), 1);
  auto r = interpolate(repeat("${STAMPEDE_T_KB}", 1025));
  CHECK_FALSE(r.value);
  CHECK_THAT(r.problem, Catch::Contains("longer than 1 MiB"));
  CHECK(interpolate(repeat("${STAMPEDE_T_KB}", 1000)).value->size() == 1000 * 1024);
}

TEST_CASE("a dotted key with 50k parts is a clear error, not a stack overflow",
          "[config][hostile]") {
  for (const std::string& line :
       {"a" + repeat(".a", 50000) + " = 1", "[" + repeat("a.", 50000) + "a]",
        "x = " + repeat("{a.a.a = ", 200) + "1" + repeat("}", 200)}) {
    std::string text = base_config + line + "\n";
    auto ds = errors_of(text);
    REQUIRE(ds.size() == 1);
    INFO(ds[0].to_string());
    CHECK(ds[0].line == pos_of(text, line).line);
    CHECK_THAT(ds[0].message,
               Catch::Contains("more than 64 parts") || Catch::Contains("more than 128 levels"));
  }
  // 64 parts still parse (and are then an unknown key, as any other).
  auto ds = errors_of(base_config + "[a" + repeat(".a", 63) + "]\n");
  REQUIRE(ds.size() == 1);
  CHECK_THAT(ds[0].message, Catch::Contains("unknown key"));
  // Dots inside strings and comments are not key parts.
  std::string text = edit(base_config, "path = \"demo.db\"",
                          "path = \"" + repeat("d.", 500) + "db\" # " + repeat(".", 500));
  CHECK(parse_config(text, "test.toml").source.path == repeat("d.", 500) + "db");
}

TEST_CASE("a FIFO, a device or a huge file as the config path is refused at once",
          "[config][hostile]") {
  temp_dir dir;
  const std::string fifo = dir.file("config.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  refused_quickly(fifo, "not a regular file");
  refused_quickly("/dev/zero", "not a regular file");
  const std::string big = dir.file("big.toml");
  {
    std::ofstream out(big);
    out << base_config << "# " << std::string(max_config_bytes, 'x') << "\n";
  }
  refused_quickly(big, "larger than 4 MiB");
  // A symlink to a regular file is a regular file.
  const std::string real = dir.file("real.toml");
  std::ofstream(real) << base_config;
  const std::string link = dir.file("link.toml");
  REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
  CHECK(load_config(link).services.size() == 1);
}

TEST_CASE("durations are bounded to sane ranges, the error names the range", "[config][hostile]") {
  // 106751991167d is just inside int64 milliseconds: it used to pass and
  // overflow later in stamp arithmetic.
  expect_error(with_source_key("lookback = \"106751991167d\""), "source.lookback",
               "\"106751991167d\"", "\"106751991167d\" is out of range; expected 0ms..366d",
               "use a duration from 0ms to 366d");
  expect_error(with_source_key("lookback = \"99999999999999999999999d\""), "source.lookback",
               "\"9999", "is out of range");
  expect_error(with_source_key("safety_delay = \"2d\""), "source.safety_delay", "\"2d\"",
               "expected 0ms..1d");
  expect_error(with_target_key("request_timeout = \"2d\""), "targets.portal.request_timeout",
               "\"2d\"", "expected 1ms..1d");
  expect_error(with_target_key("connect_timeout = \"61m\""), "targets.portal.connect_timeout",
               "\"61m\"", "expected 1ms..1h");
  expect_error(with_target_key("resend_backoff_max = \"31d\""),
               "targets.portal.resend_backoff_max", "\"31d\"", "expected 0ms..30d");
  expect_error(base_config + "[engine]\ndrain_timeout = \"25h\"\n", "engine.drain_timeout",
               "\"25h\"", "expected 0ms..1d");
  // The upper ends themselves are accepted.
  auto c = parse_config(with_source_key("lookback = \"366d\"\nsafety_delay = \"1d\""), "t.toml");
  CHECK(c.source.lookback == std::chrono::hours(366 * 24));
  // Parsers outside the config (log --since) are bounded too.
  CHECK_FALSE(parse_duration("106751991167d"));
  CHECK(parse_duration("36500d") == max_duration);
  CHECK_FALSE(parse_duration("36500d1ms"));
  duration d{0};
  CHECK(parse_duration("106751991167d", d) == duration_syntax::too_long);
  CHECK(parse_duration("106751991167x", d) == duration_syntax::malformed);
  CHECK(format_duration(std::chrono::hours(366 * 24)) == "366d");
  CHECK(format_duration(duration{1500}) == "1500ms");
}

TEST_CASE("an empty secret variable is an error, its value never shown", "[config][hostile]") {
  ::setenv("STAMPEDE_T_EMPTY_SECRET", "", 1);
  ::setenv("STAMPEDE_T_SECRET", "s3cr3t-Value", 1);
  // static: "Bearer " with nothing after it used to pass
  std::string text = with_target_key(
      "[targets.portal.auth]\nkind = \"static\"\nvalue = \"Bearer ${STAMPEDE_T_EMPTY_SECRET}\"");
  expect_error(text, "targets.portal.auth.value", "\"Bearer",
               "environment variable `STAMPEDE_T_EMPTY_SECRET` is empty",
               "export STAMPEDE_T_EMPTY_SECRET");
  CHECK(errors_of(text).size() == 1);
  // an empty default counts as empty
  ::unsetenv("STAMPEDE_T_UNSET");
  expect_error(with_target_key("[targets.portal.auth]\nkind = \"static\"\n"
                               "value = \"Bearer ${STAMPEDE_T_UNSET:-}\""),
               "targets.portal.auth.value", "\"Bearer", "`STAMPEDE_T_UNSET` is empty");
  // oauth2: client_secret and client_id
  const std::string oauth =
      "[targets.portal.auth]\nkind = \"oauth2\"\ntoken_url = \"https://id.example/token\"\n";
  expect_error(with_target_key(oauth + "client_id = \"me\"\n"
                                       "client_secret = \"${STAMPEDE_T_EMPTY_SECRET}\""),
               "targets.portal.auth.client_secret", "\"${STAMPEDE_T_EMPTY_SECRET}\"",
               "`STAMPEDE_T_EMPTY_SECRET` is empty");
  expect_error(with_target_key(oauth + "client_id = \"\"\nclient_secret = \"${STAMPEDE_T_SECRET}\""),
               "targets.portal.auth.client_id", "\"\"\nclient_secret", "must not be empty");
  expect_error(with_target_key(oauth + "client_id = \"me\"\nclient_secret = \"\""),
               "targets.portal.auth.client_secret", "\"\"", "must not be empty");
  // too short to be redacted (pipeline/redact.hpp): refused
  expect_error(with_target_key("[targets.portal.auth]\nkind = \"static\"\nvalue = \"abc\""),
               "targets.portal.auth.value", "\"abc\"", "shorter than 4 characters");
  // a non-empty variable passes
  auto c = parse_config(with_target_key(oauth + "client_id = \"me\"\n"
                                                "client_secret = \"${STAMPEDE_T_SECRET}\""),
                        "t.toml");
  CHECK(c.targets.at("portal").auth.client_secret == "s3cr3t-Value");
}

TEST_CASE("max_record_bytes and max_response_bytes: defaults and ranges", "[config][limits]") {
  auto c = parse_config(base_config, "t.toml");
  CHECK(c.targets.at("portal").max_record_bytes == 4u << 20);
  CHECK(c.targets.at("portal").max_response_bytes == 16u << 20);
  c = parse_config(with_target_key("max_record_bytes = 33554432\nmax_response_bytes = 2048"), "t");
  CHECK(c.targets.at("portal").max_record_bytes == 32u << 20);
  CHECK(c.targets.at("portal").max_response_bytes == 2048);
  expect_error(with_target_key("max_response_bytes = 10"), "targets.portal.max_response_bytes",
               "10", "out of range; expected 1024..1073741824");
  expect_error(with_target_key("max_record_bytes = 2147483648"), "targets.portal.max_record_bytes",
               "2147483648", "out of range");
}

TEST_CASE("tls.ca_file and tls.ca_dir must exist, check warns about credentials over plain http",
          "[config][tls]") {
  temp_dir dir;
  const std::string ca = dir.file("ca.pem");
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n";
  auto c = parse_config(with_target_key("[targets.portal.tls]\nca_file = \"" + ca +
                                        "\"\nca_dir = \"" + dir.path.string() + "\""),
                        "t.toml");
  CHECK(c.targets.at("portal").tls.ca_file == ca);
  CHECK(c.targets.at("portal").tls.ca_dir == dir.path.string());
  expect_error(with_target_key("[targets.portal.tls]\nca_file = \"/nonexistent/ca.pem\""),
               "targets.portal.tls.ca_file", "\"/nonexistent", "is not a readable file");
  expect_error(with_target_key("[targets.portal.tls]\nca_dir = \"" + ca + "\""),
               "targets.portal.tls.ca_dir", "\"" + ca, "is not a directory", "openssl rehash");
  expect_error(with_target_key("[targets.portal.tls]\ncafile = \"x\""), "targets.portal.tls.cafile",
               "cafile", "unknown key", "ca_file");

  // Warnings: credentials over plain http:// to a non-loopback host.
  ::setenv("STAMPEDE_T_SECRET", "s3cr3t-Value", 1);
  const std::string static_auth =
      "[targets.portal.auth]\nkind = \"static\"\nvalue = \"Bearer ${STAMPEDE_T_SECRET}\"";
  auto remote = edit(with_target_key(static_auth), "http://127.0.0.1:8787", "http://erp.example:80/api");
  auto ws = config_warnings(parse_config(remote, "t.toml"));
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].key_path == "targets.portal.base_url");
  CHECK_THAT(ws[0].message, Catch::Contains("plain http://") && Catch::Contains("unencrypted"));
  CHECK(ws[0].to_string().find("s3cr3t") == std::string::npos);
  // none for https, for loopback, or without credentials
  CHECK(config_warnings(parse_config(edit(remote, "http://erp", "https://erp"), "t")).empty());
  CHECK(config_warnings(parse_config(with_target_key(static_auth), "t")).empty());
  CHECK(config_warnings(parse_config(edit(base_config, "http://127.0.0.1:8787",
                                          "http://erp.example/api"), "t"))
            .empty());
  // oauth2 token URL over http, and user:password@ in a URL
  auto oauth = edit(with_target_key("[targets.portal.auth]\nkind = \"oauth2\"\n"
                                    "token_url = \"http://id.example/token\"\nclient_id = \"me-1\"\n"
                                    "client_secret = \"${STAMPEDE_T_SECRET}\""),
                    "http://127.0.0.1:8787", "https://u:p4ss@erp.example");
  ws = config_warnings(parse_config(oauth, "t.toml"));
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].key_path == "targets.portal.auth.token_url");
  CHECK(ws[1].key_path == "targets.portal.base_url");
  CHECK_THAT(ws[1].message, Catch::Contains("user:password@"));
  CHECK(ws[1].to_string().find("p4ss") == std::string::npos);
}

TEST_CASE("[web]: show_payloads and admin_token are read, a short or empty token is an error "
          "that never shows it, unknown keys are refused", "[config][web]") {
  ::setenv("STAMPEDE_T_WEB_TOKEN", "a-web-admin-token-long-enough", 1);
  auto c = parse_config(base_config + "\n[web]\nshow_payloads = true\n"
                                      "admin_token = \"${STAMPEDE_T_WEB_TOKEN}\"\n",
                        "t.toml");
  CHECK(c.web.show_payloads);
  CHECK(c.web.admin_token == "a-web-admin-token-long-enough");
  CHECK_FALSE(parse_config(base_config, "t.toml").web.show_payloads);
  CHECK(parse_config(base_config, "t.toml").web.admin_token.empty());

  ::setenv("STAMPEDE_T_WEB_SHORT", "short-tok", 1);
  const auto short_token = base_config + "\n[web]\nadmin_token = \"${STAMPEDE_T_WEB_SHORT}\"\n";
  expect_error(short_token, "web.admin_token", "\"${STAMPEDE_T_WEB_SHORT}\"",
               "is shorter than 16 characters");
  for (const auto& d : errors_of(short_token))
    CHECK(d.to_string().find("short-tok") == std::string::npos);
  ::setenv("STAMPEDE_T_WEB_EMPTY", "", 1);
  expect_error(base_config + "\n[web]\nadmin_token = \"${STAMPEDE_T_WEB_EMPTY}\"\n",
               "web.admin_token", "\"${STAMPEDE_T_WEB_EMPTY}\"",
               "environment variable `STAMPEDE_T_WEB_EMPTY` is empty");
  auto unknown = errors_of(base_config + "\n[web]\nshow_payload = true\n");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].to_string().find("show_payloads") != std::string::npos);  // did you mean
}
