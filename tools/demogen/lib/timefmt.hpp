// UTC time text for the demo database: stamps, datetimes and CHAR(8) dates.
//
// Operation: converts milliseconds / days since the Unix epoch to civil UTC
//   text without locale or time-zone lookups (Howard Hinnant's algorithms),
//   appending to a caller's buffer so the hot loop does not allocate.
// Concurrency: stateless; thread-safe.
// Limitations: years 0..9999 only (four-digit fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stampede::demogen {

constexpr std::int64_t ms_per_day = 86'400'000;

/// Current UTC time, ms since the epoch.
std::int64_t now_ms();

std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, int& y, unsigned& m, unsigned& d);

/// Appends "YYYY-MM-DD HH:MM:SS.fff" (23 chars).
void put_stamp(std::string& out, std::int64_t ms);
/// Appends "YYYY-MM-DD HH:MM:SS" (19 chars).
void put_datetime(std::string& out, std::int64_t ms);
/// Appends "YYYYMMDD" (8 chars) for a day number.
void put_date8(std::string& out, std::int64_t days);
std::string format_stamp(std::int64_t ms);

/// Parses "YYYY-MM-DD HH:MM:SS.fff" back to ms; nullopt if malformed.
std::optional<std::int64_t> parse_stamp(std::string_view s);

}  // namespace stampede::demogen
