// End to end: a careless target that echoes credentials in every error
// (stampede-target --echo-credentials) never gets a secret into stampede's
// stdout/stderr, JSON debug log, `stampede log --json`, `log show`, status,
// the RocksDB state files (raw bytes) or /metrics: the bare static key, OAuth2
// tokens (several, with a 1 s token lifetime), the client id and the client
// secret, raw and URL-encoded (pipeline/redact.hpp).
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <cctype>

using namespace e2e;

namespace {

/// `stampede run` (continuous) until the target has seen `errors` record
/// errors of service 1, then /metrics is scraped and the worker stopped with
/// SIGTERM. Returns its whole stderr/stdout plus the metrics text.
std::string run_and_scrape(world& w, std::uint64_t errors) {
  auto log = w.tmp.path / "run.log";
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string b = bin("tools/stampede/stampede"), c = w.cfg.string();
    ::execl(b.c_str(), b.c_str(), "run", "--services", "1", "-c", c.c_str(), "--progress", "never",
            "--log-format", "json", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::uint64_t seen = 0;
  for (int i = 0; i < 600 && seen < errors; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = get_stats(w.target->url()).services[1].record_errors;
  }
  std::string metrics;
  for (int i = 0; i < 100 && metrics.empty(); ++i) {
    auto text = read_file(log);
    auto at = text.find("metrics on http://");
    if (at != std::string::npos)
      metrics = http("GET", text.substr(at + 11, text.find_first_of("\n\"", at) - at - 11));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  CHECK(seen >= errors);
  CHECK(metrics.find("stampede_") != std::string::npos);  // the scrape worked
  return read_file(log) + "\n" + metrics;
}

/// Everything stampede shows or keeps about service 1 after the runs.
std::string views(world& w) {
  std::string all;
  auto lg = w.stampede_plain("log --json --service 1 --status error");
  INFO(lg.out);
  REQUIRE(lg.rc == 0);
  all += lg.out;
  auto first = lg.out.substr(0, lg.out.find('\n'));
  auto k = first.find("\"key\":\"");
  REQUIRE(k != std::string::npos);
  auto key = first.substr(k + 7, first.find('"', k + 7) - k - 7);
  all += w.stampede_plain("log show 1 " + key + " --json").out;
  all += w.stampede_plain("log show 1 " + key).out;
  all += w.stampede_plain("log --service 1").out;
  all += w.stampede_plain("status --json").out;
  all += w.stampede_plain("status").out;
  return all;
}

void check_no_secret(const std::string& what, const std::string& text,
                     const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    INFO(what << ": secret form `" << s << "`");
    auto at = text.find(s);
    INFO((at == std::string::npos ? std::string() : text.substr(at > 200 ? at - 200 : 0, 400)));
    CHECK(at == std::string::npos);
  }
  // No token of any fetch: the reference target's tokens are 32 hex digits.
  bool token = false;
  for (auto at = text.find("Bearer "); at != std::string::npos && !token;
       at = text.find("Bearer ", at + 1)) {
    std::size_t n = 0;
    while (at + 7 + n < text.size() && std::isxdigit(static_cast<unsigned char>(text[at + 7 + n])))
      ++n;
    token = n >= 32;
  }
  INFO(what);
  CHECK_FALSE(token);
}

const std::map<std::string, std::string> kSet{{"page_size", "200"},
                                              {"batch_records", "20"},
                                              {"retry_backoff_base", "\"1ms\""},
                                              {"retry_backoff_max", "\"5ms\""},
                                              {"log_level", "\"debug\""},
                                              {"lookback", "\"0s\""},
                                              {"schedule", "\"always\""}};

}  // namespace

TEST_CASE("a target echoing the bare static key: it is in no output, log, view, state file or "
          "metric") {
  const std::string key = "St4tic-e2e-K3y-0123456789";
  ::setenv("E2E_PORTAL_KEY", key.c_str(), 1);
  ::setenv("E2E_CLIENT_KEY", key.c_str(), 1);
  world w(0.02, kSet,
          {"--auth", "static", "--static-key-env", "E2E_PORTAL_KEY", "--echo-credentials",
           "--validate", "email:maxlen=22"});
  replace_in_file(w.cfg, "kind = \"none\"",
              "kind = \"static\"\nheader = \"Authorization\"\nvalue = \"Bearer ${E2E_CLIENT_KEY}\"");
  // A target-level failure first: every answer a 503 whose body echoes the key.
  http("POST", w.target->url() + "/faults", R"({"fail_rate":1.0,"validate":["email:maxlen=22"]})");
  auto down = w.stampede("run --once --services 1 --log-format json");
  INFO(down.out.substr(0, 3000));
  CHECK(down.rc == 1);
  http("POST", w.target->url() + "/faults", R"({"validate":["email:maxlen=22"]})");
  auto once = w.stampede("run --once --services 1 --log-format json");
  INFO(once.out.substr(0, 3000));
  CHECK(once.rc == 4);  // record errors, each one echoing the key
  CHECK(once.out.find("authorization=***") != std::string::npos);  // the echo was there
  ::setenv("STAMPEDE_METRICS_LISTEN", "127.0.0.1:0", 1);
  const std::string running = run_and_scrape(w, 1);

  const std::vector<std::string> secrets{key};
  check_no_secret("run --once", once.out + down.out, secrets);
  check_no_secret("run (log, metrics)", running, secrets);
  const std::string shown = views(w);
  CHECK(shown.find("authorization=***") != std::string::npos);  // the journal kept the echo
  check_no_secret("log/status views", shown, secrets);
  check_no_secret("state files", bytes_under(w.state), secrets);
}

TEST_CASE("a target echoing OAuth2 credentials: tokens, the client id and the client secret (raw "
          "and URL-encoded) are in no output, log, view, state file or metric") {
  const std::string secret = "s3cr3t/Cl13nt+e2e&k3y y";
  const std::string wrong = "wr0ng/S3cr3t+e2e&v4l z";
  const std::string client_id = "portal-client-e2e-7f3a";
  ::setenv("E2E_TARGET_SECRET", secret.c_str(), 1);
  world w(0.02, kSet,
          {"--auth", "oauth2", "--client-id", client_id, "--client-secret-env", "E2E_TARGET_SECRET",
           "--token-ttl", "1", "--echo-credentials", "--validate", "email:maxlen=22"});
  replace_in_file(w.cfg, "kind = \"none\"",
              "kind = \"oauth2\"\ntoken_url = \"" + w.target->url() +
                  "/oauth/token\"\nclient_id = \"" + client_id +
                  "\"\nclient_secret = \"${E2E_CLIENT_SECRET}\"");
  std::string outputs;
  // 1. credentials: the token endpoint refuses the wrong secret, echoing it URL-encoded.
  ::setenv("E2E_CLIENT_SECRET", wrong.c_str(), 1);
  auto r1 = w.stampede("run --once --services 1 --log-format json");
  INFO(r1.out.substr(0, 3000));
  CHECK(r1.rc == 1);
  CHECK(r1.out.find("client_secret=***") != std::string::npos);  // the echo was there
  outputs += r1.out;
  // 2. record errors echoing the bearer token, the client id and the URL-encoded secret.
  ::setenv("E2E_CLIENT_SECRET", secret.c_str(), 1);
  auto r2 = w.stampede("run --once --services 1 --log-format json");
  CHECK(r2.rc == 4);
  outputs += r2.out;
  // 3. a worker running long enough for several tokens (1 s lifetime), metrics scraped.
  ::setenv("STAMPEDE_METRICS_LISTEN", "127.0.0.1:0", 1);
  auto resend = w.stampede_plain("resend --service 1 --all");
  CHECK(resend.rc == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string running = run_and_scrape(w, get_stats(w.target->url()).services[1].record_errors + 1);

  const std::vector<std::string> secrets{secret,
                                         wrong,
                                         "s3cr3t%2FCl13nt%2Be2e%26k3y%20y",
                                         "s3cr3t%2FCl13nt%2Be2e%26k3y+y",
                                         "wr0ng%2FS3cr3t%2Be2e%26v4l%20z",
                                         client_id};
  check_no_secret("run --once", outputs, secrets);
  check_no_secret("run (log, metrics)", running, secrets);
  check_no_secret("log/status views", views(w), secrets);
  check_no_secret("state files", bytes_under(w.state), secrets);
}
