// End to end: random SIGKILLs of the worker during an initial load and during
// incremental cycles, then a run to completion. Asserted through the
// reference target: every source row is there with its current content (the
// same records a clean delivery of the final database produces), and every
// repeated delivery carried the idempotency key of its first delivery
// (replays, never duplicates or unchanged updates).
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace e2e;

namespace {

// Small pages and batches, a target that holds each answer 40 ms after
// applying it: many batches are applied at the target but not yet
// acknowledged when the kill lands.
const std::map<std::string, std::string> kCrashCfg{{"page_size", "100"},
                                                   {"batch_records", "25"},
                                                   {"retry_backoff_base", "\"1ms\""},
                                                   {"retry_backoff_max", "\"5ms\""}};
const std::vector<std::string> kSlowTarget{"--latency-ms", "40"};

struct kill_round {
  int kills = 0;
  bool finished = false;  // a run ended by itself (rc in `rc`)
  int rc = -1;
  std::string out;
};

/// Starts `stampede run --once`, waits until the target receives records
/// from it, lets it run a random 0-250 ms more, SIGKILLs it; again until
/// `want` kills landed or a run finishes by itself.
kill_round kill_while_delivering(world& w, int want, std::mt19937& rng) {
  kill_round k;
  std::uniform_int_distribution<int> extra_ms(0, 250);
  auto log = w.tmp.path / "kills.log";
  while (k.kills < want) {
    const auto before = get_stats(w.target->url()).records;
    auto c = w.stampede_child({"run", "--once"}, log);
    bool delivering = false;
    for (int i = 0; i < 6000 && c->running() && !delivering; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      delivering = get_stats(w.target->url()).records > before;
    }
    if (delivering) {
      std::this_thread::sleep_for(std::chrono::milliseconds(extra_ms(rng)));
      c->signal(SIGKILL);
    }
    REQUIRE(c->wait(std::chrono::seconds(30)));
    if (c->killed_by(SIGKILL)) {
      ++k.kills;
      continue;
    }
    k.finished = true;
    k.rc = c->rc();
    k.out = c->output();
    break;
  }
  return k;
}

/// The live records of a service at a target: key -> data.
std::map<std::string, std::string> live_records(const std::string& base, std::uint32_t service) {
  std::map<std::string, std::string> out;
  for (auto& [key, r] : target_records(base, service))
    if (!r.deleted)
      out.emplace(key, r.data);
  return out;
}

} // namespace

TEST_CASE("crashes: random SIGKILLs during the initial load and incremental cycles lose nothing "
          "and repeat nothing under a new idempotency key", "[crash]") {
  const std::uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  world w(0.1, kCrashCfg, kSlowTarget);

  // 1. The initial load of every service, killed at least 10 times.
  auto load = kill_while_delivering(w, 10, rng);
  INFO(load.out);
  REQUIRE(load.kills >= 10);
  REQUIRE_FALSE(load.finished);  // every kill landed inside the initial load
  auto done = w.stampede("run --once");
  INFO(done.out);
  REQUIRE(done.rc == 0);

  // 2. Incremental cycles (fresh changes each time one completes), killed at
  //    least 10 times in all.
  int incremental_kills = 0, mutations = 0;
  while (incremental_kills < 10) {
    REQUIRE(mutations < 8);
    auto rep = w.tmp.path / ("mutate-" + std::to_string(mutations) + ".json");
    auto m = w.mutate("--count 3000 --late-share 0 --seed " + std::to_string(rng() % 100000), rep);
    INFO(m.out);
    REQUIRE(m.rc == 0);
    ++mutations;
    std::this_thread::sleep_for(std::chrono::milliseconds(2300));  // source.safety_delay
    auto round = kill_while_delivering(w, 10 - incremental_kills, rng);
    INFO(round.out);
    incremental_kills += round.kills;
    if (round.finished)
      REQUIRE(round.rc == 0);
  }
  auto last = w.stampede("run --once");
  INFO(last.out);
  REQUIRE(last.rc == 0);

  // 3. A clean delivery of the same final database to a second target.
  temp_dir clean_dir;
  target_process clean(clean_dir.path);
  ::setenv("STAMPEDE_TARGET_URL", clean.url().c_str(), 1);
  ::setenv("STAMPEDE_STATE_DIR", (clean_dir.path / "state").c_str(), 1);
  auto ref = w.stampede("run --once");
  ::setenv("STAMPEDE_TARGET_URL", w.target->url().c_str(), 1);
  ::setenv("STAMPEDE_STATE_DIR", w.state.c_str(), 1);
  INFO(ref.out);
  REQUIRE(ref.rc == 0);

  auto s = get_stats(w.target->url());
  std::uint64_t live_total = 0;
  for (std::uint32_t id = 1; id <= 22; ++id) {
    INFO("service " << id);
    auto got = live_records(w.target->url(), id);
    auto want = live_records(clean.url(), id);
    CHECK(got.size() == want.size());
    std::size_t differing = 0, missing = 0;
    for (auto& [key, data] : want) {
      auto it = got.find(key);
      if (it == got.end())
        ++missing;
      else if (it->second != data)
        ++differing;
    }
    CHECK(missing == 0);
    CHECK(differing == 0);  // every row with its current content
    CHECK(s.services[id].live_keys == got.size());
    live_total += got.size();
  }
  // The source itself agrees on the count of live rows.
  std::int64_t source_live = 0;
  for (auto& t : {"CONTRIBUINTES", "CREDITOS_IPTU"})
    source_live += w.live_rows(t);
  CHECK(source_live > 0);
  CHECK(s.services[1].live_keys == static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(s.services[19].live_keys == static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU")));
  CHECK(live_total > 5000);

  // Repeated deliveries happened (the kills landed between a delivery and
  // its acknowledgement), and every one carried its first delivery's key.
  INFO("replays " << s.replays << " duplicates " << s.duplicates << " unchanged updates "
                  << s.unchanged_updates);
  CHECK(s.replays > 0);
  CHECK(s.duplicates == 0);
  CHECK(s.unchanged_updates == 0);
}
