#include "demo_config.hpp"
#include "tools/demogen/lib/demogen.hpp"
#include "tools/stampede/runner.hpp"
#include "tools/target/lib/server.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <simdjson.h>
#include <thread>

namespace fs = std::filesystem;

namespace stampede::cli {

namespace {

void print_target_stats(const std::string& stats) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(stats).get(doc) != simdjson::SUCCESS)
    return;
  auto num = [&](const char* k) -> std::uint64_t {
    std::uint64_t v = 0;
    if (doc[k].get(v) != simdjson::SUCCESS)
      return 0;
    return v;
  };
  std::cout << fmt::format(
    "\nThe reference target received: {} creates, {} updates, {} deletes, {} duplicates, {} "
    "idempotent replays, {} record errors, in {} requests.\n",
    num("creates"), num("updates"), num("deletes"), num("duplicates"), num("replays"),
    num("record_errors"), num("requests"));
}

} // namespace

int cmd_demo(const demo_options& d, const run_options& r) {
  const fs::path dir = d.dir;
  const fs::path db = dir / "erp.db";
  const fs::path state = dir / "state";
  const fs::path cfg_path = d.config_path.empty() ? dir / "stampede.toml" : fs::path(d.config_path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << fmt::format("error: cannot create {}: {}\n", dir.string(), ec.message());
    return bad_input;
  }
  if (d.config_path.empty()) {
    std::ofstream(cfg_path) << kDemoToml;
  }
  if (!d.keep) {
    fs::remove(db, ec);
    fs::remove_all(state, ec);
  }

  std::cout << fmt::format("1/5  Generating the demo ERP database {} (scale {})\n", db.string(), d.scale);
  if (!fs::exists(db)) {
    demogen::generate_options go;
    go.path = db.string();
    go.scale = d.scale;
    bool tty = ::isatty(2);
    go.progress = [tty](std::uint32_t svc, std::uint64_t done, std::uint64_t total) {
      if (tty)
        std::cerr << fmt::format("\r\033[K     service {:>2}: {}/{} rows", svc, done, total) << std::flush;
    };
    try {
      auto res = demogen::generate(go);
      std::uint64_t rows = 0;
      for (auto& [_, n] : res.rows)
        rows += n;
      if (tty)
        std::cerr << "\r\033[K";
      std::cout << fmt::format("     {} rows in {} tables, {:.2f}s\n", rows, res.rows.size(), res.seconds);
    } catch (const std::exception& e) {
      std::cerr << "error: generating " << db.string() << ": " << e.what() << "\n";
      return failed;
    }
  } else {
    std::cout << "     kept the existing database (--keep)\n";
  }

  target::options to;
  to.port = d.port;
  target::server srv(to);
  try {
    srv.start();
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: starting the reference target on 127.0.0.1:{}: {}\n"
                             "       try another port: stampede demo --port 0\n",
                             d.port, e.what());
    return failed;
  }
  const auto url = fmt::format("http://127.0.0.1:{}", srv.port());
  std::cout << fmt::format("2/5  Reference target listening on {} (async batches)\n", url);
  ::setenv("STAMPEDE_DEMO_DB", db.c_str(), 1);
  ::setenv("STAMPEDE_STATE_DIR", state.c_str(), 1);
  ::setenv("STAMPEDE_TARGET_URL", url.c_str(), 1);
  ::setenv("STAMPEDE_METRICS_LISTEN", "127.0.0.1:0", 0);  // any free port unless told
  auto cfg = load_or_report(cfg_path.string());
  if (!cfg)
    return bad_input;
  install_stop_handlers();
  std::vector<const service_config*> all;
  select_services(*cfg, {}, all);
  int rc = ok;
  std::vector<cycle_result> initial, incremental;
  try {
    progress_display progress(r.progress, *cfg);
    auto eng = make_engine(*cfg, all, progress, /*log_cycles=*/false);
    std::cout << fmt::format("3/5  Initial load (carga inicial) of {} services, in numeric order\n", all.size());
    initial = eng->run_once(all);
    rc = run_report(initial, *eng, all);
    if (g_stop.requested())
      return rc;
    std::cout << fmt::format("4/5  Changing {} rows (updates, inserts, soft deletes; some committed late)\n", d.mutate);
    demogen::mutate_options mo;
    mo.path = db.string();
    mo.count = d.mutate;
    auto rep = demogen::mutate(mo);
    std::uint64_t up = 0, ins = 0, del = 0, late = 0;
    for (auto& [_, s] : rep.services) {
      up += s.updated.size();
      ins += s.inserted.size();
      del += s.deleted.size();
      late += s.late.size();
    }
    std::cout << fmt::format("     {} updated, {} inserted, {} deleted ({} with an older, late stamp)\n",
                             up, ins, del, late);
    auto wait = cfg->source.safety_delay + std::chrono::milliseconds(200);
    std::cout << fmt::format("     waiting {:.1f}s: rows newer than the source clock minus source.safety_delay "
                             "are left for the next cycle (their transaction may not have committed)\n",
                             wait.count() / 1000.0);
    std::this_thread::sleep_for(wait);
    std::cout << "5/5  Incremental cycle\n";
    incremental = eng->run_once(all);
    const int rc2 = run_report(incremental, *eng, all);
    rc = (rc == failed || rc2 == failed) ? failed : std::max(rc, rc2);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return failed;
  }
  std::cout << "\nInitial load:";
  print_summary(initial, *cfg);
  std::cout << "\nIncremental cycle:";
  print_summary(incremental, *cfg);
  print_target_stats(srv.stats_json());
  std::string env = d.dir == "demo" ? "" : fmt::format("STAMPEDE_DEMO_DB={} STAMPEDE_STATE_DIR={} ", db.string(), state.string());
  const auto& me = d.self;
  std::cout << fmt::format(R"(
Where to look next:
  {0}{1} status -c {2}
      per service: checkpoint, initial load, counts by status, freshness lag
  {0}{1} check -c {2}
      validate a config and its source
  {1} run --help
      run once (cron) or continuously on schedules
  docs/configuration.md
      every config key; copy {2} to start your own
)",
                           env, me, cfg_path.string());
  srv.stop();
  return rc;
}

} // namespace stampede::cli
