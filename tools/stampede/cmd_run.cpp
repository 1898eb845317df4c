#include "pipeline/check.hpp"
#include "tools/stampede/runner.hpp"

#include <iostream>

namespace stampede::cli {

int cmd_run(const common_options& o, const run_options& r) {
  auto cfg = load_or_report(o.config_path);
  if (!cfg)
    return bad_input;
  std::vector<const service_config*> svcs;
  if (!select_services(*cfg, o.services, svcs))
    return bad_input;
  // The source must exist and fit the mapping before anything is written.
  {
    config selected = *cfg;  // only the services this run exports
    selected.services.clear();
    for (const auto* s : svcs)
      selected.services.push_back(*s);
    if (!source_ok(selected))
      return bad_input;
  }
  install_stop_handlers();
  try {
    runner rn(*cfg, r);
    int rc = (r.once || r.initial_load) ? rn.run_once(svcs) : rn.run_continuous(svcs);
    runner::print_summary(rn.results(), *cfg);
    if (g_stop.load())
      std::cerr << "stampede: stopped; in-flight work was drained and persisted\n";
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return failed;
  }
}

} // namespace stampede::cli
