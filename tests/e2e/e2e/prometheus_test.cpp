// A real Prometheus (Debian's prometheus) scrapes a running worker: the
// shipped rules load and evaluate without error, every dashboard expression
// returns data, the values match `stampede status`, and every metric
// docs/metrics.md documents is exposed.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <regex>
#include <set>
#include <sys/socket.h>

using namespace e2e;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string url_encode_query(const std::string& q) {
  std::string out;
  char buf[4];
  for (unsigned char c : q) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// /api/v1/query: the result array's JSON text ("" when the query failed).
std::string query(const std::string& prom, const std::string& expr, std::string* error = nullptr) {
  const auto body = http("GET", prom + "/api/v1/query?query=" + url_encode_query(expr));
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  if (std::string_view(doc["status"]) != "success") {
    if (error)
      *error = body;
    return "";
  }
  return simdjson::to_string(doc["data"]["result"]);
}

/// The value of a one-series instant vector ("" when not exactly one).
std::string value_of(const std::string& prom, const std::string& expr) {
  const auto body = http("GET", prom + "/api/v1/query?query=" + url_encode_query(expr));
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  simdjson::dom::array result;
  if (doc["data"]["result"].get(result) != simdjson::SUCCESS || result.size() != 1)
    return "";
  return std::string(std::string_view(result.at(0)["value"].at(1)));
}

std::uint64_t status_count(world& w, std::uint32_t id, const std::string& status) {
  auto st = w.stampede_plain("status --json --services " + std::to_string(id));
  REQUIRE(st.rc == 0);
  simdjson::dom::parser p;
  return std::uint64_t(p.parse(st.out)["services"].at(0)["counts"][status]);
}

} // namespace

TEST_CASE("prometheus: promtool accepts the rules and the static scrape config") {
  REQUIRE_FALSE(run("command -v promtool").out.empty());  // tools/install-deps.sh installs it
  const fs::path deploy = fs::path(STAMPEDE_SOURCE_DIR) / "deploy/prometheus";
  auto rules = run("promtool check rules " + (deploy / "alerts.yml").string());
  INFO(rules.out);
  CHECK(rules.rc == 0);
  auto cfg = run("promtool check config " + (deploy / "prometheus-static.yml").string());
  INFO(cfg.out);
  CHECK(cfg.rc == 0);
}

TEST_CASE("prometheus: a real Prometheus scrapes a worker, evaluates every rule and dashboard "
          "expression, and sees the figures of stampede status") {
  REQUIRE_FALSE(run("command -v prometheus").out.empty());
  const std::map<std::string, std::string> set{{"page_size", "200"}, {"batch_records", "100"}};
  world w(0.05, set, {"--validate", "email:maxlen=22"});
  const auto log = w.tmp.path / "worker.log";
  std::unique_ptr<child> worker;
  const auto base = start_worker(w, log, worker);
  const auto target = base.substr(std::string("http://").size());

  const auto rules = (fs::path(STAMPEDE_SOURCE_DIR) / "deploy/prometheus/alerts.yml").string();
  const auto prom_cfg = w.tmp.path / "prometheus.yml";
  std::ofstream(prom_cfg) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " << rules << "\n"
                          << "scrape_configs:\n  - job_name: stampede\n    static_configs:\n"
                          << "      - targets: [\"" << target << "\"]\n"
                          << "        labels: {worker: e2e}\n";
  const int port = free_port();
  const std::string prom = "http://127.0.0.1:" + std::to_string(port);
  child prometheus({"/usr/bin/prometheus", "--config.file=" + prom_cfg.string(),
                    "--storage.tsdb.path=" + (w.tmp.path / "tsdb").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                   w.tmp.path / "prometheus.log");
  // Scraped a few times (rate() needs two samples in its window).
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    try {
      up = value_of(prom, "count_over_time(up{job=\"stampede\"}[1m]) >= 4") != "";
    } catch (const std::exception&) {
    }
  }
  INFO(read_file(w.tmp.path / "prometheus.log"));
  REQUIRE(up);
  CHECK(value_of(prom, "up{job=\"stampede\"}") == "1");

  // The figures Prometheus holds are those of `stampede status`.
  CHECK(value_of(prom, "stampede_build_info") == "1");
  const auto errors = status_count(w, 1, "error");
  REQUIRE(errors > 0);
  CHECK(value_of(prom, "stampede_service_records{service=\"1\",status=\"error\"}") ==
        std::to_string(errors));
  CHECK(value_of(prom, "stampede_service_records{service=\"2\",status=\"success\"}") ==
        std::to_string(status_count(w, 2, "success")));
  CHECK(value_of(prom, "stampede_reconcile_records_total{service=\"2\",outcome=\"created\"}") ==
        std::to_string(status_count(w, 2, "success")));
  CHECK(value_of(prom, "stampede_service_initial_load_complete{service=\"1\"}") == "1");
  CHECK(value_of(prom, "stampede_service_initial_load_progress_ratio{service=\"1\"}") == "1");
  CHECK(value_of(prom, "stampede_service_last_cycle_success{service=\"2\"}") == "1");
  // Only the services this worker runs.
  CHECK(query(prom, "stampede_service_records{service=\"3\"}") == "[]");

  // Every alert rule loaded and evaluated without error.
  bool evaluated = false;
  for (int i = 0; i < 100 && !evaluated; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto body = http("GET", prom + "/api/v1/rules");
    evaluated = count_of(body, "\"lastEvaluation\":\"0001-01-01T00:00:00Z\"") == 0 &&
                count_of(body, "\"type\":\"alerting\"") > 0;
  }
  const auto rules_body = http("GET", prom + "/api/v1/rules");
  INFO(rules_body);
  CHECK(evaluated);
  CHECK(count_of(rules_body, "\"type\":\"alerting\"") == 13);
  CHECK(count_of(rules_body, "\"health\":\"ok\"") == 13);
  // Records in Error: the alert is on its way (pending for its 1h `for`).
  const auto alerts = http("GET", prom + "/api/v1/alerts");
  INFO(alerts);
  CHECK(alerts.find("\"alertname\":\"StampedeRecordsNotDelivered\"") != std::string::npos);
  CHECK(alerts.find("StampedeDailyNoRowsRead") == std::string::npos);  // not on the first day

  // Every dashboard expression, with Grafana's variables filled in, returns data.
  simdjson::dom::parser p;
  auto dash = p.load((fs::path(STAMPEDE_SOURCE_DIR) / "deploy/grafana/stampede-dashboard.json").string());
  int exprs = 0;
  for (auto panel : dash["panels"].get_array()) {
    simdjson::dom::array targets;
    if (panel["targets"].get(targets) != simdjson::SUCCESS)
      continue;
    for (auto t : targets) {
      std::string e{std::string_view(t["expr"])};
      e = std::regex_replace(e, std::regex("\\$__rate_interval"), "30s");
      e = std::regex_replace(e, std::regex("\\$__range"), "5m");
      e = std::regex_replace(e, std::regex("\\$service"), ".+");
      std::string error;
      const auto result = query(prom, e, &error);
      INFO(std::string_view(panel["title"]) << ": " << e << " " << error);
      CHECK_FALSE(result.empty());
      CHECK(result != "[]");
      ++exprs;
    }
  }
  CHECK(exprs >= 15);

  // Every metric docs/metrics.md documents is exposed, except those whose
  // labels only exist once the event happened (listed with the reason).
  const std::set<std::string> on_event{
      "stampede_target_token_requests_total",  // an OAuth2 target fetched a token
      "stampede_target_failures_total",        // a batch failed at the target level
      "stampede_sender_unknown_outcome_retries_total",  // a timeout or unreadable 2xx
      "stampede_audit_drift_records", "stampede_audit_rows", "stampede_audit_seconds",
      "stampede_audit_timestamp_seconds"};  // `stampede audit --metrics-file`
  const auto doc = read_file(fs::path(STAMPEDE_SOURCE_DIR) / "docs/metrics.md");
  const auto names = query(prom, "count by (__name__) ({__name__=~\"stampede_.+\"})");
  int documented = 0;
  const std::regex documented_name("\\| `(stampede_[a-z_]+)`");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), documented_name);
       it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    ++documented;
    if (on_event.count(name))
      continue;
    INFO(name);
    const bool histogram = names.find("\"" + name + "_bucket\"") != std::string::npos;
    CHECK((names.find("\"" + name + "\"") != std::string::npos || histogram));
  }
  CHECK(documented >= 25);

  worker->signal(SIGTERM);
  CHECK(worker->wait(std::chrono::seconds(60)));
  prometheus.signal(SIGTERM);
  prometheus.wait(std::chrono::seconds(30));
}
