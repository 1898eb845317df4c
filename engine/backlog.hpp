// The source backlog of a service: the source rows it has not read yet
// (after its checkpoint) and how old the oldest of them is.
//
// Operation: `measure_backlog(src, cfg, svc, st)` asks the source
//   (source::backlog, through the service's table_spec: its stamp and recno
//   columns, `where` with params, `query`) for the rows strictly after the
//   stored checkpoint (stamp, recno), counted up to `backlog_cap`, and the
//   stamp of the oldest; the age is the source clock (source::now) minus that
//   stamp. `backlog_text` is its short form for `status` and the web overview.
//   The worker measures each service it runs at the end of a cycle and, in
//   continuous mode, between cycles, each at most every `backlog_interval`
//   (engine.cpp); `stampede status` measures every chosen service once.
// Concurrency: plain functions; `src` is the caller's (one per thread). The
//   queries block: call them from the run loop's thread or a CLI command,
//   never from a CAF scheduler worker.
// Limitations: a sharded worker's checkpoint moves past every row, its own
//   or not, so its backlog counts every row of the table after it (all
//   shards' rows), not only the rows that hash to it. The count stops at
//   backlog_cap rows (then `capped`): its cost is at most that many index
//   entries (docs/operations.md gives the figure on a 1M-row table).
#pragma once

#include "pipeline/config.hpp"
#include "source/source.hpp"
#include "storage/ledger.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace stampede {

/// Rows counted at most per measurement (the count stops there).
inline constexpr std::uint64_t backlog_cap = 1'000'000;
/// The worker measures one service at most this often.
inline constexpr std::chrono::seconds backlog_interval{30};

struct source_backlog {
  bool measured = false;            // false: not measured yet, or `error`
  std::uint64_t rows = 0;           // rows after the checkpoint (at most backlog_cap)
  bool capped = false;              // more than backlog_cap rows
  double oldest_age_seconds = 0;    // source clock - stamp of the oldest; 0 without rows
  std::int64_t measured_ms = 0;     // when (unix ms, system clock)
  std::string error;                // why the last measurement failed ("" = it did not)
};

/// Measures `svc`'s backlog after the checkpoint in `st`; a source error
/// becomes `error` (measured false), never a throw.
source_backlog measure_backlog(source& src, const config& cfg, const service_config& svc,
                               const service_state& st, std::int64_t now_ms);

/// "0", "1234 (oldest 5m)", ">1000000 (oldest 2.0d)", "-" (not measured),
/// "error" (see `error`).
std::string backlog_text(const source_backlog& b);

} // namespace stampede
