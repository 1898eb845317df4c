// Service dependencies (`after`): order, ties, subsets, what holds a service
// back, and the problems config loading rejects.
#include "pipeline/service_graph.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace stampede;
using ids = std::vector<std::uint32_t>;
using deps = std::map<std::uint32_t, ids>;

TEST_CASE("dependency order: dependencies first, ties by id", "[pipeline][dependencies]") {
  // 1 after 5, 3 after 1 and 2, 5 free, 2 free, 4 free.
  service_graph g(deps{{1, {5}}, {2, {}}, {3, {1, 2}}, {4, {}}, {5, {}}});
  CHECK(g.problems().empty());
  CHECK(g.order({1, 2, 3, 4, 5}) == ids{2, 4, 5, 1, 3});
  // The input order does not matter.
  CHECK(g.order({5, 4, 3, 2, 1}) == ids{2, 4, 5, 1, 3});
  // No dependencies at all: plain id order.
  service_graph flat(deps{{7, {}}, {3, {}}, {9, {}}});
  CHECK(flat.order({9, 7, 3}) == ids{3, 7, 9});
}

TEST_CASE("dependency order of a subset ignores dependencies outside it",
          "[pipeline][dependencies]") {
  service_graph g(deps{{1, {5}}, {2, {}}, {3, {1, 2}}, {4, {}}, {5, {}}});
  CHECK(g.order({3, 1}) == ids{1, 3});
  CHECK(g.order({1, 4}) == ids{1, 4});  // 5 is not selected: 1 is free
  CHECK(g.order({3}) == ids{3});
  // A chain: each waits for the one before, whatever the ids.
  service_graph chain(deps{{10, {20}}, {20, {30}}, {30, {}}});
  CHECK(chain.order({10, 20, 30}) == ids{30, 20, 10});
}

TEST_CASE("the blocker is the smallest selected dependency that failed",
          "[pipeline][dependencies]") {
  service_graph g(deps{{1, {}}, {2, {}}, {3, {2, 1}}, {4, {3}}});
  const ids all{1, 2, 3, 4};
  std::set<std::uint32_t> failed;
  auto f = [&](std::uint32_t d) { return failed.count(d) > 0; };
  CHECK_FALSE(g.blocker(3, all, f));
  failed = {2};
  CHECK(g.blocker(3, all, f) == std::optional<std::uint32_t>(2));
  failed = {1, 2};
  CHECK(g.blocker(3, all, f) == std::optional<std::uint32_t>(1));
  // Only direct dependencies: the caller marks a held service failed too.
  CHECK_FALSE(g.blocker(4, all, f));
  failed.insert(3);
  CHECK(g.blocker(4, all, f) == std::optional<std::uint32_t>(3));
  // A dependency that is not selected holds nothing back.
  CHECK_FALSE(g.blocker(3, {3, 4}, f));
}

TEST_CASE("unknown ids, duplicates and cycles are problems with the path of ids",
          "[pipeline][dependencies]") {
  SECTION("unknown id") {
    service_graph g(deps{{1, {}}, {2, {1, 7}}});
    auto ps = g.problems();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].k == dependency_problem::kind::unknown_id);
    CHECK(ps[0].service == 2);
    CHECK(ps[0].index == 1);
    CHECK(ps[0].message() == "service 7 is not defined");
  }
  SECTION("duplicate") {
    service_graph g(deps{{1, {}}, {2, {1, 1}}});
    auto ps = g.problems();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].message() == "lists service 1 twice");
    CHECK(ps[0].index == 1);
  }
  SECTION("a cycle through three services, reported once at its smallest id") {
    service_graph g(deps{{1, {}}, {2, {4}}, {3, {2}}, {4, {3}}, {5, {2}}});
    auto ps = g.problems();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].k == dependency_problem::kind::cycle);
    CHECK(ps[0].service == 2);
    CHECK(ps[0].path == ids{2, 4, 3, 2});
    CHECK(ps[0].message() == "dependency cycle: 2 -> 4 -> 3 -> 2");
    CHECK(ps[0].index == 0);  // services[2].after[0] names 4
    // Order still lists every id (the cycle's members after the rest).
    CHECK(g.order({1, 2, 3, 4, 5}) == ids{1, 2, 3, 4, 5});
  }
  SECTION("a service after itself") {
    service_graph g(deps{{1, {}}, {4, {1, 4}}});
    auto ps = g.problems();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].message() == "dependency cycle: 4 -> 4");
    CHECK(ps[0].index == 1);
  }
  SECTION("two separate cycles") {
    service_graph g(deps{{1, {2}}, {2, {1}}, {3, {4}}, {4, {3}}});
    auto ps = g.problems();
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].message() == "dependency cycle: 1 -> 2 -> 1");
    CHECK(ps[1].message() == "dependency cycle: 3 -> 4 -> 3");
  }
}
