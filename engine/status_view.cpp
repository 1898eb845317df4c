#include "engine/status_view.hpp"

#include "engine/log_view.hpp"
#include "target/exchange.hpp"
#include "pipeline/schedule.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace stampede {

service_view make_service_view(const service_config& svc, service_state st, std::int64_t now_ms,
                               int utc_offset_minutes) {
  service_view v;
  v.svc = &svc;
  v.next_due_ms = next_due(svc.when, now_ms, utc_offset_minutes);
  const bool started = !st.checkpoint_stamp.empty() || st.initial_load_complete || st.last_run_ms;
  v.initial_load = st.initial_load_complete ? "complete" : (started ? "in progress" : "not started");
  v.not_delivered = st.counts[static_cast<std::size_t>(record_status::error)] +
                    st.counts[static_cast<std::size_t>(record_status::cancelled)];
  if (!st.newest_delivered_stamp.empty()) {
    const auto t = stamp_to_unix_ms(st.newest_delivered_stamp);
    if (t >= 0)
      v.lag_seconds = (now_ms - t) / 1000.0;
  }
  if (!st.last_error.empty() && st.consecutive_failures == 0)  // held back by a dependency
    v.failure = "not run: " + st.last_error;
  else if (!st.last_error.empty())
    v.failure = fmt::format("last cycle failed ({} in a row): {}", st.consecutive_failures,
                            st.last_error);
  v.st = std::move(st);
  return v;
}

std::vector<target_health> used_targets(const std::vector<target_health>& stored,
                                        const std::vector<const service_config*>& svcs) {
  std::vector<target_health> out;
  for (const auto* s : svcs) {
    if (std::any_of(out.begin(), out.end(), [&](const auto& t) { return t.target == s->target; }))
      continue;
    auto it = std::find_if(stored.begin(), stored.end(),
                           [&](const auto& t) { return t.target == s->target; });
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

void write_status_json(json_writer& w, const config& cfg, const std::vector<service_view>& services,
                       const std::vector<target_health>& targets, bool live) {
  w.begin_object();
  w.key("state_dir");
  w.string(cfg.state.dir);
  w.key("shard");  // --shard k/N: {"index": k, "count": N}; {0, 1} when not sharded
  w.begin_object();
  w.key("index"); w.uinteger(cfg.shard.index);
  w.key("count"); w.uinteger(cfg.shard.count);
  w.end_object();
  w.key("services");
  w.begin_array();
  for (const auto& v : services) {
    const auto& s = *v.svc;
    const auto& st = v.st;
    w.begin_object();
    w.key("id"); w.integer(s.id);
    w.key("name"); w.string(s.name);
    w.key("table"); w.string(s.table);
    w.key("schedule"); w.string(describe(s.when));
    w.key("initial_load"); w.string(v.initial_load);
    w.key("not_delivered"); w.uinteger(v.not_delivered);
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
    if (v.lag_seconds < 0) w.null(); else w.number(v.lag_seconds);
    w.key("last_run_ms"); w.integer(st.last_run_ms);
    w.key("next_run_ms"); w.integer(v.next_due_ms);
    w.key("backlog"); w.begin_object();  // source rows after the checkpoint (engine/backlog.hpp)
    w.key("measured"); w.boolean(v.backlog.measured);
    w.key("rows"); w.uinteger(v.backlog.rows);
    w.key("capped"); w.boolean(v.backlog.capped);
    w.key("oldest_age_seconds"); w.number(v.backlog.oldest_age_seconds);
    w.key("measured_ms"); w.integer(v.backlog.measured_ms);
    w.key("error"); w.string(v.backlog.error);
    w.end_object();
    if (live) {
      w.key("running"); w.boolean(v.running);
    }
    w.end_object();
  }
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
}

} // namespace stampede
