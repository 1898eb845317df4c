// What `stampede status` and the web monitor's overview show about each
// service and target, computed once so both always agree.
//
// Operation: `service_view`/`target_view` turn a stored service_state /
//   target_health into the figures an operator reads (initial load state,
//   records not delivered, freshness lag, the failure line); `used_targets`
//   picks the targets the chosen services send to (a target with no recorded
//   health is closed); `write_status_json` writes the document of
//   `status --json` (and the web page's /api/status), plus the live fields
//   of a running worker (running, next run) when they are given.
// Concurrency: plain functions.
// Limitations: the lag is measured against the delivered stamp read as UTC
//   wall time (the source's time zone applied by the stamp's own offset).
#pragma once

#include "engine/backlog.hpp"
#include "pipeline/config.hpp"
#include "pipeline/json_writer.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stampede {

struct service_view {
  const service_config* svc = nullptr;
  service_state st;
  std::string initial_load;          // "complete" | "in progress" | "not started"
  std::uint64_t not_delivered = 0;   // records in Error + Cancelled
  double lag_seconds = -1;           // freshness lag; < 0 = nothing delivered yet
  std::string failure;               // "" | "not run: ..." | "last cycle failed (N in a row): ..."
  // From the store alone, the schedule's next slot after now; a running
  // worker's (engine::status) replaces it with its scheduler's (backoff,
  // dependencies). 0 = not scheduled.
  std::int64_t next_due_ms = 0;
  bool running = false;              // live only: a cycle of it runs now
  source_backlog backlog;            // rows after the checkpoint: measured by the caller
};

/// The view of `svc` from its stored state; `utc_offset_minutes` is the
/// source's time zone, which daily schedules are in.
service_view make_service_view(const service_config& svc, service_state st, std::int64_t now_ms,
                               int utc_offset_minutes);

/// The health the worker recorded for each target the chosen services use
/// (a target never recorded is closed: it never failed).
std::vector<target_health> used_targets(const std::vector<target_health>& stored,
                                        const std::vector<const service_config*>& svcs);

/// "closed" | "open" | "half-open".
std::string breaker_name(std::uint8_t b);

/// "target T: breaker open since ... (N target-level failures in a row; ...)".
std::string target_line(const target_health& t);

/// 42s, 3m, 1.5h, 2.0d; "-" for a negative lag.
std::string lag_text(double seconds);

/// The document of `status --json`: {"state_dir", "services": [...], "targets": [...]};
/// each service has "last_run_ms", "next_run_ms" and "backlog" ({"measured", "rows",
/// "capped", "oldest_age_seconds", "measured_ms", "error"}); with `live` also "running".
void write_status_json(json_writer& w, const config& cfg, const std::vector<service_view>& services,
                       const std::vector<target_health>& targets, bool live);

} // namespace stampede
