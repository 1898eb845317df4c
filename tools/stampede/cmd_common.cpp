#include "tools/stampede/commands.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

std::optional<config> load_or_report(const std::string& path) {
  try {
    return load_config(path);
  } catch (const config_error& e) {
    for (const auto& d : e.diagnostics)
      std::cerr << "error: " << d.to_string() << "\n";
    std::cerr << fmt::format("{} problem(s) in {}; nothing was run.\n", e.diagnostics.size(), path);
  } catch (const std::exception& e) {
    std::cerr << "error: " << path << ": " << e.what() << "\n";
  }
  return std::nullopt;
}

bool select_services(const config& cfg, const std::vector<std::uint32_t>& ids,
                     std::vector<const service_config*>& out) {
  out.clear();
  if (ids.empty()) {
    for (const auto& s : cfg.services)
      out.push_back(&s);
    return true;
  }
  for (auto id : ids) {
    const auto* s = cfg.find_service(id);
    if (!s) {
      std::string known;
      for (const auto& x : cfg.services) {
        if (!known.empty())
          known += ',';
        known += std::to_string(x.id);
      }
      std::cerr << fmt::format("error: --services: service {} is not in {} (configured: {})\n", id,
                               cfg.file, known);
      return false;
    }
    if (std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  }
  std::sort(out.begin(), out.end(),
            [](const service_config* a, const service_config* b) { return a->id < b->id; });
  return true;
}

std::unique_ptr<selection> load_selection(const common_options& o) {
  auto cfg = load_or_report(o.config_path);
  if (!cfg)
    return nullptr;
  auto sel = std::make_unique<selection>();
  sel->cfg = std::move(*cfg);
  if (!select_services(sel->cfg, o.services, sel->services))
    return nullptr;
  return sel;
}

} // namespace stampede::cli
