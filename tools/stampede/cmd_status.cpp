#include "engine/log_view.hpp"
#include "pipeline/exchange.hpp"
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

namespace {

std::string lag_text(double s) {
  if (s < 0)
    return "-";
  if (s < 120)
    return fmt::format("{:.0f}s", s);
  if (s < 7200)
    return fmt::format("{:.0f}m", s / 60);
  if (s < 172800)
    return fmt::format("{:.1f}h", s / 3600);
  return fmt::format("{:.1f}d", s / 86400);
}

/// The health the worker recorded for each target the selected services use
/// (a target never recorded is closed: it never failed).
std::vector<target_health> used_targets(state_store* store, const std::vector<const service_config*>& svcs) {
  std::vector<target_health> out;
  std::vector<target_health> stored;
  if (store)
    stored = store->targets();
  for (const auto* s : svcs) {
    if (std::any_of(out.begin(), out.end(), [&](const auto& t) { return t.target == s->target; }))
      continue;
    auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& t) { return t.target == s->target; });
    if (it != stored.end()) {
      out.push_back(*it);
    } else {
      target_health t;
      t.target = s->target;
      out.push_back(std::move(t));
    }
  }
  return out;
}

std::string breaker_name(std::uint8_t b) {
  return std::string(to_string(static_cast<breaker_state>(b)));
}

std::string target_line(const target_health& t) {
  std::string line = fmt::format("target {}: breaker {}", t.target, breaker_name(t.breaker));
  if (t.changed_ms)
    line += fmt::format(" since {}", iso_utc(t.changed_ms));
  if (t.breaker == static_cast<std::uint8_t>(breaker_state::open)) {
    line += fmt::format(" ({} target-level failures in a row", t.consecutive_failures);
    if (t.retry_at_ms)
      line += fmt::format("; one batch probes it after {}", iso_utc(t.retry_at_ms));
    line += ")";
  }
  if (!t.last_failure.empty())
    line += fmt::format("; last failure: {}", t.last_failure);
  return line;
}

} // namespace

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
  std::string out;
  json_writer w(out);
  std::vector<std::string> failures;
  if (so.json) {
    w.begin_object();
    w.key("state_dir");
    w.string(cfg->state.dir);
    w.key("services");
    w.begin_array();
  } else {
    if (!store)
      std::cout << fmt::format("no state yet in {}: run `stampede run -c {}` first\n",
                               cfg->state.dir, o.config_path);
    std::cout << fmt::format("{:>3} {:<24} {:<20} {:<27} {:>8} {:>9} {:>7} {:>9} {:>8}  {}\n", "svc",
                             "name", "initial load", "checkpoint (stamp, recno)", "pending",
                             "success", "error", "cancelled", "lag", "schedule");
  }
  for (const auto* s : svcs) {
    service_state st;
    if (store)
      st = store->load_state(s->id);
    bool started = !st.checkpoint_stamp.empty() || st.initial_load_complete || st.last_run_ms;
    std::string il = st.initial_load_complete ? "complete" : (started ? "in progress" : "not started");
    // Errors beside the load state: "complete" alone means every row was delivered.
    const auto not_ok = st.counts[static_cast<std::size_t>(record_status::error)] +
                        st.counts[static_cast<std::size_t>(record_status::cancelled)];
    const std::string il_text = not_ok ? fmt::format("{} ({} err)", il, not_ok) : il;
    if (!st.last_error.empty() && st.consecutive_failures == 0)  // held back by a dependency
      failures.push_back(fmt::format("service {} {}: not run: {}", s->id, s->name, st.last_error));
    else if (!st.last_error.empty())
      failures.push_back(fmt::format("service {} {}: last cycle failed ({} in a row): {}", s->id,
                                     s->name, st.consecutive_failures, st.last_error));
    double lag = -1;
    if (!st.newest_delivered_stamp.empty()) {
      auto t = stamp_to_unix_ms(st.newest_delivered_stamp);
      if (t >= 0)
        lag = (now - t) / 1000.0;
    }
    if (so.json) {
      w.begin_object();
      w.key("id"); w.integer(s->id);
      w.key("name"); w.string(s->name);
      w.key("table"); w.string(s->table);
      w.key("schedule"); w.string(describe(s->when));
      w.key("initial_load"); w.string(il);
      w.key("not_delivered"); w.uinteger(not_ok);
      w.key("last_error"); w.string(st.last_error);
      w.key("last_error_ms"); w.integer(st.last_error_ms);
      w.key("consecutive_failures"); w.uinteger(st.consecutive_failures);
      w.key("checkpoint"); w.begin_object();
      w.key("stamp"); w.string(st.checkpoint_stamp);
      w.key("recno"); w.integer(st.checkpoint_recno);
      w.end_object();
      w.key("counts"); w.begin_object();
      for (int i = 0; i < 4; ++i) {
        w.key(to_string(static_cast<record_status>(i)));
        w.uinteger(st.counts[i]);
      }
      w.end_object();
      w.key("created"); w.uinteger(st.created);
      w.key("updated"); w.uinteger(st.updated);
      w.key("deleted"); w.uinteger(st.deleted);
      w.key("failed"); w.uinteger(st.failed);
      w.key("newest_delivered_stamp"); w.string(st.newest_delivered_stamp);
      w.key("freshness_lag_seconds");
      if (lag < 0) w.null(); else w.number(lag);
      w.key("last_run_ms"); w.integer(st.last_run_ms);
      w.end_object();
    } else {
      auto cp = st.checkpoint_stamp.empty() ? std::string("-")
                                            : fmt::format("{} #{}", st.checkpoint_stamp, st.checkpoint_recno);
      std::cout << fmt::format("{:>3} {:<24} {:<20} {:<27} {:>8} {:>9} {:>7} {:>9} {:>8}  {}\n", s->id,
                               s->name.substr(0, 24), il_text, cp, st.counts[0], st.counts[1],
                               st.counts[2], st.counts[3], lag_text(lag), describe(s->when));
    }
  }
  std::vector<target_health> targets;
  try {
    targets = used_targets(store.get(), svcs);
  } catch (const std::exception& e) {
    std::cerr << "error: state store " << cfg->state.dir << ": " << e.what() << "\n";
    return failed;
  }
  if (so.json) {
    w.end_array();
    w.key("targets");
    w.begin_array();
    for (const auto& t : targets) {
      w.begin_object();
      w.key("name"); w.string(t.target);
      w.key("breaker"); w.string(breaker_name(t.breaker));
      w.key("consecutive_failures"); w.uinteger(t.consecutive_failures);
      w.key("last_failure"); w.string(t.last_failure);
      w.key("changed_ms"); w.integer(t.changed_ms);
      w.key("retry_at_ms"); w.integer(t.retry_at_ms);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    std::cout << out << "\n";
  } else {
    for (const auto& t : targets)
      std::cout << target_line(t) << "\n";
    for (const auto& f : failures)
      std::cout << f << "\n";
  }
  return ok;
}

} // namespace stampede::cli
