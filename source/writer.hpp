// The source's writer for write-back ([services.writeback], pipeline/writeback.hpp),
// by source kind.
//
// Operation: `open_writeback(cfg, svc)` opens a read-write connection of the
//   configured kind (only for a service that configures write-back; the
//   extraction connection stays read-only), prepares the statement and
//   returns the runner the reconciler calls after each durable commit, with
//   its parameters in the statement's own order. `check_writeback` prepares
//   the statement on a read-only connection (nothing is written) and reports
//   a statement the database refuses at the `sql` key.
// Concurrency: a runner per cycle, used by one thread (the reconciler's).
// Limitations: SQLite (source/sqlite/sqlite_writer.hpp) and PostgreSQL
//   (source/postgres/postgres_writer.hpp); named parameters only.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/writeback.hpp"

#include <memory>
#include <vector>

namespace stampede {

/// Throws source_error (the database cannot be opened read-write, the
/// statement does not prepare, the kind has no writer).
std::shared_ptr<writeback_runner> open_writeback(const config& cfg, const service_config& svc);

/// Errors about `svc`'s write-back statement (none when it prepares).
std::vector<config_diagnostic> check_writeback(const config& cfg, const service_config& svc);

} // namespace stampede
