#include "engine/backlog.hpp"
#include "engine/log_view.hpp"
#include "engine/status_view.hpp"
#include "target/exchange.hpp"
#include "pipeline/json_writer.hpp"
#include "pipeline/schedule.hpp"
#include "storage/ledger.hpp"
#include "tools/stampede/commands.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

int cmd_status(const common_options& o, const status_options& so) {
  auto sel = load_selection(o);
  if (!sel)
    return bad_input;
  const config* cfg = &sel->cfg;
  const auto& svcs = sel->services;
  std::unique_ptr<state_store> store;
  if (std::filesystem::exists(cfg->state.dir)) {
    try {
      store = state_store::open(cfg->state.dir, /*read_only=*/true);
    } catch (const std::exception& e) {
      std::cerr << "error: state store " << cfg->state.dir << ": " << e.what() << "\n";
      return failed;
    }
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  std::vector<service_view> views;
  std::vector<target_health> targets;
  try {
    for (const auto* s : svcs)
      views.push_back(make_service_view(*s, store ? store->load_state(s->id) : service_state{}, now,
                                        cfg->source.utc_offset_minutes));
    targets = used_targets(store ? store->targets() : std::vector<target_health>{}, svcs);
  } catch (const std::exception& e) {
    std::cerr << "error: state store " << cfg->state.dir << ": " << e.what() << "\n";
    return failed;
  }
  // The source backlog, measured now (read-only, one connection, each count
  // bounded by backlog_cap); a source that cannot be read leaves the rest of
  // the status as it is and says why per service.
  {
    std::unique_ptr<source> src;
    std::string open_error;
    try {
      src = source::open(cfg->source);
    } catch (const std::exception& e) {
      open_error = e.what();
    }
    for (auto& v : views) {
      if (src) {
        v.backlog = measure_backlog(*src, *cfg, *v.svc, v.st, now);
      } else {
        v.backlog.measured_ms = now;
        v.backlog.error = fmt::format("service {}: source backlog: {}", v.svc->id, open_error);
      }
    }
  }
  if (so.json) {
    std::string out;
    json_writer w(out);
    write_status_json(w, *cfg, views, targets, /*live=*/false);
    std::cout << out << "\n";
    return ok;
  }
  if (cfg->shard.sharded())
    std::cout << fmt::format("shard {} (rows whose key hashes to {} of {}), state in {}\n",
                             to_string(cfg->shard), cfg->shard.index, cfg->shard.count,
                             cfg->state.dir);
  if (!store)
    std::cout << fmt::format("no state yet in {}: run `stampede run -c {}` first\n", cfg->state.dir,
                             o.config_path);
  std::cout << fmt::format("{:>3} {:<24} {:<20} {:<27} {:>8} {:>9} {:>7} {:>9} {:>8} {:>18}  {:<19}  {:<19}  {}\n",
                           "svc", "name", "initial load", "checkpoint (stamp, recno)", "pending",
                           "success", "error", "cancelled", "lag", "backlog", "last run (UTC)",
                           "next run (UTC)", "schedule");
  for (const auto& v : views) {
    const auto& st = v.st;
    const auto* s = v.svc;
    // Errors beside the load state: "complete" alone means every row was delivered.
    const std::string il_text =
        v.not_delivered ? fmt::format("{} ({} err)", v.initial_load, v.not_delivered) : v.initial_load;
    auto cp = st.checkpoint_stamp.empty() ? std::string("-")
                                          : fmt::format("{} #{}", st.checkpoint_stamp, st.checkpoint_recno);
    std::cout << fmt::format("{:>3} {:<24} {:<20} {:<27} {:>8} {:>9} {:>7} {:>9} {:>8} {:>18}  {:<19}  {:<19}  {}\n",
                             s->id, s->name.substr(0, 24), il_text, cp, st.counts[0], st.counts[1],
                             st.counts[2], st.counts[3], lag_text(v.lag_seconds),
                             backlog_text(v.backlog), short_utc(st.last_run_ms),
                             short_utc(v.next_due_ms), describe(s->when));
  }
  for (const auto& t : targets)
    std::cout << target_line(t) << "\n";
  for (const auto& v : views)
    if (!v.failure.empty())
      std::cout << fmt::format("service {} {}: {}\n", v.svc->id, v.svc->name, v.failure);
  for (const auto& v : views)
    if (!v.backlog.error.empty())
      std::cout << v.backlog.error << "\n";
  return ok;
}

} // namespace stampede::cli
