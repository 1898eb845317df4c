// Unit tests of pipeline/cycle_bounds.hpp: plan_bounds.
#include "pipeline/cycle_bounds.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace std::chrono_literals;

namespace {

stamp at(const char* s) {
  auto v = parse_stamp(s);
  REQUIRE(v);
  return *v;
}

bounds_input base() {
  bounds_input in;
  in.source_now = at("2024-05-10 12:00:00");
  in.safety_delay = 2s;
  in.lookback = 10min;
  return in;
}

} // namespace

TEST_CASE("plan_bounds: a first cycle reads from the start up to the clock minus the safety delay",
          "[bounds]") {
  auto b = plan_bounds(base());
  CHECK(b.after == keyset_pos{});
  CHECK_FALSE(b.from);
  CHECK(b.upper == at("2024-05-10 11:59:58"));
  CHECK(b.note.empty());
}

TEST_CASE("plan_bounds: an initial load resumes exactly at its checkpoint", "[bounds]") {
  auto in = base();
  in.initial_load = true;
  in.checkpoint = keyset_pos{"2024-05-01 08:00:00.000", 42};
  auto b = plan_bounds(in);
  CHECK(b.after == in.checkpoint);
  CHECK_FALSE(b.from);
}

TEST_CASE("plan_bounds: an incremental cycle re-reads the lookback window, in any layout",
          "[bounds]") {
  auto in = base();
  in.checkpoint = keyset_pos{"2024-05-10 11:30:00.000", 7};
  auto b = plan_bounds(in);
  REQUIRE(b.from);
  CHECK(*b.from == at("2024-05-10 11:20:00"));
  // A checkpoint written 2024-01-01T10:00:00Z style (issue 11) plans the same way.
  in.checkpoint = keyset_pos{"2024-05-10T11:30:00Z", 7};
  b = plan_bounds(in);
  REQUIRE(b.from);
  CHECK(*b.from == at("2024-05-10 11:20:00"));
  in.checkpoint = keyset_pos{"2024-05-10T08:30:00-03:00", 7};
  b = plan_bounds(in);
  REQUIRE(b.from);
  CHECK(*b.from == at("2024-05-10 11:20:00"));
}

TEST_CASE("plan_bounds: a checkpoint that is not a stamp is resumed from exactly, with a note",
          "[bounds]") {
  auto in = base();
  in.checkpoint = keyset_pos{"01/02/2024", 3};
  auto b = plan_bounds(in);
  CHECK_FALSE(b.from);
  CHECK(b.after == in.checkpoint);
  CHECK_THAT(b.note, Catch::Contains("not a date-time"));
  CHECK(b.upper == at("2024-05-10 11:59:58"));
}

TEST_CASE("plan_bounds: huge lookbacks and delays clamp instead of overflowing", "[bounds]") {
  auto in = base();
  in.checkpoint = keyset_pos{"2024-05-10 11:30:00", 1};
  in.lookback = duration{std::numeric_limits<duration::rep>::max()};  // "106751991167d"
  auto b = plan_bounds(in);
  REQUIRE(b.from);
  CHECK(*b.from == stamp::min);
  in.safety_delay = duration{std::numeric_limits<duration::rep>::max()};
  b = plan_bounds(in);
  CHECK(b.upper == stamp::min);
}

TEST_CASE("plan_bounds: the upper bound stays below the oldest open transaction", "[bounds]") {
  auto in = base();
  in.checkpoint = keyset_pos{"2024-05-10 11:00:00", 1};
  in.oldest_open = at("2024-05-10 11:45:00.5");
  auto b = plan_bounds(in);
  CHECK(b.upper == at("2024-05-10 11:45:00.499999"));
  CHECK_THAT(b.note, Catch::Contains("oldest open transaction"));
  // One that started after clock - safety_delay changes nothing.
  in.oldest_open = at("2024-05-10 11:59:59");
  b = plan_bounds(in);
  CHECK(b.upper == at("2024-05-10 11:59:58"));
  CHECK(b.note.empty());
  // Held open for hours, older than the checkpoint and the lookback: the
  // upper bound goes below the window, so the cycle reads nothing and the
  // checkpoint waits for the commit.
  in.oldest_open = at("2024-05-10 08:00:00");
  b = plan_bounds(in);
  REQUIRE(b.from);
  CHECK(b.upper < *b.from);
}
