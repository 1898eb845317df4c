// Hostile and careless configuration through the real binary (issue 11):
// `check` and `run` refuse it with exit 2 and a clear message, at once,
// without a crash, a hang or a write to the state directory.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace e2e;

namespace {

/// `stampede ARGS -c PATH` under a 20 s watchdog (exit 124 = it hung).
cmd_result stampede_on(const std::string& args, const std::string& path) {
  // `check` takes no --progress (it refuses the flag).
  const bool is_run = std::string(args).rfind("run", 0) == 0;
  return run("timeout -s KILL 20 " + bin("tools/stampede/stampede") + " " + args + " -c " + path +
             (is_run ? " --progress never" : ""));
}

} // namespace

TEST_CASE("check and run refuse an empty secret variable, a duration beyond its range and deep "
          "nesting with exit 2, writing nothing") {
  world w(0.01);
  const std::string original = read_file(w.cfg);

  // An empty secret variable: "Bearer " used to pass check and reach the target.
  ::setenv("E2E_EMPTY_TOKEN", "", 1);
  replace_in_file(w.cfg, "kind = \"none\"",
               "kind = \"static\"\nheader = \"Authorization\"\nvalue = \"Bearer ${E2E_EMPTY_TOKEN}\"");
  for (const char* cmd : {"check", "run --once"}) {
    auto r = std::string(cmd) == "check" ? w.stampede_plain(cmd) : w.stampede(cmd);
    INFO(cmd << ": " << r.out);
    CHECK(r.rc == 2);
    CHECK(r.out.find("targets.portal.auth.value: environment variable `E2E_EMPTY_TOKEN` is "
                     "empty") != std::string::npos);
  }

  // A lookback that fits int64 milliseconds but overflows stamp arithmetic.
  std::ofstream(w.cfg) << original;
  replace_in_file(w.cfg, "lookback = \"10m\"", "lookback = \"106751991167d\"");
  for (const char* cmd : {"check", "run --once"}) {
    auto r = std::string(cmd) == "check" ? w.stampede_plain(cmd) : w.stampede(cmd);
    INFO(cmd << ": " << r.out);
    CHECK(r.rc == 2);
    CHECK(r.out.find("source.lookback: \"106751991167d\" is out of range; expected 0ms..366d") !=
          std::string::npos);
  }

  // ${} nested 40k deep and a 50k-part dotted key: used to overflow the stack.
  std::string deep;
  for (int i = 0; i < 40000; ++i) deep += "${E2E_UNSET_X:-";
  deep += "x";
  deep += std::string(40000, '}');
  ::unsetenv("E2E_UNSET_X");
  std::ofstream(w.cfg) << original;
  replace_in_file(w.cfg, "tenant_id = \"${STAMPEDE_TENANT_ID:-demo}\"", "tenant_id = \"" + deep + "\"");
  auto nested = w.stampede_plain("check");
  INFO(nested.out.substr(0, 2000));
  CHECK(nested.rc == 2);
  CHECK(nested.out.find("nested deeper than 16 levels") != std::string::npos);

  std::string dotted = "a";
  for (int i = 0; i < 50000; ++i) dotted += ".a";
  std::ofstream(w.cfg) << original << dotted << " = 1\n";
  auto keys = w.stampede_plain("check");
  INFO(keys.out.substr(0, 2000));
  CHECK(keys.rc == 2);
  CHECK(keys.out.find("a dotted key with more than 64 parts") != std::string::npos);

  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target->url()).creates == 0);
}

TEST_CASE("a FIFO or /dev/zero as the config path is refused at once with exit 2") {
  temp_dir tmp;
  const auto fifo = (tmp.path / "config.fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    for (const char* cmd : {"check", "run --once"}) {
      auto r = stampede_on(cmd, path);
      INFO(cmd << " -c " << path << ": " << r.out);
      CHECK(r.rc == 2);  // 124/137: it hung
      CHECK(r.out.find(path + ": cannot read config file: it is not a regular file") !=
            std::string::npos);
    }
  }
}
