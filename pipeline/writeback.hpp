// Write-back (the Senior SET manual's SQL_UPDATE): after a delivery is
// durable, an UPDATE in the source database records what the target answered
// (its remote id, typically) in the ERP row.
//
// Operation:
//   - `sql_parameter_names(sql)`: the `:name` parameters of a statement, in
//     order of first use, outside string literals, quoted names and comments.
//   - `writeback_plan` says where each parameter's value comes from: `:id`
//     the remote id, `:key` the record key (with key_columns also each key
//     column by its name: `:A1_FILIAL`, `:A1_COD`), a mapped field by its name (dots
//     as `_`: `address.city` -> `:address_city`) from the JSON sent, any other
//     name from the value of that name in response.returns (`:codCli`), else
//     from the member of that name in the target's answer for the record.
//     `rows(result)` gives one row of values per record of a batch result
//     that succeeded with an operation `on` selects (create; or create and
//     update with `on = "always"`); deletes never.
//   - `writeback_runner::run(result)`: the rows in ONE transaction through a
//     `writeback_sink` (the source's writer, source/writer.hpp), tried up to
//     `attempts` times with a doubling pause; when every try failed, each row
//     alone, so one bad row does not take the others with it. Returns one
//     outcome per record, for the log monitor.
//   - `writeback_items(...)`: those outcomes as log items of the records
//     (attempt 0, status unchanged: a write-back never changes the delivery
//     status), to commit with the ledger entries whose item count they bump.
// Concurrency: a runner blocks (database writes, pauses between tries): use it
//   only on a thread of its own (the reconciler is a detached actor).
// Limitations: values are bound as text or NULL (the database converts them
//   by column affinity / parameter type); a failed write-back is retried
//   within the cycle only (`stampede log show` shows it; a resend or a later
//   change of the row writes it again).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "storage/ledger.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stampede {

/// The `:name` parameters of `sql` (without the colon), first use first, each once.
std::vector<std::string> sql_parameter_names(std::string_view sql);

/// `sql` with every `:name` (outside quotes, comments, dollar quotes and `::`
/// casts) replaced by `prefix` and a number counting from `first`, the same
/// name always the same number; the names, in order of first appearance, go
/// to `names` (a positional `$n` in `sql` adds "?"). PostgreSQL: ('$', 1);
/// SQLite: ('?', n).
std::string number_named_parameters(const std::string& sql, std::vector<std::string>& names,
                                    char prefix, int first);

/// "address.city" -> "address_city": the parameter name of a mapped field.
std::string field_parameter_name(std::string_view field);

struct writeback_param {
  enum class from { id, key, key_part, field, answer } src = from::answer;
  std::string name;     // parameter name
  std::string pointer;  // field: JSON pointer into the record sent; answer: into the result object
  std::size_t part = 0, parts = 0;  // key_part: which column of the composite key, of how many
};

/// Where each of `names` comes from for service `svc`.
std::vector<writeback_param> writeback_params(const service_config& svc,
                                              const std::vector<std::string>& names);

/// Names of `names` that are neither id, key nor a mapped field but close to
/// one of them (a typo): (name, the known name it resembles).
std::vector<std::pair<std::string, std::string>>
writeback_param_typos(const service_config& svc, const std::vector<std::string>& names);

/// One record's write-back: its key and one value per parameter (nullopt = NULL).
struct writeback_row {
  std::string key;
  std::vector<std::optional<std::string>> values;
};

struct writeback_outcome {
  std::string key;
  bool ok = false;
  std::string message;  // "write-back: 1 row changed", "write-back failed after 3 tries: ..."
};

class writeback_plan {
public:
  writeback_plan(const service_config& svc, std::vector<std::string> names);
  const std::vector<writeback_param>& params() const { return params_; }
  /// Whether a parameter comes from the target's answer (the answer must be kept).
  bool needs_answer() const;
  /// Rows for the records of `r` that get a write-back; records whose values
  /// cannot be found (an answer without that member) go to `problems`.
  void rows(const batch_result& r, std::vector<writeback_row>& out,
            std::vector<writeback_outcome>& problems) const;

private:
  writeback_on on_;
  std::vector<writeback_param> params_;
};

/// The source's writer: runs the statement once per row in ONE transaction
/// (rolled back and thrown on any error); returns the rows each changed.
class writeback_sink {
public:
  virtual ~writeback_sink() = default;
  virtual std::vector<std::int64_t> execute(const std::vector<writeback_row>& rows) = 0;
};

struct writeback_retry {
  std::uint32_t attempts = 3;                   // tries of one transaction
  std::chrono::milliseconds pause{100};         // before the 2nd try; doubling
};

class writeback_runner {
public:
  writeback_runner(writeback_plan plan, std::unique_ptr<writeback_sink> sink,
                   writeback_retry retry = {},
                   std::function<void(std::chrono::milliseconds)> sleep = {});
  const writeback_plan& plan() const { return plan_; }
  /// Writes back the records of `r` that need it; one outcome per such record.
  std::vector<writeback_outcome> run(const batch_result& r);

private:
  writeback_plan plan_;
  std::unique_ptr<writeback_sink> sink_;
  writeback_retry retry_;
  std::function<void(std::chrono::milliseconds)> sleep_;
};

/// Log items for `outcomes`, appended to the records' entries in `ledger`
/// (the entries the delivery just wrote; their item counts move on); at most
/// `max_items` items per record are kept.
state_changes writeback_items(const std::vector<writeback_outcome>& outcomes,
                              const std::vector<std::pair<std::string, ledger_entry>>& ledger,
                              std::int64_t now_ms, std::uint32_t max_items);

} // namespace stampede
