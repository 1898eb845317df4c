#include "pipeline/schedule.hpp"

#include "pipeline/stamp.hpp"

#include <chrono>
#include <cctype>
#include <cstdio>
#include <fmt/format.h>

namespace stampede {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

} // namespace

std::int64_t next_due(const schedule& s, std::int64_t now_ms, int utc_offset_minutes) {
  switch (s.k) {
    case schedule::kind::always:
      return now_ms;
    case schedule::kind::interval: {
      const std::int64_t every = std::max<std::int64_t>(1, s.every.count());
      const std::int64_t off = s.offset.count();
      std::int64_t k = floor_div(now_ms - off, every) + 1;
      return k * every + off;
    }
    case schedule::kind::daily: {
      const std::int64_t day = 86400000;
      const std::int64_t tz = std::int64_t{utc_offset_minutes} * 60000;
      const std::int64_t local = now_ms + tz;
      std::int64_t midnight = floor_div(local, day) * day;
      std::int64_t due = midnight + std::int64_t{s.daily_minutes} * 60000;
      if (due <= local)
        due += day;
      return due - tz;
    }
  }
  return now_ms;
}

std::string describe(const schedule& s) {
  switch (s.k) {
    case schedule::kind::always:
      return "always";
    case schedule::kind::interval:
      if (s.offset.count() != 0)
        return fmt::format("every {} offset {}", format_duration(s.every), format_duration(s.offset));
      return fmt::format("every {}", format_duration(s.every));
    case schedule::kind::daily:
      return fmt::format("daily {:02}:{:02}", s.daily_minutes / 60, s.daily_minutes % 60);
  }
  return "?";
}

std::int64_t stamp_to_unix_ms(const std::string& text) {
  auto v = parse_stamp(text);
  return v ? v->unix_ms() : -1;
}

} // namespace stampede
