// bench_ledger_bench: cost of state_store commits and lookups.
//
// Operation: fills a fresh store in a temp dir with --entries ledger entries
//   in --batch-entry commits (sync=false, the reconciler's normal mode), then
//   measures get_many of --lookup keys (existing, and never-seen keys), a few
//   sync=true commits, and a reopen. Prints one line per measurement.
// Concurrency: single thread (like one reconciler).
// Limitations: entries are synthetic (decimal recno keys, 36-char remote ids);
//   numbers depend on the disk and on what else runs on the machine.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "storage/ledger.hpp"

using namespace stampede;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t0) {
  return std::chrono::duration<double>(clk::now() - t0).count();
}

/// CPU time of this thread: on a shared machine it shows the cost of an
/// operation without the time spent waiting for a core.
double thread_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return line.substr(6);
  return "?";
}

ledger_entry make_entry(std::mt19937_64& rng, std::uint64_t recno) {
  ledger_entry e;
  e.content_hash = rng();
  char id[40];
  std::snprintf(id, sizeof id, "%08llx-0000-4000-8000-%012llx", static_cast<unsigned long long>(recno),
                static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFull));
  e.remote_id = id;
  e.status = record_status::success;
  e.attempts = 1;
  e.last_stamp = "2024-06-11 10:00:00.000";
  e.last_op = 0;
  e.updated_ms = 1718100000000 + static_cast<std::int64_t>(recno);
  return e;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"state store commit / lookup benchmark"};
  std::uint64_t entries = 2'000'000;
  std::uint32_t batch = 1000;
  std::uint32_t lookup = 5000;
  std::string dir;
  bool keep = false;
  app.add_option("--entries", entries, "ledger entries to write");
  app.add_option("--batch", batch, "entries per commit");
  app.add_option("--lookup", lookup, "keys per get_many");
  app.add_option("--dir", dir, "state dir (default: a fresh dir under /tmp, removed after)");
  app.add_flag("--keep", keep, "keep the state dir");
  CLI11_PARSE(app, argc, argv);

  bool own_dir = false;
  if (dir.empty()) {
    std::string tmpl = "/tmp/stampede-ledger-bench-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl + "/state";
    own_dir = true;
  }
  const std::uint32_t svc = 1;
  std::mt19937_64 rng(1234);

  auto store = state_store::open(dir);
  std::vector<std::pair<std::string, ledger_entry>> updates;
  updates.reserve(batch);
  service_state st;
  std::vector<double> commit_s;
  commit_s.reserve(entries / batch + 1);

  // 1. Fill: commits of `batch` entries, sync=false. Only commit() is timed.
  double total_commit = 0;
  double commit_cpu = 0;
  const auto fill_t0 = clk::now();
  for (std::uint64_t done = 0; done < entries;) {
    updates.clear();
    const std::uint64_t n = std::min<std::uint64_t>(batch, entries - done);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t recno = done + i + 1;
      updates.emplace_back(std::to_string(recno), make_entry(rng, recno));
    }
    done += n;
    st.checkpoint_recno = static_cast<std::int64_t>(done);
    st.checkpoint_stamp = "2024-06-11 10:00:00.000";
    st.counts[1] = done;
    const auto t0 = clk::now();
    const double c0 = thread_cpu();
    store->commit(svc, updates, st, false);
    commit_cpu += thread_cpu() - c0;
    const double s = seconds_since(t0);
    commit_s.push_back(s);
    total_commit += s;
  }
  const double fill_wall = seconds_since(fill_t0);
  std::printf("commit sync=false: %zu commits x %u entries: %.0f commits/s, %.0f entries/s "
              "(commit time only); mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
              "wall incl. building batches %.2f s; CPU of the committing thread %.3f ms/commit\n",
              commit_s.size(), batch, static_cast<double>(commit_s.size()) / total_commit,
              static_cast<double>(entries) / total_commit, 1e3 * total_commit / static_cast<double>(commit_s.size()),
              1e3 * pct(commit_s, 0.5), 1e3 * pct(commit_s, 0.99), 1e3 * pct(commit_s, 1.0), fill_wall,
              1e3 * commit_cpu / static_cast<double>(commit_s.size()));
  std::printf("rss after fill: %s\n", rss().c_str());

  // 2. get_many of existing keys (random) and of never-seen keys.
  auto bench_get_many = [&](const char* label, auto make_key) {
    std::vector<double> t;
    double cpu = 0;
    std::size_t found = 0;
    for (int round = 0; round < 20; ++round) {
      std::vector<std::string> owned;
      owned.reserve(lookup);
      for (std::uint32_t i = 0; i < lookup; ++i) owned.push_back(make_key());
      const std::vector<std::string_view> keys(owned.begin(), owned.end());
      const auto t0 = clk::now();
      const double c0 = thread_cpu();
      const auto got = store->get_many(svc, keys);
      cpu += thread_cpu() - c0;
      t.push_back(seconds_since(t0));
      found += static_cast<std::size_t>(std::count_if(got.begin(), got.end(), [](auto& e) { return e.has_value(); }));
    }
    std::printf("get_many %u keys (%s): mean %.2f ms, p50 %.2f ms, max %.2f ms, %.0f keys/s, "
                "CPU %.2f ms/call, found %zu/%zu\n",
                lookup, label, 1e3 * (std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size())),
                1e3 * pct(t, 0.5), 1e3 * pct(t, 1.0),
                static_cast<double>(lookup) * static_cast<double>(t.size()) / std::accumulate(t.begin(), t.end(), 0.0),
                1e3 * cpu / static_cast<double>(t.size()), found, static_cast<std::size_t>(lookup) * t.size());
  };
  std::uniform_int_distribution<std::uint64_t> any(1, entries);
  bench_get_many("random existing", [&] { return std::to_string(any(rng)); });
  std::uint64_t next_new = entries + 1;
  bench_get_many("never seen", [&] { return std::to_string(next_new++); });
  std::uint64_t seq = 1 + (entries > lookup * 20ull ? any(rng) % (entries - lookup * 20ull) : 0);
  bench_get_many("consecutive existing (a page)", [&] { return std::to_string(seq++); });

  // 3. A few durable commits.
  std::vector<double> sync_s;
  for (int i = 0; i < 20; ++i) {
    updates.clear();
    for (std::uint32_t j = 0; j < batch; ++j) {
      const std::uint64_t recno = any(rng);
      updates.emplace_back(std::to_string(recno), make_entry(rng, recno));
    }
    const auto t0 = clk::now();
    store->commit(svc, updates, st, true);
    sync_s.push_back(seconds_since(t0));
  }
  std::printf("commit sync=true: %u entries: p50 %.2f ms, max %.2f ms\n", batch, 1e3 * pct(sync_s, 0.5),
              1e3 * pct(sync_s, 1.0));

  // 4. Reopen (WAL replay of what was not flushed) and a cold get_many.
  store.reset();
  const auto r0 = clk::now();
  store = state_store::open(dir);
  std::printf("reopen: %.1f ms\n", 1e3 * seconds_since(r0));
  bench_get_many("random existing, after reopen", [&] { return std::to_string(any(rng)); });
  std::printf("rss at end: %s\n", rss().c_str());
  store.reset();

  std::error_code ec;
  std::uintmax_t bytes = 0;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir, ec))
    if (f.is_regular_file(ec)) bytes += f.file_size(ec);
  std::printf("state dir size: %.1f MB (%s)\n", static_cast<double>(bytes) / 1e6, dir.c_str());
  if (own_dir && !keep) std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
  return 0;
}
