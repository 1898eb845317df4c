// stamp: a point in time from the source's stamp column (S_T_A_M_P_), in UTC
// with microsecond precision.
//
// Operation: `parse_stamp(text)` reads the formats real databases produce:
//     YYYY-MM-DD
//     YYYY-MM-DD HH:MM:SS[.f...]          (1..9 fraction digits)
//     YYYY-MM-DDTHH:MM:SS[.f...]          (ISO 8601 'T', also 't')
//   each optionally followed by a zone: `Z`, `+hh`, `+hhmm` or `+hh:mm` (also
//   `-`), optionally after one space (PostgreSQL prints "... 10:00:00+00").
//   A zone converts the value to UTC; text without one is taken as UTC (the
//   source clock's zone). Fractions beyond microseconds are truncated. Years
//   0001..9999. Anything else (`01/02/2024`, `2024-13-01`, "") is nullopt.
//   `text()` is the canonical form "YYYY-MM-DD HH:MM:SS.ffffff"; `+`/`-` add a
//   duration; values compare by time. `stamp_layout` is the written shape of a
//   stamp (separator, fraction digits, zone), so a bound can be written the
//   way a text column writes its stamps (text comparison then follows time).
// Concurrency: plain values; free functions are pure and thread-safe.
// Limitations: no leap seconds (:60 is rejected); no IANA zone names.
#pragma once

#include "pipeline/config.hpp"  // duration

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stampede {

class stamp {
public:
  constexpr stamp() = default;
  static constexpr stamp from_unix_us(std::int64_t us) { return stamp(us); }
  static constexpr stamp from_unix_ms(std::int64_t ms) { return stamp(ms * 1000); }

  constexpr std::int64_t unix_us() const { return us_; }
  /// Milliseconds, rounded down (towards the past).
  constexpr std::int64_t unix_ms() const { return us_ >= 0 ? us_ / 1000 : -((-us_ + 999) / 1000); }

  /// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC).
  std::string text() const;

  /// this + d; throws std::out_of_range when the result leaves years 0001..9999.
  stamp operator+(duration d) const;
  stamp operator-(duration d) const;

  friend constexpr auto operator<=>(stamp, stamp) = default;

  /// The first and last instants of years 0001..9999.
  static const stamp min, max;

private:
  constexpr explicit stamp(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;  // microseconds since 1970-01-01 00:00:00 UTC
};

/// The value of `text` (see the formats above), or nullopt.
std::optional<stamp> parse_stamp(std::string_view text);

/// What `parse_stamp` accepts, for messages: one line.
extern const std::string_view stamp_formats_help;

/// The written shape of a stamp.
struct stamp_layout {
  char separator = ' ';           // ' ' or 'T' between date and time ('\0': date only)
  int fraction_digits = 3;        // 0..9
  bool zone = false;              // a zone suffix is written
  int zone_minutes = 0;           // its offset from UTC (+180 = "+03:00")
  std::string zone_text;          // as written: "Z", "+00", "+03:00", " +0300"
  friend bool operator==(const stamp_layout&, const stamp_layout&) = default;

  /// "YYYY-MM-DD HH:MM:SS.fff", "YYYY-MM-DDTHH:MM:SSZ", ...: for messages.
  std::string describe() const;
};

/// The shape of `text`; nullopt when it is not a stamp.
std::optional<stamp_layout> layout_of(std::string_view text);

/// `s` written in `layout` (in its zone; fraction truncated to its digits).
std::string format_stamp(stamp s, const stamp_layout& layout);

} // namespace stampede
