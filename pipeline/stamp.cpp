// stamp: parse, format, arithmetic. See stamp.hpp.
#include "pipeline/stamp.hpp"

#include <chrono>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace stampede {

namespace {

constexpr std::int64_t us_per_day = 86'400'000'000LL;

constexpr std::int64_t days_of(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year_month_day{year{y}, month{m}, day{d}}}.time_since_epoch().count();
}

struct parsed {
  stamp value;
  stamp_layout layout;
};

// Reads n digits at s[pos..]; -1 when any is not a digit or s is too short.
int num(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<parsed> parse(std::string_view s) {
  // YYYY-MM-DD
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const int y = num(s, 0, 4), mo = num(s, 5, 2), d = num(s, 8, 2);
  if (y < 1 || mo < 1 || d < 1) return std::nullopt;
  {
    using namespace std::chrono;
    if (!year_month_day{year{y}, month{unsigned(mo)}, day{unsigned(d)}}.ok()) return std::nullopt;
  }
  parsed out;
  out.layout.separator = '\0';
  out.layout.fraction_digits = 0;
  std::int64_t us = days_of(y, unsigned(mo), unsigned(d)) * us_per_day;
  std::size_t i = 10;
  if (i < s.size() && (s[i] == ' ' || s[i] == 'T' || s[i] == 't') && i + 1 < s.size() &&
      s[i + 1] >= '0' && s[i + 1] <= '9') {
    // [ T]HH:MM:SS
    out.layout.separator = s[i] == 't' ? 'T' : s[i];
    const int hh = num(s, i + 1, 2), mi = num(s, i + 4, 2), ss = num(s, i + 7, 2);
    if (s.size() < i + 9 || s[i + 3] != ':' || s[i + 6] != ':' || hh < 0 || mi < 0 || ss < 0 ||
        hh > 23 || mi > 59 || ss > 59)
      return std::nullopt;
    us += ((std::int64_t(hh) * 60 + mi) * 60 + ss) * 1'000'000LL;
    i += 9;
    if (i < s.size() && s[i] == '.') {
      std::size_t n = 0;
      std::int64_t frac = 0;
      while (i + 1 + n < s.size() && s[i + 1 + n] >= '0' && s[i + 1 + n] <= '9') {
        if (n < 6) frac = frac * 10 + (s[i + 1 + n] - '0');
        ++n;
      }
      if (n < 1 || n > 9) return std::nullopt;
      for (std::size_t k = n; k < 6; ++k) frac *= 10;
      us += frac;
      out.layout.fraction_digits = int(n);
      i += 1 + n;
    }
    // zone: [ ](Z | +hh | +hhmm | +hh:mm)
    if (i < s.size()) {
      const std::size_t zstart = i;
      if (s[i] == ' ' && i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) ++i;
      int off = 0;
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        const int zh = num(s, i + 1, 2);
        if (zh < 0 || zh > 15) return std::nullopt;
        int zm = 0;
        i += 3;
        if (i < s.size() && s[i] == ':') {
          zm = num(s, i + 1, 2);
          i += 3;
        } else if (i < s.size()) {
          zm = num(s, i, 2);
          i += 2;
        }
        if (zm < 0 || zm > 59) return std::nullopt;
        off = sign * (zh * 60 + zm);
      } else {
        return std::nullopt;
      }
      if (i != s.size()) return std::nullopt;
      out.layout.zone = true;
      out.layout.zone_minutes = off;
      out.layout.zone_text.assign(s.substr(zstart));
      us -= std::int64_t(off) * 60'000'000LL;
    }
  } else if (i != s.size()) {
    return std::nullopt;
  }
  out.value = stamp::from_unix_us(us);
  if (out.value < stamp::min || out.value > stamp::max) return std::nullopt;
  return out;
}

} // namespace

const stamp stamp::min = stamp::from_unix_us(days_of(1, 1, 1) * us_per_day);
const stamp stamp::max = stamp::from_unix_us(days_of(10000, 1, 1) * us_per_day - 1);

const std::string_view stamp_formats_help =
    "\"YYYY-MM-DD HH:MM:SS[.ffffff]\" or ISO 8601 \"YYYY-MM-DDTHH:MM:SS[.ffffff]\", optionally "
    "with a zone (Z, +hh, +hh:mm)";

std::optional<stamp> parse_stamp(std::string_view text) {
  auto p = parse(text);
  if (!p) return std::nullopt;
  return p->value;
}

std::optional<stamp_layout> layout_of(std::string_view text) {
  auto p = parse(text);
  if (!p) return std::nullopt;
  return std::move(p->layout);
}

stamp stamp::operator+(duration d) const {
  // duration is milliseconds: d * 1000 overflows only beyond ~292k years.
  const std::int64_t ms = d.count();
  if (ms > (max.us_ - min.us_) / 1000 || ms < -(max.us_ - min.us_) / 1000)
    throw std::out_of_range("adding " + std::to_string(ms) + " ms to stamp " + text() +
                            " leaves years 0001..9999");
  const stamp r(us_ + ms * 1000);
  if (r < min || r > max)
    throw std::out_of_range("adding " + std::to_string(ms) + " ms to stamp " + text() +
                            " leaves years 0001..9999");
  return r;
}

stamp stamp::operator-(duration d) const {
  if (d.count() == std::numeric_limits<duration::rep>::min())
    throw std::out_of_range("duration out of range");
  return *this + duration{-d.count()};
}

std::string format_stamp(stamp s, const stamp_layout& layout) {
  using namespace std::chrono;
  std::int64_t us = s.unix_us() + std::int64_t(layout.zone ? layout.zone_minutes : 0) * 60'000'000LL;
  std::int64_t day = us >= 0 ? us / us_per_day : -((-us + us_per_day - 1) / us_per_day);
  std::int64_t tod = us - day * us_per_day;
  const year_month_day ymd{sys_days{days{day}}};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                        unsigned(ymd.day()));
  std::string out(buf, std::size_t(n));
  if (layout.separator == '\0') return out;
  const std::int64_t sec = tod / 1'000'000, frac = tod % 1'000'000;
  n = std::snprintf(buf, sizeof buf, "%c%02d:%02d:%02d", layout.separator, int(sec / 3600),
                    int(sec / 60 % 60), int(sec % 60));
  out.append(buf, std::size_t(n));
  if (layout.fraction_digits > 0) {
    n = std::snprintf(buf, sizeof buf, ".%06lld000", static_cast<long long>(frac));
    out.append(buf, std::size_t(1 + std::min(layout.fraction_digits, 9)));
  }
  if (layout.zone) out += layout.zone_text;
  return out;
}

std::string stamp::text() const {
  static const stamp_layout canonical{' ', 6, false, 0, {}};
  return format_stamp(*this, canonical);
}

std::string stamp_layout::describe() const {
  std::string s = "YYYY-MM-DD";
  if (separator == '\0') return s;
  s += separator;
  s += "HH:MM:SS";
  if (fraction_digits > 0) s += "." + std::string(std::size_t(fraction_digits), 'f');
  if (zone) {
    if (zone_text == "Z" || zone_text == "z")
      s += "Z";
    else
      s += zone_text;  // the offset as written, e.g. "+00", "-03:00"
  }
  return s;
}

} // namespace stampede
