#include "tools/stampede/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
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

namespace {

/// "shard-K-of-N" -> N (0 when `name` is not a shard directory).
std::uint32_t shards_of_dir(const std::string& name) {
  unsigned k = 0, n = 0;
  char tail = 0;
  if (std::sscanf(name.c_str(), "shard-%u-of-%u%c", &k, &n, &tail) != 2)
    return 0;
  return n;
}

/// See load_or_report(common_options): "" when `cfg.state.dir` fits `s`.
std::string shard_layout_problem(const config& cfg, const shard_spec& s) {
  namespace fs = std::filesystem;
  const std::string& base = cfg.state.dir;
  std::error_code ec;
  if (!fs::is_directory(base, ec))
    return {};
  std::uint32_t other = 0;  // N of shard directories found, if not ours
  bool any = false;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const auto n = shards_of_dir(e.path().filename().string());
    if (n == 0)
      continue;
    any = true;
    if (n != s.count)
      other = n;
  }
  if (s.sharded()) {
    if (fs::exists(fs::path(base) / "CURRENT", ec))
      return fmt::format("state.dir '{}' ({}) holds an unsharded store: shard {} would export "
                         "its rows again under a new ledger. Hint: run this state dir without "
                         "--shard, or give the shards a new state.dir and reload them "
                         "(docs/operations.md, Scale-out by shard)",
                         base, cfg.file, to_string(s));
    if (other != 0)
      return fmt::format("state.dir '{}' ({}) holds the stores of {} shards, not {}: changing N "
                         "moves keys between shards, which would export them twice. Hint: "
                         "keep --shard k/{}, or reload into a new state.dir (docs/operations.md, "
                         "Scale-out by shard)",
                         base, cfg.file, other, s.count, other);
    return {};
  }
  if (any)
    return fmt::format("state.dir '{}' ({}) holds the stores of {} shards (shard-K-of-{}/). "
                       "Hint: pass --shard k/{} to open one of them",
                       base, cfg.file, other, other, other);
  return {};
}

} // namespace

std::optional<config> load_or_report(const common_options& o) {
  shard_spec spec;
  if (!o.shard.empty())
    if (auto err = parse_shard(o.shard, spec); !err.empty()) {
      std::cerr << "error: --shard " << err << "\n";
      return std::nullopt;
    }
  auto cfg = load_or_report(o.config_path);
  if (!cfg)
    return std::nullopt;
  if (auto err = shard_layout_problem(*cfg, spec); !err.empty()) {
    std::cerr << "error: " << err << "\n";
    return std::nullopt;
  }
  cfg->shard = spec;
  cfg->state.dir = shard_dir(cfg->state.dir, spec);
  return cfg;
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
  auto cfg = load_or_report(o);
  if (!cfg)
    return nullptr;
  auto sel = std::make_unique<selection>();
  sel->cfg = std::move(*cfg);
  if (!select_services(sel->cfg, o.services, sel->services))
    return nullptr;
  return sel;
}

} // namespace stampede::cli
