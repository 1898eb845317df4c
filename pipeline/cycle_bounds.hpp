// plan_bounds: where one service cycle reads from and up to, as a pure function.
//
// Operation: a cycle reads the rows strictly after a keyset position and with
//   stamp <= upper.
//   - upper = the source clock - safety_delay, and, when the source reports
//     the start of its oldest open transaction (PostgreSQL), also strictly
//     below that start: a transaction that commits late with an old stamp is
//     then still ahead of the checkpoint, whatever the lookback.
//   - An initial load resumes exactly at its checkpoint (or from the start).
//   - An incremental cycle re-reads the lookback window: from = checkpoint
//     stamp - lookback (never before year 0001); the source turns `from` into
//     a position (source::start_at).
//   - A checkpoint that is not a stamp (written by an older version, or set
//     by hand) is resumed from exactly, without a lookback, and `note` says so.
// Concurrency: pure; call from any thread.
// Limitations: none of its own; the lookback only catches late commits within it
//   (SQLite: `stampede audit` finds the rest).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "pipeline/stamp.hpp"

#include <optional>
#include <string>

namespace stampede {

struct bounds_input {
  keyset_pos checkpoint;                  // as stored; stamp "" = none yet
  bool initial_load = false;              // the service's initial load is not complete
  stamp source_now;                       // the source's clock
  duration safety_delay{0};
  duration lookback{0};
  std::optional<stamp> oldest_open;       // start of the oldest open transaction, if known
};

struct cycle_bounds {
  keyset_pos after;                       // resume strictly after this (when !from)
  std::optional<stamp> from;              // else: every row with stamp >= from
  stamp upper;                            // and stamp <= upper
  std::string note;                       // why the plan is not the usual one ("" = usual)
};

cycle_bounds plan_bounds(const bounds_input& in);

} // namespace stampede
