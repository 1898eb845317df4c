// The target keys of the send path: poll_timeout, breaker_failures, breaker_cooldown.
#include "pipeline/config.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

namespace {

std::string with_target_keys(const std::string& keys) {
  return R"([source]
kind = "sqlite"
path = "demo.db"

[targets.portal]
base_url = "http://127.0.0.1:8787"
)" + keys + R"(
[[services]]
id = 1
name = "taxpayers"
table = "SA1010"
target = "portal"

[[services.fields]]
name = "code"
column = "A1_COD"
)";
}

}  // namespace

TEST_CASE("send path target keys: defaults and values", "[config][http]") {
  auto d = parse_config(with_target_keys(""), "t.toml").targets.at("portal");
  CHECK(d.poll_timeout == duration{600000});
  CHECK(d.breaker_failures == 3);
  CHECK(d.breaker_cooldown == duration{30000});

  auto c = parse_config(with_target_keys("poll_timeout = \"2h\"\nbreaker_failures = 5\nbreaker_cooldown = \"90s\"\n"),
                        "t.toml")
               .targets.at("portal");
  CHECK(c.poll_timeout == duration{7200000});
  CHECK(c.breaker_failures == 5);
  CHECK(c.breaker_cooldown == duration{90000});
}

TEST_CASE("send path target keys: bad values are rejected with their key path", "[config][http]") {
  for (const char* bad : {"breaker_failures = 0\n", "breaker_cooldown = \"soon\"\n", "poll_timeout = \"0ms\"\n"}) {
    INFO(bad);
    try {
      parse_config(with_target_keys(bad), "t.toml");
      FAIL("accepted");
    } catch (const config_error& e) {
      REQUIRE(e.diagnostics.size() == 1);
      const std::string key = std::string(bad).substr(0, std::string(bad).find(' '));
      CHECK(e.diagnostics[0].key_path == "targets.portal." + key);
    }
  }
}
