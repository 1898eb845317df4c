// Source-independent parts of source.hpp: the registry of kinds, errors,
// stamp arithmetic. Each kind lives in its own module (source/sqlite/, ...).
#include "source/source.hpp"

#include "source/sqlite/sqlite_source.hpp"

#include <chrono>
#include <cstdio>

namespace stampede {

std::string_view to_string(source_errc c) {
  switch (c) {
    case source_errc::ok: return "ok";
    case source_errc::open_failed: return "open_failed";
    case source_errc::no_such_table: return "no_such_table";
    case source_errc::no_such_column: return "no_such_column";
    case source_errc::query_failed: return "query_failed";
    case source_errc::invalid_identifier: return "invalid_identifier";
  }
  return "unknown";
}

const std::vector<source_kind_entry>& source_kinds() {
  static const std::vector<source_kind_entry> kinds{sqlite_source_kind()};
  return kinds;
}

const source_kind_entry& source_kind_of(source_kind k) {
  for (const auto& e : source_kinds())
    if (e.kind == k) return e;
  if (k == source_kind::postgres)
    throw source_error(source_errc::open_failed,
                       "the PostgreSQL source arrives in a later issue; use source.kind = "
                       "\"sqlite\" for now");
  throw source_error(source_errc::open_failed, "unknown source kind");
}

std::unique_ptr<source> source::open(const source_config& cfg) {
  return source_kind_of(cfg.kind).open(cfg);
}

namespace {

[[noreturn]] void bad_stamp(std::string_view s) {
  throw std::invalid_argument("\"" + std::string(s) +
                              "\" is not a stamp; expected \"YYYY-MM-DD HH:MM:SS.fff\"");
}

int digits(std::string_view s, std::size_t pos, std::size_t n, std::string_view whole) {
  if (pos + n > s.size()) bad_stamp(whole);
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') bad_stamp(whole);
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

} // namespace

std::string stamp_add(std::string_view s, duration d) {
  using namespace std::chrono;
  // YYYY-MM-DD
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') bad_stamp(s);
  year_month_day ymd{year{digits(s, 0, 4, s)}, month{unsigned(digits(s, 5, 2, s))},
                     day{unsigned(digits(s, 8, 2, s))}};
  if (!ymd.ok()) bad_stamp(s);
  int hh = 0, mi = 0, ss = 0;
  std::int64_t ms = 0;
  if (s.size() > 10) {
    // [ T]HH:MM:SS
    if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
      bad_stamp(s);
    hh = digits(s, 11, 2, s);
    mi = digits(s, 14, 2, s);
    ss = digits(s, 17, 2, s);
    if (hh > 23 || mi > 59 || ss > 59) bad_stamp(s);
    if (s.size() > 19) {
      std::size_t n = s.size() - 20;  // fraction digits
      if (s[19] != '.' || n < 1 || n > 9) bad_stamp(s);
      int frac = digits(s, 20, n, s);
      // scale to milliseconds (truncating below 1 ms)
      std::int64_t f = frac;
      for (std::size_t i = n; i < 3; ++i) f *= 10;
      for (std::size_t i = 3; i < n; ++i) f /= 10;
      ms = f;
    }
  }
  sys_time<milliseconds> t = sys_days{ymd} + hours{hh} + minutes{mi} + seconds{ss} +
                             milliseconds{ms};
  t += d;
  auto day_tp = floor<days>(t);
  year_month_day out{day_tp};
  hh_mm_ss<milliseconds> tod{t - day_tp};
  int y = int(out.year());
  if (y < 0 || y > 9999)
    throw std::invalid_argument("stamp " + std::string(s) + " moved out of years 0000..9999");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d.%03d", y, unsigned(out.month()),
                unsigned(out.day()), int(tod.hours().count()), int(tod.minutes().count()),
                int(tod.seconds().count()), int(tod.subseconds().count()));
  return buf;
}

} // namespace stampede
