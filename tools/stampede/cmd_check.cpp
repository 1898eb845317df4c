#include "source/check.hpp"
#include "tools/stampede/commands.hpp"

#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

bool source_ok(const config& cfg, const std::vector<const service_config*>& svcs) {
  check_report rep;
  try {
    rep = check_source(cfg, svcs);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return false;
  }
  for (const auto& d : rep.errors)
    std::cerr << "error: " << d.to_string() << "\n";
  if (!rep.ok())
    std::cerr << fmt::format("{} source problem(s); nothing was run. `stampede check -c {}` "
                             "lists them with warnings.\n",
                             rep.errors.size(), cfg.file);
  return rep.ok();
}

int cmd_check(const common_options& o) {
  auto cfg = load_or_report(o.config_path);
  if (!cfg)
    return bad_input;
  check_report rep;
  try {
    rep = check_source(*cfg);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return bad_input;
  }
  for (const auto& d : rep.errors)
    std::cerr << "error: " << d.to_string() << "\n";
  for (auto& d : config_warnings(*cfg))  // plain http:// with credentials, user:password@
    rep.warnings.push_back(std::move(d));
  for (const auto& d : rep.warnings)
    std::cerr << "warning: " << d.to_string() << "\n";
  for (const auto& i : rep.info)
    std::cout << i << "\n";
  if (!rep.ok()) {
    std::cerr << fmt::format("{}: {} error(s), {} warning(s)\n", o.config_path, rep.errors.size(),
                             rep.warnings.size());
    return bad_input;
  }
  std::cout << fmt::format("{}: ok ({} services, {} warning(s))\n", o.config_path,
                           cfg->services.size(), rep.warnings.size());
  return ok;
}

} // namespace stampede::cli
