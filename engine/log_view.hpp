// The log monitor's queries and renderings (`stampede log`, `log show`,
// `checkpoint show`), as plain functions over a state_store.
//
// Operation: `query_log` scans the ledger of each chosen service (key order,
//   or a point lookup for --key), keeps the entries that pass the filter and
//   returns the `limit` most recently changed ones, newest first (a bounded
//   heap: memory O(limit), time O(entries · log limit)). The time filter is on
//   the last change (`ledger_entry::updated_ms`). Each returned row carries its
//   last message: `last_error`, else the message of its newest log item.
//   `write_*_json` render entries, log items and events with the project's
//   JSON writer (one escaper, invalid UTF-8 replaced). Times are unix ms in
//   the store and ISO-8601 UTC ("2024-05-01T12:00:00.123Z") in every output.
// Concurrency: plain functions; the store may be a read-only open.
// Limitations: a listing scans every entry of the chosen services (about 1M
//   entries/s); --key is a point lookup.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/json_writer.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

struct log_filter {
  std::optional<record_status> status;
  std::optional<std::string> key;
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();  // updated_ms >= since
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();  // updated_ms <= until
  std::size_t limit = 100;
};

struct log_row {
  std::uint32_t service = 0;
  std::string key;
  ledger_entry entry;
  std::string last_message;
};

struct log_result {
  std::vector<log_row> rows;        // at most limit, newest change first
  std::uint64_t matched = 0;        // entries that passed the filter (>= rows.size())
};

/// Entries of `services` passing `f`, at most f.limit (0 = no limit), newest
/// change first (ties: service, then key ascending).
log_result query_log(state_store& store, const std::vector<std::uint32_t>& services,
                     const log_filter& f);

/// The message of a record's newest log item ("" when it has none).
std::string last_item_message(state_store& store, std::uint32_t service, std::string_view key);

/// "pending" | "success" | "error" | "cancelled" (case-insensitive) -> status.
std::optional<record_status> parse_record_status(std::string_view s);

/// --since / --until: "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS[.fff]"
/// (UTC; a 'T' separator is accepted) or a relative "90s", "15m", "2h", "1d" =
/// that long before `now_ms`. nullopt on anything else.
std::optional<std::int64_t> parse_time_arg(std::string_view s, std::int64_t now_ms);

/// unix ms -> "2024-05-01T12:00:00.123Z"; "" for 0 (never).
std::string iso_utc(std::int64_t ms);

/// unix ms -> "2024-05-01 12:00:00" (UTC, for tables); "-" for 0 (never).
std::string short_utc(std::int64_t ms);

/// "create" | "update" | "delete" for a stored record_op byte.
std::string_view op_name(std::uint8_t op);

/// One entry as a JSON object: service, name, key_field, key, status, operation,
/// remote_id, attempts, generation, created, changed, changed_by ("worker" when
/// empty), message, last_stamp, batch_id, items.
void write_entry_json(json_writer& w, const service_config& svc, const log_row& row);

/// One log item as a JSON object: no, time, status, attempt, http_status,
/// operation, message, sent, received, by ("worker" when empty).
void write_item_json(json_writer& w, std::uint32_t no, const log_item& it);

/// One service event as a JSON object: time, by, text.
void write_event_json(json_writer& w, const service_event& e);

} // namespace stampede
