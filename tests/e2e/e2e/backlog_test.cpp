// The source backlog end to end: after an initial load no service has rows
// after its checkpoint; after `stampede-demo-db mutate`, before the next
// cycle, `stampede status` (JSON and text) counts exactly the mutated rows of
// the mutated service and ages them by the source clock; the next cycle
// empties it again.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace e2e;

namespace {

struct backlog_of {
  bool measured = false;
  std::uint64_t rows = 0;
  double age = -1;
  std::string error;
};

std::map<std::uint32_t, backlog_of> status_backlogs(world& w) {
  auto st = w.stampede_plain("status --json");
  INFO(st.out);
  REQUIRE(st.rc == 0);
  simdjson::dom::parser p;
  std::map<std::uint32_t, backlog_of> out;
  for (auto s : p.parse(st.out)["services"].get_array()) {
    backlog_of b;
    auto j = s["backlog"];
    b.measured = bool(j["measured"]);
    b.rows = std::uint64_t(j["rows"]);
    b.age = double(j["oldest_age_seconds"]);
    b.error = std::string(std::string_view(j["error"]));
    out[std::uint32_t(std::uint64_t(s["id"]))] = b;
  }
  return out;
}

} // namespace

TEST_CASE("backlog: 0 after the initial load, the mutated rows after a mutate, 0 after the next cycle") {
  world w(0.02);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto before = status_backlogs(w);
  REQUIRE(before.size() >= 20);
  for (const auto& [id, b] : before) {
    INFO("service " << id << ": " << b.error);
    CHECK(b.measured);
    CHECK(b.rows == 0);
    CHECK(b.age == 0);
  }

  const auto rep = w.tmp.path / "mutate.json";
  auto m = w.mutate("--count 40 --services 19 --late-share 0", rep);
  INFO(m.out);
  REQUIRE(m.rc == 0);
  auto mu = read_report(rep);
  const auto changed = mu.updated[19].size() + mu.inserted[19].size() + mu.deleted[19].size();
  REQUIRE(changed == 40);
  auto after = status_backlogs(w);
  for (const auto& [id, b] : after) {
    INFO("service " << id << ": " << b.error);
    CHECK(b.measured);
    CHECK(b.rows == (id == 19 ? changed : 0));
  }
  // Stamped now by the mutation: seconds old by the source clock.
  CHECK(after[19].age >= 0);
  CHECK(after[19].age < 120);
  // The text status shows it in the service's row.
  auto text = w.stampede_plain("status --services 19");
  INFO(text.out);
  REQUIRE(text.rc == 0);
  CHECK(text.out.find("backlog") != std::string::npos);
  CHECK(text.out.find(" 40 (oldest ") != std::string::npos);

  // The next cycle reads them: nothing is left.
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));  // the demo's 2 s safety delay
  r = w.stampede("run --once --services 19");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  CHECK(status_backlogs(w)[19].rows == 0);
}

TEST_CASE("backlog: status says why when the source cannot be read, and still exits 0") {
  world w(0.01);
  REQUIRE(w.stampede("run --once --services 1").rc == 0);
  fs::remove(w.db);
  auto st = w.stampede_plain("status --services 1");
  INFO(st.out);
  CHECK(st.rc == 0);
  CHECK(st.out.find("service 1: source backlog: ") != std::string::npos);
  CHECK(st.out.find(w.db.string()) != std::string::npos);
  auto b = status_backlogs(w)[1];
  CHECK_FALSE(b.measured);
  CHECK(b.error.find(w.db.string()) != std::string::npos);
}
