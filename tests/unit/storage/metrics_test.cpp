// Unit tests of metrics/: probes move the documented series; the exporter
// serves them and refuses a taken port.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <string>

#include "metrics/probes.hpp"
#include "metrics/registry.hpp"

using namespace stampede;

namespace {

/// Value of the sample line `series` (name plus exact label block as rendered,
/// e.g. `stampede_x_total{service="3"}`), or nullopt when absent.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    if (line.compare(0, sp, series) == 0 && sp == series.size())
      return std::stod(line.substr(sp + 1));
  }
  return std::nullopt;
}

std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return resp;
}

} // namespace

TEST_CASE("metrics: extractor and transform probes count per service", "[metrics]") {
  metrics_registry reg;
  extractor_probe ex3(reg, 3);
  extractor_probe ex4(reg, 4);
  transform_probe tr3(reg, 3);

  ex3.rows_read(5000);
  ex3.rows_read(1234);
  ex4.rows_read(7);
  ex3.page_read(0.02);
  ex3.page_read(0.2);
  ex3.lag(42.5);
  tr3.records_encoded(900);
  tr3.records_skipped_unchanged(100);
  tr3.record_errors(2);

  const std::string t = reg.render_text();
  CAPTURE(t);
  REQUIRE(sample(t, R"(stampede_extractor_rows_read_total{service="3"})") == 6234);
  REQUIRE(sample(t, R"(stampede_extractor_rows_read_total{service="4"})") == 7);
  REQUIRE(sample(t, R"(stampede_extractor_page_read_seconds_count{service="3"})") == 2);
  REQUIRE(sample(t, R"(stampede_extractor_page_read_seconds_sum{service="3"})") == Approx(0.22));
  REQUIRE(sample(t, R"(stampede_extractor_page_read_seconds_bucket{service="3",le="0.025"})") == 1);
  REQUIRE(sample(t, R"(stampede_extractor_page_read_seconds_bucket{service="3",le="+Inf"})") == 2);
  REQUIRE(sample(t, R"(stampede_extractor_lag_seconds{service="3"})") == 42.5);
  REQUIRE(sample(t, R"(stampede_extractor_lag_seconds{service="4"})") == 0);
  REQUIRE(sample(t, R"(stampede_transform_records_encoded_total{service="3"})") == 900);
  REQUIRE(sample(t, R"(stampede_transform_records_skipped_unchanged_total{service="3"})") == 100);
  REQUIRE(sample(t, R"(stampede_transform_record_errors_total{service="3"})") == 2);
  REQUIRE(t.find("# TYPE stampede_extractor_rows_read_total counter") != std::string::npos);
  REQUIRE(t.find("# TYPE stampede_extractor_page_read_seconds histogram") != std::string::npos);
  REQUIRE(t.find("# TYPE stampede_extractor_lag_seconds gauge") != std::string::npos);
}

TEST_CASE("metrics: sender probe counts batches, bytes and requests by status", "[metrics]") {
  metrics_registry reg;
  sender_probe s(reg, 12);
  s.batch_sent(1000, 250000);
  s.batch_sent(10, 2500);
  s.request_done(200, 0.1);
  s.request_done(200, 0.3);
  s.request_done(503, 1.5);
  s.request_done(0, 5.0);
  s.request_done(999, 0.01);
  s.retry();
  s.retry();
  s.in_flight(3);
  s.in_flight(2);

  // A second probe for the same service shares the series (e.g. after a restart of the actor).
  sender_probe again(reg, 12);
  again.request_done(503, 0.2);

  const std::string t = reg.render_text();
  CAPTURE(t);
  REQUIRE(sample(t, R"(stampede_sender_batches_sent_total{service="12"})") == 2);
  REQUIRE(sample(t, R"(stampede_sender_records_sent_total{service="12"})") == 1010);
  REQUIRE(sample(t, R"(stampede_sender_sent_bytes_total{service="12"})") == 252500);
  REQUIRE(sample(t, R"(stampede_sender_requests_total{code="200",service="12"})") == 2);
  REQUIRE(sample(t, R"(stampede_sender_requests_total{code="503",service="12"})") == 2);
  REQUIRE(sample(t, R"(stampede_sender_requests_total{code="none",service="12"})") == 1);
  REQUIRE(sample(t, R"(stampede_sender_requests_total{code="other",service="12"})") == 1);
  REQUIRE(sample(t, R"(stampede_sender_requests_total{code="201",service="12"})") == 0);
  REQUIRE_FALSE(sample(t, R"(stampede_sender_requests_total{code="404",service="12"})").has_value());
  REQUIRE(sample(t, R"(stampede_sender_request_duration_seconds_count{service="12"})") == 6);
  REQUIRE(sample(t, R"(stampede_sender_retries_total{service="12"})") == 2);
  REQUIRE(sample(t, R"(stampede_sender_in_flight_requests{service="12"})") == 2);
  REQUIRE(sample(t, R"(stampede_sender_batch_duration_seconds_count{service="12"})") == 0);
}

TEST_CASE("metrics: a batch's whole life is its own histogram, apart from its requests",
          "[metrics]") {
  metrics_registry reg;
  sender_probe s(reg, 7);
  s.request_done(202, 0.004);  // submit
  s.request_done(200, 0.003);  // poll
  s.batch_done(2.2);           // submitted, polled until done
  const std::string t = reg.render_text();
  CAPTURE(t);
  REQUIRE(sample(t, R"(stampede_sender_batch_duration_seconds_count{service="7"})") == 1);
  REQUIRE(sample(t, R"(stampede_sender_batch_duration_seconds_bucket{service="7",le="1"})") == 0);
  REQUIRE(sample(t, R"(stampede_sender_batch_duration_seconds_bucket{service="7",le="2.5"})") == 1);
  REQUIRE(sample(t, R"(stampede_sender_request_duration_seconds_bucket{service="7",le="0.005"})") == 2);
}

TEST_CASE("metrics: service probe, preregistered series and build info exist from the start",
          "[metrics]") {
  metrics_registry reg;
  preregister(reg, 5);
  service_probe sp(reg, 5);
  build_info(reg, "9.9.9");
  std::string t = reg.render_text();
  CAPTURE(t);
  REQUIRE(sample(t, R"(stampede_extractor_rows_read_total{service="5"})") == 0);
  REQUIRE(sample(t, R"(stampede_reconcile_records_total{outcome="failed",service="5"})") == 0);
  REQUIRE(sample(t, R"(stampede_service_records{service="5",status="error"})") == 0);
  REQUIRE(sample(t, R"(stampede_build_info{version="9.9.9"})") == 1);
  REQUIRE(sample(t, "stampede_process_start_time_seconds").value_or(0) > 1.7e9);
  sp.cycle_done(false, 1714557600, 3.5);
  sp.records({1, 2, 3, 4});
  sp.initial_load_complete(true);
  t = reg.render_text();
  REQUIRE(sample(t, R"(stampede_service_last_cycle_success{service="5"})") == 0);
  REQUIRE(sample(t, R"(stampede_service_last_cycle_timestamp_seconds{service="5"})") == 1714557600);
  REQUIRE(sample(t, R"(stampede_service_records{service="5",status="cancelled"})") == 4);
  REQUIRE(sample(t, R"(stampede_service_initial_load_complete{service="5"})") == 1);
  REQUIRE(sample(t, R"(stampede_service_initial_load_progress_ratio{service="5"})") == 1);
  service_probe other(reg, 6);
  other.initial_load_progress(0.45);
  t = reg.render_text();
  REQUIRE(sample(t, R"(stampede_service_initial_load_progress_ratio{service="6"})") == 0.45);
  other.initial_load_progress(1.7);  // more rows than counted at the start
  t = reg.render_text();
  REQUIRE(sample(t, R"(stampede_service_initial_load_progress_ratio{service="6"})") == 1);
}

TEST_CASE("metrics: reconcile probe counts outcomes, checkpoint and commit time", "[metrics]") {
  metrics_registry reg;
  reconcile_probe r(reg, 1);
  r.outcomes(10, 5, 2, 1);
  r.outcomes(1, 0, 0, 3);
  r.checkpoint_advanced(1718100000.5);
  r.commit_seconds(0.0004);
  r.commit_seconds(0.002);

  const std::string t = reg.render_text();
  CAPTURE(t);
  REQUIRE(sample(t, R"(stampede_reconcile_records_total{outcome="created",service="1"})") == 11);
  REQUIRE(sample(t, R"(stampede_reconcile_records_total{outcome="updated",service="1"})") == 5);
  REQUIRE(sample(t, R"(stampede_reconcile_records_total{outcome="deleted",service="1"})") == 2);
  REQUIRE(sample(t, R"(stampede_reconcile_records_total{outcome="failed",service="1"})") == 4);
  REQUIRE(sample(t, R"(stampede_checkpoint_timestamp_seconds{service="1"})") == Approx(1718100000.5));
  REQUIRE(sample(t, R"(stampede_reconcile_commit_duration_seconds_count{service="1"})") == 2);
  REQUIRE(sample(t, R"(stampede_reconcile_commit_duration_seconds_bucket{service="1",le="0.0005"})") == 1);
}

TEST_CASE("metrics: exporter serves /metrics and refuses a taken port", "[metrics]") {
  metrics_registry reg;
  extractor_probe ex(reg, 9);
  ex.rows_read(77);
  REQUIRE_FALSE(reg.serving());
  reg.serve("127.0.0.1:0");
  REQUIRE(reg.serving());
  const int port = reg.port();
  REQUIRE(port > 0);

  const std::string resp = http_get(port, "/metrics");
  CAPTURE(resp);
  REQUIRE(resp.find("200 OK") != std::string::npos);
  REQUIRE(resp.find(R"(stampede_extractor_rows_read_total{service="9"} 77)") != std::string::npos);

  metrics_registry other;
  try {
    other.serve("127.0.0.1:" + std::to_string(port));
    FAIL("serve on a taken port must throw");
  } catch (const metrics_error& e) {
    REQUIRE(e.code == metrics_errc::bind_failed);
    REQUIRE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  }
  REQUIRE_FALSE(other.serving());

  REQUIRE_THROWS_AS(reg.serve("127.0.0.1:0"), metrics_error);  // already serving
}

TEST_CASE("metrics: malformed listen addresses are rejected", "[metrics]") {
  metrics_registry reg;
  for (const char* bad : {"", "9464", ":9464", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000"}) {
    INFO(bad);
    try {
      reg.serve(bad);
      FAIL("must throw");
    } catch (const metrics_error& e) {
      REQUIRE(e.code == metrics_errc::bad_listen);
    }
  }
}
