// When a service runs next.
//
// Operation: `next_due(s, now, utc_offset)` returns the first instant after
//   `now` (unix ms) at which a service with schedule `s` is due:
//     - always:   now (run again as soon as the previous cycle ends)
//     - interval: epoch-aligned multiples of `every`, shifted by `offset`
//                 ("every 15m offset 5m" -> :05, :20, :35, :50)
//     - daily:    the next HH:MM in the source time zone
// Concurrency: pure function.
// Limitations: fixed UTC offsets only (see config.hpp).
#pragma once

#include "pipeline/config.hpp"

#include <cstdint>
#include <string>

namespace stampede {

std::int64_t next_due(const schedule& s, std::int64_t now_ms, int utc_offset_minutes);

/// "always", "every 15m offset 5m", "daily 08:00" (for status and logs).
std::string describe(const schedule& s);

/// parse_stamp(text) (pipeline/stamp.hpp) as unix ms; -1 when it is not a stamp.
std::int64_t stamp_to_unix_ms(const std::string& stamp);

} // namespace stampede
