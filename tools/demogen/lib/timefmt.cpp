#include "tools/demogen/lib/timefmt.hpp"

#include <chrono>

namespace stampede::demogen {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

namespace {

inline void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}
inline void put4(char* p, unsigned v) {
  put2(p, v / 100);
  put2(p + 2, v % 100);
}

// Writes "YYYY-MM-DD HH:MM:SS" into p (19 chars); returns the ms remainder.
unsigned write_datetime(char* p, std::int64_t ms) {
  std::int64_t days = ms / ms_per_day;
  std::int64_t rem = ms % ms_per_day;
  if (rem < 0) {
    rem += ms_per_day;
    --days;
  }
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const auto secs = static_cast<unsigned>(rem / 1000);
  put4(p, static_cast<unsigned>(y));
  p[4] = '-';
  put2(p + 5, m);
  p[7] = '-';
  put2(p + 8, d);
  p[10] = ' ';
  put2(p + 11, secs / 3600);
  p[13] = ':';
  put2(p + 14, secs / 60 % 60);
  p[16] = ':';
  put2(p + 17, secs % 60);
  return static_cast<unsigned>(rem % 1000);
}

}  // namespace

void put_stamp(std::string& out, std::int64_t ms) {
  const std::size_t at = out.size();
  out.resize(at + 23);
  char* p = out.data() + at;
  const unsigned frac = write_datetime(p, ms);
  p[19] = '.';
  p[20] = static_cast<char>('0' + frac / 100);
  put2(p + 21, frac % 100);
}

void put_datetime(std::string& out, std::int64_t ms) {
  const std::size_t at = out.size();
  out.resize(at + 19);
  write_datetime(out.data() + at, ms);
}

void put_date8(std::string& out, std::int64_t days) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const std::size_t at = out.size();
  out.resize(at + 8);
  char* p = out.data() + at;
  put4(p, static_cast<unsigned>(y));
  put2(p + 4, m);
  put2(p + 6, d);
}

std::string format_stamp(std::int64_t ms) {
  std::string s;
  put_stamp(s, ms);
  return s;
}

std::optional<std::int64_t> parse_stamp(std::string_view s) {
  if (s.size() != 23) return std::nullopt;
  static constexpr std::string_view shape = "dddd-dd-dd dd:dd:dd.ddd";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t n) {
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + static_cast<unsigned>(s[at + i] - '0');
    return v;
  };
  const unsigned mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), sec = num(17, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const std::int64_t days = days_from_civil(static_cast<int>(num(0, 4)), mo, d);
  return days * ms_per_day + (h * 3600 + mi * 60 + sec) * 1000LL + num(20, 3);
}

}  // namespace stampede::demogen
