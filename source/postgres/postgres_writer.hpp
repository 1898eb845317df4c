// The PostgreSQL source's writer: the write-back UPDATE ([services.writeback])
// on its own read-write connection (extraction keeps its read-only one).
//
// Operation: `postgres_writer(dsn, sql, read_only)` turns each `:name` of
//   `sql` into `$n` (pg_named_parameters), connects (application_name
//   stampede-writeback, so the source's open-transaction bound sees its
//   transactions) and prepares the statement once; preparing is how `check`
//   validates it (`read_only`: the session is read-only, nothing can be
//   written). `execute(rows)` runs it once per row inside one transaction,
//   binding each parameter as text or NULL (PostgreSQL gives it the type of
//   what it is compared with or assigned to), and returns the rows each
//   changed; any error rolls the whole transaction back and throws
//   source_error. A lost connection is reopened at the next execute.
// Concurrency: one connection per writer; not thread-safe.
// Limitations: one statement; `$1`-style positional parameters cannot be
//   bound by name (parameters() lists them as "?").
#pragma once

#include "pipeline/writeback.hpp"

#include <memory>
#include <string>
#include <vector>


namespace stampede {

/// `sql` with every `:name` (outside quotes, comments and `::` casts) turned
/// into `$n`, the same name always the same n; the names, in order of first
/// appearance, go to `names` (a positional `$n` in `sql` adds "?").
std::string pg_named_parameters(const std::string& sql, std::vector<std::string>& names);

class postgres_writer final : public writeback_sink {
public:
  /// Throws source_error: open_failed (no connection), query_failed (the
  /// statement does not prepare: PostgreSQL's message).
  postgres_writer(const std::string& dsn, const std::string& sql, bool read_only = false);
  ~postgres_writer() override;
  postgres_writer(const postgres_writer&) = delete;
  postgres_writer& operator=(const postgres_writer&) = delete;

  /// The statement's parameter names (without the colon), in $n order.
  const std::vector<std::string>& parameters() const { return params_; }

  std::vector<std::int64_t> execute(const std::vector<writeback_row>& rows) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::vector<std::string> params_;
};

} // namespace stampede
