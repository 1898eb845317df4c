// stampede_extractor_lag_seconds (docs/metrics.md): source clock minus how far
// extraction has got. Set by the extractor through extractor_probe; before
// this it was registered and graphed but never set (always 0).
#include "../actors/harness.hpp"
#include "actors/cycle.hpp"
#include "metrics/probes.hpp"
#include "metrics/registry.hpp"

#include <chrono>
#include <cstdlib>
#include <string>

using namespace stampede;
using namespace stampede::actortest;
using namespace std::chrono_literals;

namespace {

// The value of stampede_extractor_lag_seconds{service="N"}, or -1 when absent.
double lag_of(const metrics_registry& reg, std::uint32_t service) {
  const std::string text = reg.render_text();
  const std::string series = "stampede_extractor_lag_seconds{service=\"" + std::to_string(service) + "\"} ";
  const auto at = text.find(series);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size(), nullptr);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

TEST_CASE("extractor_probe: lag = source clock now - how far extraction got", "[metrics][lag]") {
  metrics_registry reg;
  extractor_probe p(reg, 41);
  p.extracted_to(1000);  // before cycle_start: ignored
  CHECK(lag_of(reg, 41) == 0);
  // Source clock 10 s ahead of this machine, checkpoint 1 h before it.
  const std::int64_t clock = now_ms() + 10'000;
  p.cycle_start(clock, clock - 3'600'000);
  CHECK(lag_of(reg, 41) == Approx(3600).margin(0.01));
  p.extracted_to(clock - 86'400'000);  // a lookback row older than the checkpoint
  CHECK(lag_of(reg, 41) == Approx(3600).margin(1));
  p.extracted_to(clock - 60'000);
  CHECK(lag_of(reg, 41) == Approx(60).margin(1));
  p.extracted_to(-1);  // unparsable stamp: unchanged
  CHECK(lag_of(reg, 41) == Approx(60).margin(1));
  p.cycle_start(clock, -1);  // initial load: no checkpoint
  p.extracted_to(clock - 86'400'000);
  CHECK(lag_of(reg, 41) == Approx(86400).margin(1));
  p.extracted_to(clock + 5'000);  // a stamp ahead of the clock: 0, never negative
  CHECK(lag_of(reg, 41) == 0);
}

TEST_CASE("a cycle sets stampede_extractor_lag_seconds from the source clock", "[metrics][lag]") {
  fixture_params params;
  params.rows = 300;
  test_world w(params);
  w.cfg.source.safety_delay = 5000ms;
  caf::actor_system_config sys_cfg;
  sys_cfg.set("logger.console", caf::atom("none"));
  sys_cfg.set("scheduler.max-threads", std::size_t{2});
  register_errors(sys_cfg);
  caf::actor_system sys(sys_cfg);
  batch_starter fast = [](batch_ptr b, std::function<void(batch_result)> done, submitted_fn) {
    batch_result res;
    res.batch = b;
    res.http_status = 200;
    res.http_attempts = 1;
    for (const auto& x : b->records) {
      record_outcome o;
      o.ok = true;
      o.remote_id = "r-" + x.key;
      res.outcomes.push_back(std::move(o));
    }
    done(std::move(res));
  };
  metrics_registry reg;
  cycle_options co;
  co.metrics = &reg;
  co.tick = 10ms;
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_cycle(sys, w.cfg, w.cfg.services[0], *w.store, fast, co);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  INFO(r.error);
  REQUIRE(r.ok);
  REQUIRE(r.rows_read == params.rows);
  // Every row up to the upper bound (source clock - safety_delay) was read:
  // the lag is the safety delay plus the time the cycle took, not 0 and not
  // the age of the newest row (2024).
  const double lag = lag_of(reg, test_world::service_id);
  CHECK(lag >= 5.0 - 0.5);  // the SQLite clock and ours agree within rounding
  CHECK(lag <= 5.0 + took + 1.0);
}
