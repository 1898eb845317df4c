#include "target/circuit_breaker.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace stampede;

namespace {

struct fake_clock {
  circuit_breaker::clock::time_point t{std::chrono::hours(1)};
  circuit_breaker::now_fn fn() {
    return [this] { return t; };
  }
};

}  // namespace

TEST_CASE("breaker opens after N consecutive failures, a success resets the count", "[breaker]") {
  fake_clock c;
  circuit_breaker b(3, duration{30000}, c.fn());
  std::vector<std::pair<breaker_state, breaker_state>> changes;
  b.on_change([&](breaker_state f, breaker_state t, const std::string&) { changes.emplace_back(f, t); });
  b.failure("one");
  b.failure("two");
  b.success();
  CHECK(b.snapshot().consecutive_failures == 0);
  b.failure("a");
  b.failure("b");
  CHECK(b.admit());
  CHECK(b.snapshot().state == breaker_state::closed);
  b.failure("c: HTTP 503");
  auto s = b.snapshot();
  CHECK(s.state == breaker_state::open);
  CHECK(s.consecutive_failures == 3);
  CHECK(s.last_failure == "c: HTTP 503");
  CHECK(s.retry_in == duration{30000});
  CHECK_FALSE(b.admit());
  REQUIRE(changes.size() == 1);
  CHECK(changes[0] == std::make_pair(breaker_state::closed, breaker_state::open));
}

TEST_CASE("breaker half-opens after the cooldown and lets exactly one batch probe", "[breaker]") {
  fake_clock c;
  circuit_breaker b(1, duration{1000}, c.fn());
  b.failure("down");
  CHECK_FALSE(b.admit());
  c.t += std::chrono::milliseconds(999);
  CHECK_FALSE(b.admit());
  c.t += std::chrono::milliseconds(1);
  bool probe = false;
  CHECK(b.admit(&probe));
  CHECK(probe);
  CHECK(b.snapshot().state == breaker_state::half_open);
  bool other = true;
  CHECK_FALSE(b.admit(&other));  // the probe is out: others still wait
  CHECK_FALSE(other);

  SECTION("probe fails: open again for another cooldown") {
    b.failure("still down");
    CHECK(b.snapshot().state == breaker_state::open);
    CHECK_FALSE(b.admit());
    c.t += std::chrono::milliseconds(1000);
    CHECK(b.admit());
  }
  SECTION("probe succeeds: closed") {
    b.success();
    CHECK(b.snapshot().state == breaker_state::closed);
    CHECK(b.admit());
    CHECK(b.admit());
  }
  SECTION("probe abandoned (cancelled): the next batch probes") {
    b.abandon(true);
    CHECK(b.snapshot().state == breaker_state::half_open);
    bool p2 = false;
    CHECK(b.admit(&p2));
    CHECK(p2);
  }
}
