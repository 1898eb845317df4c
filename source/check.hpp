// `stampede check`: verifies a loaded configuration against the live source.
//
// Operation: `check_source(cfg)` opens the source (read-only; a missing
//   SQLite file is reported, never created) and, for every service, checks
//   that the table (or the service's `query`: it must run; its result's
//   columns count), every mapped column, the key column(s) and the service's
//   stamp/recno/deleted columns exist (closest names given), and that the
//   service's `where` runs with its parameters bound. Problems point at the
//   service's, field's, `query`'s or `where`'s line in the config file. A stamp column without an index is a warning (with the
//   CREATE INDEX to run). `info` lists what was found (tables, row counts).
// Concurrency: opens its own source connection; call from any one thread.
// Limitations: column names compare as the source kind does (SQLite:
//   case-insensitively; PostgreSQL: exactly, since names are quoted).
#pragma once

#include "pipeline/config.hpp"

#include <string>
#include <vector>

namespace stampede {

struct check_report {
  std::vector<config_diagnostic> errors, warnings;
  std::vector<std::string> info;
  bool ok() const { return errors.empty(); }
};

check_report check_source(const config& cfg);

/// The same, for `only` these services of `cfg` (what one `run` exports).
check_report check_source(const config& cfg, const std::vector<const service_config*>& only);

/// Human-readable report: one line per error ("error: ..."), warning and info.
std::string to_string(const check_report& r);

} // namespace stampede
