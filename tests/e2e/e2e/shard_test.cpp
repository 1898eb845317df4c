// End to end: one service as 4 shards in 4 concurrent processes (--shard k/4),
// through the real binaries, the reference target and each shard's own
// state (stampede log --json --shard k/4).
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace e2e;

namespace {

constexpr std::uint32_t kShards = 4;

// FNV-1a 64 written again here, from its definition (pipeline/shard.hpp):
// the test checks the contract, not the worker's own function.
std::uint32_t shard_of(const std::string& key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(h % kShards);
}

/// The live (not soft-deleted) keys of CREDITOS_IPTU: service 19's key is R_E_C_N_O_.
std::set<std::string> source_keys(const fs::path& db) {
  std::set<std::string> out;
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "SELECT R_E_C_N_O_ FROM CREDITOS_IPTU WHERE D_E_L_E_T_ <> '*'", -1,
                             &st, nullptr) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.insert(std::to_string(sqlite3_column_int64(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

std::set<std::string> live_target_keys(world& w) {
  std::set<std::string> out;
  for (auto& [key, r] : target_records(w.target->url(), 19))
    if (!r.deleted)
      out.insert(key);
  return out;
}

/// Every key in shard k's own ledger, per `stampede log --json --shard k/4`.
std::set<std::string> ledger_keys(world& w, std::uint32_t k) {
  auto r = w.stampede_plain("log --json --limit 0 --service 19 --shard " + std::to_string(k) + "/" +
                            std::to_string(kShards));
  INFO(r.out);
  REQUIRE(r.rc == 0);
  std::set<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  simdjson::dom::parser p;
  while (std::getline(in, line)) {
    std::string_view key;
    REQUIRE(p.parse(line)["key"].get(key) == simdjson::SUCCESS);
    out.insert(std::string(key));
  }
  return out;
}

/// Runs `run --once --services 19 --shard k/4` for every k at once; every exit is 0.
void run_shards(world& w, const std::string& tag) {
  std::vector<std::unique_ptr<child>> workers;
  for (std::uint32_t k = 0; k < kShards; ++k)
    workers.push_back(w.stampede_child({"run", "--once", "--services", "19", "--shard",
                                        std::to_string(k) + "/" + std::to_string(kShards)},
                                       w.tmp.path / (tag + "-" + std::to_string(k) + ".log")));
  for (std::uint32_t k = 0; k < kShards; ++k) {
    REQUIRE(workers[k]->wait(std::chrono::seconds(240)));
    INFO("shard " << k << ": " << workers[k]->output());
    CHECK(workers[k]->rc() == 0);
    CHECK(workers[k]->output().find("stampede: shard " + std::to_string(k) + "/4") !=
          std::string::npos);
  }
}

/// Each shard's ledger holds only its own keys, the shards are disjoint, and
/// together they are exactly the target's live keys and the source's.
void check_partition(world& w) {
  const auto src = source_keys(w.db);
  REQUIRE(src.size() > 100);
  std::set<std::string> all;
  std::size_t sum = 0;
  for (std::uint32_t k = 0; k < kShards; ++k) {
    const auto mine = ledger_keys(w, k);
    CHECK(mine.size() > src.size() / kShards / 2);  // every shard got a real share
    for (const auto& key : mine) {
      INFO("shard " << k << " key " << key);
      CHECK(shard_of(key) == k);
    }
    sum += mine.size();
    all.insert(mine.begin(), mine.end());
  }
  CHECK(sum == all.size());  // no key in two shards' ledgers
  CHECK(live_target_keys(w) == src);
}

} // namespace

TEST_CASE("one service as 4 shards in 4 processes delivers the source exactly once, each key by "
          "its own shard, also after a mutation") {
  world w(0.05, {{"page_size", "100"}, {"batch_records", "40"}});
  run_shards(w, "load");
  auto s = get_stats(w.target->url());
  const auto live = static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU"));
  CHECK(s.services[19].creates == live);  // each key created once: none twice, none missing
  CHECK(s.services[19].duplicates == 0);
  CHECK(s.services[19].replays == 0);
  check_partition(w);
  for (std::uint32_t k = 0; k < kShards; ++k)
    CHECK(fs::exists(w.state / ("shard-" + std::to_string(k) + "-of-4") / "CURRENT"));

  // A mutation: every change goes out once, by the shard that owns its key.
  auto rep = w.tmp.path / "m.json";
  REQUIRE(w.mutate("--count 200 --services 19 --late-share 0", rep).rc == 0);
  const auto mu = read_report(rep);
  REQUIRE(mu.total(mu.updated) > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));  // the demo's safety_delay
  run_shards(w, "cycle");
  auto s2 = get_stats(w.target->url());
  CHECK(s2.services[19].updates - s.services[19].updates == mu.total(mu.updated));
  CHECK(s2.services[19].creates - s.services[19].creates == mu.total(mu.inserted));
  CHECK(s2.services[19].deletes - s.services[19].deletes == mu.total(mu.deleted));
  CHECK(s2.services[19].duplicates == 0);
  CHECK(s2.services[19].unchanged_updates == 0);
  check_partition(w);

  // status opens the shard's own state and says which shard it is.
  auto st = w.stampede_plain("status --json --services 19 --shard 2/4");
  INFO(st.out);
  CHECK(st.rc == 0);
  CHECK(st.out.find("\"shard\":{\"index\":2,\"count\":4}") != std::string::npos);
  CHECK(st.out.find("shard-2-of-4") != std::string::npos);
}

TEST_CASE("a second worker on the same shard fails on the state lock, another shard runs beside "
          "it, and a wrong --shard is refused") {
  world w(0.02, {{"page_size", "100"}});
  // A continuous worker holds shard 1/4's state.
  auto log = w.tmp.path / "worker.log";
  auto worker = w.stampede_child({"run", "--services", "19", "--shard", "1/4"}, log);
  const auto lock = w.state / "shard-1-of-4" / "CURRENT";
  for (int i = 0; i < 600 && !fs::exists(lock); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(lock));
  REQUIRE(worker->running());

  auto same = w.stampede("run --once --services 19 --shard 1/4");
  INFO(same.out);
  CHECK(same.rc == 1);
  CHECK(same.out.find("shard-1-of-4' is locked") != std::string::npos);
  auto other = w.stampede("run --once --services 19 --shard 2/4");
  INFO(other.out);
  CHECK(other.rc == 0);
  worker->signal(SIGTERM);
  REQUIRE(worker->wait(std::chrono::seconds(60)));
  CHECK(worker->rc() == 0);

  // Bad syntax and ranges: exit 2, the message says k is 0-based.
  for (const char* bad : {"4/4", "1", "x/4", "1/0"}) {
    auto r = w.stampede(std::string("run --once --services 19 --shard ") + bad);
    INFO(bad << ": " << r.out);
    CHECK(r.rc == 2);
    CHECK(r.out.find("0-based") != std::string::npos);
  }
  // Another N on the same state dir would move keys between shards: refused.
  auto resharded = w.stampede("run --once --services 19 --shard 0/2");
  INFO(resharded.out);
  CHECK(resharded.rc == 2);
  CHECK(resharded.out.find("holds the stores of 4 shards, not 2") != std::string::npos);
  CHECK_FALSE(fs::exists(w.state / "shard-0-of-2"));
  // Without --shard, a command says how to open one of them.
  auto plain = w.stampede_plain("status --services 19");
  INFO(plain.out);
  CHECK(plain.rc == 2);
  CHECK(plain.out.find("pass --shard k/4") != std::string::npos);
}
