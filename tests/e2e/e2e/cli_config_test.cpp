// Which config file the CLI reads: -c, else $STAMPEDE_CONFIG, else
// ./stampede.toml.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

TEST_CASE("-c wins over STAMPEDE_CONFIG, which is used without -c") {
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
