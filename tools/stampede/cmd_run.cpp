#include "source/check.hpp"
#include "tools/stampede/runner.hpp"

#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

int cmd_run(const common_options& o, const run_options& r) {
  auto sel = load_selection(o);
  if (!sel)
    return bad_input;
  const config& cfg = sel->cfg;
  const auto& svcs = sel->services;
  // The source must exist and fit the mapping before anything is written.
  if (!source_ok(cfg, svcs))
    return bad_input;
  install_stop_handlers();
  try {
    progress_display progress(r.progress, cfg);
    auto eng = make_engine(cfg, svcs, progress);
    std::vector<cycle_result> results;
    if (r.once || r.initial_load) {
      results = eng->run_once(svcs, r.initial_load);
      if (r.initial_load)
        for (const auto& x : results)
          if (x.skipped)
            std::cerr << fmt::format("service {:>2} {:<22} initial load already complete, skipped\n",
                                     x.service, cfg.find_service(x.service)->name);
    } else {
      progress.quiet_when_idle(true);
      std::cerr << "stampede: running on schedules; SIGTERM or Ctrl-C stops after draining\n";
      results = eng->run_continuous(svcs);
    }
    print_summary(results, cfg);
    return run_report(results, *eng, svcs);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return failed;
  }
}

} // namespace stampede::cli
