// End to end: failure classes, the resend queue and async batches, through
// the real binaries, the reference target's /stats and `stampede log --json`.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {

/// Records of `service` whose status is `status`, per `stampede log --json`.
std::uint64_t logged(world& w, std::uint32_t service, const std::string& status) {
  auto r = w.stampede_plain("log --json --limit 1000000 --service " + std::to_string(service) +
                            " --status " + status);
  INFO(r.out);
  REQUIRE(r.rc == 0);
  std::uint64_t n = 0;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line))
    if (line.find("\"status\":\"" + status + "\"") != std::string::npos)
      ++n;
  return n;
}

std::string status_json(world& w, std::uint32_t service) {
  auto st = w.stampede_plain("status --json --services " + std::to_string(service));
  REQUIRE(st.rc == 0);
  return st.out;
}

std::string checkpoint_of(world& w, std::uint32_t svc) {
  simdjson::dom::parser parser;
  auto text = status_json(w, svc);
  simdjson::dom::element doc = parser.parse(text);
  std::string_view stamp = doc["services"].at(0)["checkpoint"]["stamp"];
  return std::string(stamp);
}

std::string dump_dir(const fs::path& dir) {
  std::string all;
  for (auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file())
      all += read_file(f.path());
  return all;
}

const std::map<std::string, std::string> kOneService{{"page_size", "200"},
                                                      {"batch_records", "100"},
                                                      {"retry_backoff_base", "\"1ms\""},
                                                      {"retry_backoff_max", "\"5ms\""}};

} // namespace

TEST_CASE("a wrong static key fails the service with the cause, nothing is marked failed, the "
          "fixed key delivers everything") {
  ::setenv("E2E_PORTAL_KEY", "right-key-123", 1);
  world w(0.05, kOneService, {"--auth", "static", "--static-key-env", "E2E_PORTAL_KEY"});
  replace_in_file(w.cfg, "kind = \"none\"",
              "kind = \"static\"\nheader = \"Authorization\"\nvalue = \"Bearer ${E2E_CLIENT_KEY}\"");
  ::setenv("E2E_CLIENT_KEY", "wrong-key-456", 1);
  auto r = w.stampede("run --once --services 1");
  INFO(r.out);
  CHECK(r.rc == 1);
  CHECK(r.out.find("401") != std::string::npos);
  CHECK(r.out.find("credentials") != std::string::npos);
  CHECK(r.out.find("wrong-key-456") == std::string::npos);
  CHECK(r.out.find("right-key-123") == std::string::npos);
  // Not the records' fault: no record failed, the checkpoint did not move,
  // the initial load is not complete.
  CHECK(logged(w, 1, "error") == 0);
  CHECK(logged(w, 1, "cancelled") == 0);
  CHECK(checkpoint_of(w, 1).empty());
  CHECK(status_json(w, 1).find("\"complete\"") == std::string::npos);
  CHECK(get_stats(w.target->url()).services[1].creates == 0);

  ::setenv("E2E_CLIENT_KEY", "right-key-123", 1);
  auto ok = w.stampede("run --once --services 1");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  auto live = static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES"));
  CHECK(get_stats(w.target->url()).services[1].creates == live);
  CHECK(logged(w, 1, "success") == live);
  // No secret in any state file either.
  auto state = dump_dir(w.state);
  CHECK(state.find("wrong-key-456") == std::string::npos);
  CHECK(state.find("right-key-123") == std::string::npos);
}

TEST_CASE("an open circuit breaker shows in status with its cause, a fixed target closes it") {
  ::setenv("E2E_PORTAL_KEY", "right-key-123", 1);
  world w(0.02, kOneService, {"--auth", "static", "--static-key-env", "E2E_PORTAL_KEY"});
  replace_in_file(w.cfg, "[targets.portal.paths]", "breaker_failures = 1\n\n[targets.portal.paths]");
  replace_in_file(w.cfg, "kind = \"none\"",
              "kind = \"static\"\nheader = \"Authorization\"\nvalue = \"Bearer ${E2E_CLIENT_KEY}\"");
  ::setenv("E2E_CLIENT_KEY", "wrong-key-456", 1);
  // Before any run: the target was never seen failing.
  {
    simdjson::dom::parser parser;
    auto text = status_json(w, 1);
    simdjson::dom::element doc = parser.parse(text);
    CHECK(std::string_view(doc["targets"].at(0)["name"]) == "portal");
    CHECK(std::string_view(doc["targets"].at(0)["breaker"]) == "closed");
  }
  auto r = w.stampede("run --once --services 1");
  INFO(r.out);
  CHECK(r.rc == 1);
  {
    simdjson::dom::parser parser;
    auto text = status_json(w, 1);
    INFO(text);
    simdjson::dom::element doc = parser.parse(text);
    simdjson::dom::element t = doc["targets"].at(0);
    CHECK(std::string_view(t["breaker"]) == "open");
    CHECK(std::uint64_t(t["consecutive_failures"]) >= 1);
    CHECK(std::string_view(t["last_failure"]).find("401") != std::string_view::npos);
    CHECK(int64_t(t["retry_at_ms"]) > int64_t(t["changed_ms"]));
    CHECK(text.find("wrong-key-456") == std::string::npos);
  }
  auto human = w.stampede_plain("status --services 1");
  INFO(human.out);
  CHECK(human.out.find("target portal: breaker open since") != std::string::npos);
  CHECK(human.out.find("401") != std::string::npos);

  // A new worker starts closed, the target answers: closed, the cause kept for the record.
  ::setenv("E2E_CLIENT_KEY", "right-key-123", 1);
  auto ok = w.stampede("run --once --services 1");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  simdjson::dom::parser parser;
  auto text = status_json(w, 1);
  simdjson::dom::element doc = parser.parse(text);
  CHECK(std::string_view(doc["targets"].at(0)["breaker"]) == "closed");
}

TEST_CASE("validation errors beyond the lookback are resent from the queue, then Cancelled at "
          "max_attempts") {
  auto set = kOneService;
  set["lookback"] = "\"0s\"";
  set["max_attempts"] = "3";
  world w(0.05, set, {"--validate", "email:maxlen=22"});
  replace_in_file(w.cfg, "max_attempts = 3", "max_attempts = 3\nresend_backoff = \"0s\"");
  auto r1 = w.stampede("run --once --services 1");
  INFO(r1.out);
  CHECK(r1.rc == 4);  // completed, but records are in Error
  const auto errors = logged(w, 1, "error");
  REQUIRE(errors > 0);
  const auto s1 = get_stats(w.target->url()).services[1];
  CHECK(s1.record_errors == errors);
  CHECK(r1.out.find("breaks rule") != std::string::npos);  // the most frequent reason

  // The checkpoint moved past them and there is no lookback: only the
  // resend queue brings them back. An automatic resend keeps its
  // idempotency key, so the (idempotent) target answers with the stored
  // error: it counts them as replays.
  auto r2 = w.stampede("run --once --services 1");
  CHECK(r2.rc == 4);
  CHECK(get_stats(w.target->url()).services[1].replays == errors);
  auto r3 = w.stampede("run --once --services 1");
  CHECK(r3.rc == 4);
  CHECK(get_stats(w.target->url()).services[1].replays == 2 * errors);
  CHECK(logged(w, 1, "cancelled") == errors);
  CHECK(logged(w, 1, "error") == 0);
  // Cancelled: never again.
  w.stampede("run --once --services 1");
  CHECK(get_stats(w.target->url()).services[1].replays == 2 * errors);
  CHECK(get_stats(w.target->url()).services[1].record_errors == errors);

  // A manual resend of the Cancelled ones, after the platform fixed its rule.
  http("POST", w.target->url() + "/faults", "{}");
  auto rs = w.stampede_plain("resend --service 1 --status cancelled --by ana");
  INFO(rs.out);
  CHECK(rs.rc == 0);
  auto r5 = w.stampede("run --once --services 1");
  INFO(r5.out);
  CHECK(r5.rc == 0);
  auto live = static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES"));
  CHECK(get_stats(w.target->url()).services[1].live_keys == live);
  CHECK(logged(w, 1, "success") == live);
}

TEST_CASE("max_attempts = 0 never resends automatically") {
  auto set = kOneService;
  set["lookback"] = "\"0s\"";
  set["max_attempts"] = "0";
  world w(0.05, set, {"--validate", "email:maxlen=22"});
  auto r1 = w.stampede("run --once --services 1");
  CHECK(r1.rc == 4);
  const auto errors = logged(w, 1, "error");
  REQUIRE(errors > 0);
  w.stampede("run --once --services 1");
  w.stampede("run --once --services 1");
  const auto s = get_stats(w.target->url()).services[1];
  CHECK(s.record_errors == errors);
  CHECK(s.replays == 0);
  CHECK(logged(w, 1, "error") == errors);
}

TEST_CASE("an async batch slower than request_timeout keeps its records and remote ids") {
  auto set = kOneService;
  set["request_timeout"] = "\"300ms\"";
  world w(0.02, set, {"--batch-delay-ms", "1200"});
  replace_in_file(w.cfg, "poll_interval = \"200ms\"", "poll_interval = \"100ms\"\npoll_timeout = \"20s\"");
  auto r = w.stampede("run --once --services 1");
  INFO(r.out);
  CHECK(r.rc == 0);
  auto live = static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES"));
  CHECK(get_stats(w.target->url()).services[1].creates == live);
  CHECK(logged(w, 1, "success") == live);
  CHECK(logged(w, 1, "error") == 0);
  // Remote ids are kept: `log show` of a record has the target's id.
  auto one = w.stampede_plain("log --json --limit 1 --service 1");
  REQUIRE(one.rc == 0);
  CHECK(one.out.find("\"remote_id\":\"1-") != std::string::npos);
}

TEST_CASE("known secrets never appear in any output, log or state file, in every failure mode") {
  const std::string secret = "s3cr3t-Cl13nt-9f8e7d";
  const std::string wrong = "wr0ng-S3cr3t-1a2b3c";
  ::setenv("E2E_TARGET_SECRET", secret.c_str(), 1);
  auto set = kOneService;
  set["log_level"] = "\"debug\"";
  set["lookback"] = "\"0s\"";
  world w(0.02, set,
          {"--auth", "oauth2", "--client-id", "portal-client", "--client-secret-env", "E2E_TARGET_SECRET"});
  replace_in_file(w.cfg, "kind = \"none\"",
              "kind = \"oauth2\"\ntoken_url = \"" + w.target->url() +
                "/oauth/token\"\nclient_id = \"portal-client\"\nclient_secret = \"${E2E_CLIENT_SECRET}\"");
  std::string all;
  auto run = [&](const std::string& args) {
    auto r = w.stampede(args + " --log-format json");
    all += r.out;
    return r;
  };
  // 1. credentials: the token endpoint refuses the wrong secret.
  ::setenv("E2E_CLIENT_SECRET", wrong.c_str(), 1);
  auto r1 = run("run --once --services 1");
  INFO(r1.out);
  CHECK(r1.rc == 1);
  CHECK(r1.out.find("credentials") != std::string::npos);
  // 2. exhausted: every request answered 503.
  ::setenv("E2E_CLIENT_SECRET", secret.c_str(), 1);
  http("POST", w.target->url() + "/faults", R"({"fail_rate":1.0})");
  auto r2 = run("run --once --services 1");
  CHECK(r2.rc == 1);
  CHECK(r2.out.find("exhausted") != std::string::npos);
  // 3. record-level errors, then their journal.
  http("POST", w.target->url() + "/faults", R"({"validate":["email:maxlen=22"]})");
  auto r3 = run("run --once --services 1");
  CHECK(r3.rc == 4);
  auto lg = w.stampede_plain("log --json --service 1 --status error");
  all += lg.out;
  auto first = lg.out.substr(0, lg.out.find('\n'));
  auto k = first.find("\"key\":\"");
  REQUIRE(k != std::string::npos);
  auto key = first.substr(k + 7, first.find('"', k + 7) - k - 7);
  all += w.stampede_plain("log show 1 " + key + " --json").out;
  all += w.stampede_plain("status --json").out;
  CHECK(all.find(secret) == std::string::npos);
  CHECK(all.find(wrong) == std::string::npos);
  auto state = dump_dir(w.state);
  CHECK(state.find(secret) == std::string::npos);
  CHECK(state.find(wrong) == std::string::npos);
  // The debug log did show requests (so the check above looked at them).
  CHECK(all.find("\"level\":\"debug\"") != std::string::npos);
}
