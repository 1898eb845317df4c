// The continuous scheduler and service dependencies: coinciding schedules in
// dependency order, a failed dependency holding its dependents back until it
// succeeds, each hold reported once.
#include "engine/scheduler.hpp"
#include "pipeline/schedule.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

namespace {

service_config svc(std::uint32_t id, const std::string& when, std::vector<std::uint32_t> after = {}) {
  service_config s;
  s.id = id;
  s.name = "s" + std::to_string(id);
  s.when = *parse_schedule(when);
  s.after = std::move(after);
  return s;
}

cycle_result result(std::uint32_t id, bool ok) {
  cycle_result r;
  r.service = id;
  r.ok = ok;
  if (!ok) {
    r.code = errc::target_failed;
    r.error = "target failed: HTTP 401";
  } else {
    r.counts.created = 1;
  }
  return r;
}

constexpr std::int64_t t0 = 1'700'000'400'000;

} // namespace

TEST_CASE("coinciding schedules run in dependency order, ties by id", "[engine][scheduler][dependencies]") {
  // 1 after 3, 2 after 1, 3 and 4 free: ready {3, 4} -> 3; then {1, 4} -> 1;
  // then {2, 4} -> 2; then 4.
  auto a = svc(1, "every 1m", {3}), b = svc(2, "every 1m", {1}), c = svc(3, "every 1m"),
       d = svc(4, "every 1m");
  service_scheduler s({&a, &b, &c, &d}, 0);
  s.start(t0);
  const auto due = s.due_at(0);
  for (std::size_t i = 0; i < 4; ++i)
    REQUIRE(s.due_at(i) == due);  // all coincide
  std::vector<std::uint32_t> ran;
  for (int k = 0; k < 4; ++k) {
    auto i = s.due(due);
    REQUIRE(i);
    ran.push_back(s.service(*i).id);
    s.completed(*i, result(s.service(*i).id, true), due + 10);
  }
  CHECK(ran == std::vector<std::uint32_t>{3, 1, 2, 4});
  CHECK_FALSE(s.due(due + 10));
}

TEST_CASE("a failed dependency holds its dependents back until it succeeds",
          "[engine][scheduler][dependencies]") {
  auto a = svc(1, "every 1m"), b = svc(2, "every 1m", {1}), c = svc(3, "every 1m", {2}),
       d = svc(4, "every 1m");
  service_scheduler s({&a, &b, &c, &d}, 0);
  s.start(t0);
  const auto due = s.due_at(0);
  REQUIRE(s.due(due) == std::optional<std::size_t>(0));
  s.completed(0, result(1, false), due + 5);  // 1 fails: backs off 1 s
  CHECK(s.held_by(1) == std::optional<std::size_t>(0));
  CHECK(s.held_by(2) == std::optional<std::size_t>(1));  // through 2, which waits
  CHECK_FALSE(s.held_by(3));
  // 4 runs; 2 and 3 are held, each reported once.
  CHECK(s.newly_held(due + 5) == std::vector<std::size_t>{1, 2});
  CHECK(s.newly_held(due + 6).empty());
  REQUIRE(s.due(due + 5) == std::optional<std::size_t>(3));
  s.completed(3, result(4, true), due + 6);
  CHECK_FALSE(s.due(due + 6));
  // The held services wake nobody; 1's backoff does.
  CHECK(s.next_wake() == due + 5 + 1000);
  // 1 fails again: still held, not reported again.
  REQUIRE(s.due(due + 1005) == std::optional<std::size_t>(0));
  s.completed(0, result(1, false), due + 1010);
  CHECK(s.newly_held(due + 1010).empty());
  // 1 succeeds: 2 (overdue) runs next, then 3.
  REQUIRE(s.due(due + 3010) == std::optional<std::size_t>(0));
  s.completed(0, result(1, true), due + 3020);
  CHECK_FALSE(s.held_by(1));
  CHECK(s.newly_held(due + 3020).empty());
  REQUIRE(s.due(due + 3020) == std::optional<std::size_t>(1));
  s.completed(1, result(2, true), due + 3030);
  REQUIRE(s.due(due + 3030) == std::optional<std::size_t>(2));
  s.completed(2, result(3, true), due + 3040);
  // A later failure of 1 is reported again when 2 falls due.
  const auto next = s.due_at(0);
  REQUIRE(s.due(next) == std::optional<std::size_t>(0));
  s.completed(0, result(1, false), next + 5);
  CHECK(s.newly_held(next + 5) == std::vector<std::size_t>{1, 2});
}

TEST_CASE("a dependency that failed before a restart holds its dependent at start",
          "[engine][scheduler][dependencies]") {
  auto a = svc(1, "every 1m"), b = svc(2, "every 1m", {1});
  service_scheduler s({&a, &b}, 0);
  s.start(t0, {3, 0});
  CHECK(s.held_by(1) == std::optional<std::size_t>(0));
  // Only 2 selected (--services 2): its dependency is not run here, so
  // nothing holds it back.
  service_scheduler only({&b}, 0);
  only.start(t0);
  CHECK_FALSE(only.held_by(0));
  CHECK(only.due(only.due_at(0)) == std::optional<std::size_t>(0));
}

TEST_CASE("a busy always dependency does not starve a dependent due before it",
          "[engine][scheduler][dependencies]") {
  auto a = svc(1, "always"), b = svc(2, "every 1m", {1});
  service_scheduler s({&a, &b}, 0);
  s.start(t0);
  std::int64_t now = s.due_at(1);
  int dependent_runs = 0;
  for (int k = 0; k < 10; ++k) {
    auto i = s.due(now);
    REQUIRE(i);
    if (*i == 1)
      ++dependent_runs;
    s.completed(*i, result(s.service(*i).id, true), now + 1);
    now += 1;
  }
  CHECK(dependent_runs == 1);
}
