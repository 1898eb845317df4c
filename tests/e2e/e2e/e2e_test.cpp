// End to end: the stampede, stampede-demo-db and stampede-target binaries,
// every assertion made through the target's /stats and the source database.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {

// Small pages and batches that do not divide each other: pages split inside
// ties on one stamp, and batches split inside pages.
const std::map<std::string, std::string> kSmallPages{
  {"page_size", "70"}, {"batch_records", "30"}};

struct service_rows {
  std::uint32_t id;
  std::string table;
};

std::vector<service_rows> demo_services(const fs::path& cfg) {
  // id and table lines of the config, in order.
  std::vector<service_rows> out;
  std::istringstream in(read_file(cfg));
  std::string line;
  std::uint32_t id = 0;
  while (std::getline(in, line)) {
    if (line.rfind("id = ", 0) == 0)
      id = static_cast<std::uint32_t>(std::stoul(line.substr(5)));
    if (line.rfind("table = \"", 0) == 0 && id)
      out.push_back({id, line.substr(9, line.find('"', 9) - 9)});
  }
  return out;
}

void wait_safety_delay() {
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
}

std::string checkpoint_of(world& w, std::uint32_t svc) {
  auto st = w.stampede_plain("status --json --services " + std::to_string(svc));
  REQUIRE(st.rc == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(st.out);
  std::string_view stamp = doc["services"].at(0)["checkpoint"]["stamp"];
  return std::string(stamp);
}

} // namespace

TEST_CASE("initial load delivers every live row of every service exactly once") {
  world w(0.05, kSmallPages);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto s = get_stats(w.target->url());
  auto svcs = demo_services(w.cfg);
  REQUIRE(svcs.size() == 22);
  std::uint64_t live_total = 0;
  for (auto& svc : svcs) {
    auto live = static_cast<std::uint64_t>(w.live_rows(svc.table));
    INFO("service " << svc.id << " table " << svc.table);
    CHECK(live > 0);
    CHECK(s.services[svc.id].live_keys == live);
    CHECK(s.services[svc.id].creates == live);
    CHECK(s.services[svc.id].updates == 0);
    CHECK(s.services[svc.id].duplicates == 0);
    CHECK(s.services[svc.id].record_errors == 0);
    live_total += live;
  }
  CHECK(s.creates == live_total);

  // A second cycle finds nothing new: nothing goes out again.
  auto again = w.stampede("run --once");
  REQUIRE(again.rc == 0);
  auto s2 = get_stats(w.target->url());
  CHECK(s2.creates == s.creates);
  CHECK(s2.updates == 0);
  CHECK(s2.deletes == 0);
  CHECK(s2.duplicates == 0);

  // status reports every service loaded, with success counts = live rows.
  auto st = w.stampede_plain("status --json");
  REQUIRE(st.rc == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(st.out);
  std::uint64_t success = 0;
  for (auto e : doc["services"].get_array()) {
    CHECK(std::string_view(e["initial_load"]) == "complete");
    success += std::uint64_t(e["counts"]["success"]);
  }
  CHECK(success == live_total);
}

TEST_CASE("after a mutate exactly the changed rows go out: updates as updates, deletes as deletes") {
  world w(0.05, kSmallPages);
  REQUIRE(w.stampede("run --once").rc == 0);
  auto before = get_stats(w.target->url());
  auto rep = w.tmp.path / "mutate.json";
  auto m = w.mutate("--count 300", rep);
  INFO(m.out);
  REQUIRE(m.rc == 0);
  auto mu = read_report(rep);
  REQUIRE(mu.total(mu.updated) + mu.total(mu.inserted) + mu.total(mu.deleted) == 300);
  wait_safety_delay();
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto after = get_stats(w.target->url());
  CHECK(after.creates - before.creates == mu.total(mu.inserted));
  CHECK(after.updates - before.updates == mu.total(mu.updated));
  CHECK(after.deletes - before.deletes == mu.total(mu.deleted));
  CHECK(after.duplicates == 0);
  for (auto& [id, keys] : mu.updated) {
    INFO("service " << id);
    CHECK(after.services[id].updates - before.services[id].updates == keys.size());
    // Each updated record is at version 2 at the target.
    for (auto k : keys) {
      auto body = http("GET", w.target->url() + "/services/" + std::to_string(id) + "/keys/" +
                                std::to_string(k));
      CHECK(body.find("\"version\":2") != std::string::npos);
    }
  }
  for (auto& [id, keys] : mu.deleted) {
    INFO("service " << id);
    CHECK(after.services[id].deletes - before.services[id].deletes == keys.size());
  }
  // And nothing more on the next cycle.
  REQUIRE(w.stampede("run --once").rc == 0);
  auto last = get_stats(w.target->url());
  CHECK(last.creates == after.creates);
  CHECK(last.updates == after.updates);
  CHECK(last.deletes == after.deletes);
}

TEST_CASE("ties on one stamp lose nothing, whatever the page boundaries") {
  world w(0.05, {{"page_size", "7"}, {"batch_records", "3"}});
  // Every row of two services on one single stamp: all page boundaries fall
  // inside the tie.
  for (auto table : {"CREDITOS_IPTU", "CONTRIBUINTES"})
    sql_exec(w.db, std::string("UPDATE ") + table + " SET S_T_A_M_P_ = '2026-01-01 00:00:00.000'");
  auto r = w.stampede("run --once --services 1,19");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto s = get_stats(w.target->url());
  CHECK(s.services[1].live_keys == static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(s.services[19].live_keys == static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU")));
  CHECK(s.services[19].creates == static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU")));
  CHECK(s.duplicates == 0);
}

namespace {

/// Runs initial load + one fresh mutate cycle, then a late mutate whose
/// stamps fall behind the checkpoint; returns (late report, stats before, after).
std::tuple<mutation, stats, stats> late_commit_scenario(world& w) {
  REQUIRE(w.stampede("run --once --services 19").rc == 0);
  auto rep1 = w.tmp.path / "m1.json";
  REQUIRE(w.mutate("--count 50 --services 19 --late-share 0", rep1).rc == 0);
  wait_safety_delay();
  REQUIRE(w.stampede("run --once --services 19").rc == 0);
  auto cp = checkpoint_of(w, 19);
  auto before = get_stats(w.target->url());
  auto rep2 = w.tmp.path / "m2.json";
  auto m = w.mutate("--count 40 --services 19 --late-share 1 --late-by 2m", rep2);
  INFO(m.out);
  REQUIRE(m.rc == 0);
  auto mu = read_report(rep2);
  // The premise: these rows committed late, with a stamp behind the checkpoint.
  REQUIRE(!mu.late_stamp.empty());
  REQUIRE(mu.late_stamp < cp);
  wait_safety_delay();
  auto r = w.stampede("run --once --services 19");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  return {mu, before, get_stats(w.target->url())};
}

} // namespace

TEST_CASE("late commits within the lookback are caught, without duplicates") {
  world w(0.05, kSmallPages);  // lookback 10m (demo default)
  auto [mu, before, after] = late_commit_scenario(w);
  CHECK(after.services[19].updates - before.services[19].updates == mu.total(mu.updated));
  CHECK(after.services[19].creates - before.services[19].creates == mu.total(mu.inserted));
  CHECK(after.services[19].deletes - before.services[19].deletes == mu.total(mu.deleted));
  CHECK(after.duplicates == 0);
  CHECK(after.replays == 0);
}

TEST_CASE("control: without a lookback the same late commits are missed") {
  auto cfg = kSmallPages;
  cfg["lookback"] = "\"1ms\"";
  world w(0.05, cfg);
  auto [mu, before, after] = late_commit_scenario(w);
  auto changed = mu.total(mu.updated) + mu.total(mu.inserted) + mu.total(mu.deleted);
  REQUIRE(changed == 40);
  auto seen = (after.services[19].updates - before.services[19].updates) +
              (after.services[19].creates - before.services[19].creates) +
              (after.services[19].deletes - before.services[19].deletes);
  CHECK(seen < changed);
}

TEST_CASE("check accepts the demo config, run refuses a broken one with exit 2 and writes nothing") {
  world w(0.01);
  auto ok = w.stampede_plain("check");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  auto text = read_file(w.cfg);
  auto pos = text.find("queue_batches =");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 13, "queue_batchez");
  std::ofstream(w.cfg) << text;
  auto bad = w.stampede("run --once");
  CHECK(bad.rc == 2);
  CHECK(bad.out.find("stampede.toml:") != std::string::npos);
  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target->url()).creates == 0);
}

TEST_CASE("an unknown --services id is bad input: exit 2, the configured ids listed, nothing written") {
  world w(0.01);
  auto r = w.stampede("run --once --services 19,99");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find("service 99 is not in") != std::string::npos);
  CHECK(r.out.find("1,2,3") != std::string::npos);
  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target->url()).creates == 0);
}

TEST_CASE("run with a missing source database exits 2, names the file and writes nothing") {
  world w(0.01);
  fs::remove(w.db);
  auto r = w.stampede("run --once");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find(w.db.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(w.db));
  CHECK_FALSE(fs::exists(w.state));
  // status on a config whose state does not exist yet says so, exit 0.
  auto st = w.stampede_plain("status");
  CHECK(st.rc == 0);
  CHECK(st.out.find("no state yet") != std::string::npos);
}

TEST_CASE("stampede demo runs the whole tour: initial load, mutate, incremental cycle") {
  temp_dir tmp;
  auto dir = tmp.path / "demo";
  auto r = run(bin("tools/stampede/stampede") + " demo --port 0 --scale 0.05 --mutate 200 --dir " +
               dir.string() + " --progress never");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  CHECK(fs::exists(dir / "erp.db"));
  CHECK(fs::exists(dir / "stampede.toml"));
  CHECK(r.out.find("5/5  Incremental cycle") != std::string::npos);
  CHECK(r.out.find("Where to look next") != std::string::npos);
  // The target's own count, printed by the demo: 200 changes, none lost.
  auto pos = r.out.find("The reference target received: ");
  REQUIRE(pos != std::string::npos);
  unsigned long creates = 0, updates = 0, deletes = 0;
  REQUIRE(std::sscanf(r.out.c_str() + pos, "The reference target received: %lu creates, %lu updates, %lu deletes",
                      &creates, &updates, &deletes) == 3);
  // ...equals what the demo says it changed ("N updated, N inserted, N deleted").
  auto mpos = r.out.find(" updated, ");
  REQUIRE(mpos != std::string::npos);
  auto line_start = r.out.rfind('\n', mpos) + 1;
  unsigned long m_up = 0, m_ins = 0, m_del = 0;
  REQUIRE(std::sscanf(r.out.c_str() + line_start, " %lu updated, %lu inserted, %lu deleted", &m_up,
                      &m_ins, &m_del) == 3);
  CHECK(m_up + m_ins + m_del == 200);
  CHECK(updates == m_up);
  CHECK(deletes == m_del);
  // Status afterwards reads the same state: every service loaded.
  ::setenv("STAMPEDE_DEMO_DB", (dir / "erp.db").c_str(), 1);
  ::setenv("STAMPEDE_STATE_DIR", (dir / "state").c_str(), 1);
  auto st = run(bin("tools/stampede/stampede") + " status --json -c " + (dir / "stampede.toml").string());
  REQUIRE(st.rc == 0);
  CHECK(st.out.find("\"initial_load\":\"not started\"") == std::string::npos);
  CHECK(st.out.find("\"initial_load\":\"complete\"") != std::string::npos);
}

TEST_CASE("SIGTERM mid-load drains, persists and exits 0, and the next run resumes without duplicates") {
  // A slow target (50 ms per request) keeps the initial load busy long enough.
  world w(0.1, {{"batch_records", "50"}, {"page_size", "100"}}, {"--latency-ms", "50"});
  ::setenv("STAMPEDE_METRICS_LISTEN", "127.0.0.1:0", 1);
  auto log = w.tmp.path / "run.log";
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string b = bin("tools/stampede/stampede"), c = w.cfg.string();
    ::execl(b.c_str(), b.c_str(), "run", "--services", "19", "-c", c.c_str(), "--progress", "never",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until records are arriving, then scrape the metrics endpoint.
  std::uint64_t seen = 0;
  for (int i = 0; i < 200 && seen < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = get_stats(w.target->url()).services[19].creates;
  }
  REQUIRE(seen >= 500);
  auto text = read_file(log);
  auto at = text.find("metrics on http://");
  REQUIRE(at != std::string::npos);
  auto url = text.substr(at + 11, text.find('\n', at) - at - 11);
  auto metrics = http("GET", url);
  CHECK(metrics.find("stampede_extractor_rows_read_total{service=\"19\"}") != std::string::npos);
  CHECK(metrics.find("stampede_sender_records_sent_total{service=\"19\"}") != std::string::npos);

  auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(read_file(log));
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  // The stop is announced at once, not after the drain.
  CHECK(read_file(log).find("stampede: stop requested: finishing the work in flight") !=
        std::string::npos);
  CHECK(secs < 30.0);  // engine.drain_timeout bounds it
  auto mid = get_stats(w.target->url()).services[19];
  auto live = static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU"));
  REQUIRE(mid.creates < live);  // it really was interrupted

  // The initial load resumes from the durable checkpoint.
  auto r = w.stampede("run --once --services 19");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto end = get_stats(w.target->url()).services[19];
  CHECK(end.live_keys == live);
  CHECK(end.creates == live);
  CHECK(end.duplicates == 0);
  auto status = w.stampede_plain("status --json --services 19");
  CHECK(status.out.find("\"initial_load\":\"complete\"") != std::string::npos);
}

TEST_CASE("stampede --version names this build and its libraries, exit 0, no config needed") {
  auto r = run(bin("tools/stampede/stampede") + " --version");
  INFO(r.out);
  CHECK(r.rc == 0);
  CHECK_THAT(r.out, Catch::StartsWith("stampede 0.") && Catch::Contains(" build)") &&
                        Catch::Contains("CAF 0.17.6") && Catch::Contains("RocksDB ") &&
                        Catch::Contains("SQLite 3.") && Catch::Contains("libcurl "));
  auto h = run(bin("tools/stampede/stampede") + " --help");
  CHECK_THAT(h.out, Catch::Contains("--version"));
}
