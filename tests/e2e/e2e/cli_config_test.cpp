// Which config file the CLI reads: -c, else $STAMPEDE_CONFIG, else
// ./stampede.toml.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

TEST_CASE("cli: -c wins over STAMPEDE_CONFIG, which is used without -c") {
  world w(0.02);
  const std::string stampede = bin("tools/stampede/stampede");
  // The container image sets STAMPEDE_CONFIG; a -c on the command line must
  // still be the file read (it was silently ignored: CLI11 applied the
  // variable to every subcommand's -c, which share one setting).
  auto given = run("STAMPEDE_CONFIG=/nonexistent/stampede.toml " + stampede + " check -c " +
                   w.cfg.string());
  INFO(given.out);
  CHECK(given.rc == 0);
  CHECK(given.out.find("/nonexistent") == std::string::npos);
  auto status = run("STAMPEDE_CONFIG=/nonexistent/stampede.toml " + stampede + " status -c " +
                    w.cfg.string());
  INFO(status.out);
  CHECK(status.rc == 0);

  auto from_env = run("STAMPEDE_CONFIG=" + w.cfg.string() + " " + stampede + " check");
  INFO(from_env.out);
  CHECK(from_env.rc == 0);
  auto missing = run("STAMPEDE_CONFIG=/nonexistent/stampede.toml " + stampede + " check");
  INFO(missing.out);
  CHECK(missing.rc == 2);
  CHECK(missing.out.find("/nonexistent/stampede.toml") != std::string::npos);
}

TEST_CASE("status shows each service's last run, its next scheduled run and its last error") {
  world w(0.02);
  auto r = w.stampede("run --once --services 1");
  REQUIRE(r.rc == 0);
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto js = w.stampede_plain("status --json --services 1");
  REQUIRE(js.rc == 0);
  simdjson::dom::parser p;
  auto svc = p.parse(js.out)["services"].at(0);
  const auto last = std::int64_t(svc["last_run_ms"]);
  const auto next = std::int64_t(svc["next_run_ms"]);
  CHECK(last > now - 60000);
  CHECK(last <= now);
  CHECK(next > now);  // "daily 20:00": the next slot, within a day
  CHECK(next <= now + 24 * 3600 * 1000LL + 60000);
  auto text = w.stampede_plain("status --services 1");
  INFO(text.out);
  CHECK(text.out.find("last run (UTC)") != std::string::npos);
  CHECK(text.out.find("next run (UTC)") != std::string::npos);
  // The last error: the target gone, the next run fails and status says why.
  REQUIRE(w.mutate("--count 5 --services 1 --late-share 0", w.tmp.path / "m.json").rc == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past source.safety_delay
  w.target->stop();
  auto failed = w.stampede("run --once --services 1");
  CHECK(failed.rc == 1);
  text = w.stampede_plain("status --services 1");
  INFO(text.out);
  CHECK(text.out.find("last cycle failed (1 in a row)") != std::string::npos);
}
