#include "pipeline/check.hpp"
#include "tools/stampede/runner.hpp"

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
    runner rn(cfg, r);
    int rc = (r.once || r.initial_load) ? rn.run_once(svcs) : rn.run_continuous(svcs);
    runner::print_summary(rn.results(), cfg);
    if (g_stop.load())
      std::cerr << "stampede: stopped; in-flight work was drained and persisted\n";
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return failed;
  }
}

} // namespace stampede::cli
