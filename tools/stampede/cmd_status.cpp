#include "pipeline/json_writer.hpp"
#include "pipeline/schedule.hpp"
#include "storage/ledger.hpp"
#include "tools/stampede/commands.hpp"

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
  if (so.json) {
    w.end_array();
    w.end_object();
    std::cout << out << "\n";
  } else {
    for (const auto& f : failures)
      std::cout << f << "\n";
  }
  return ok;
}

} // namespace stampede::cli
