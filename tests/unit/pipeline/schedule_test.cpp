// Unit tests of pipeline/schedule.hpp: next_due, describe, stamp_to_unix_ms.
#include "pipeline/schedule.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace stampede;
using namespace std::chrono_literals;

namespace {

// Unix ms of a UTC calendar time (independent of the code under test).
std::int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi, int s = 0, int ms = 0) {
  using namespace std::chrono;
  const auto days = sys_days{year{y} / month{mo} / day{d}}.time_since_epoch().count();
  return ((static_cast<std::int64_t>(days) * 24 + h) * 60 + mi) * 60000 + s * 1000LL + ms;
}

schedule every(duration e, duration off = duration{0}) {
  schedule s;
  s.k = schedule::kind::interval;
  s.every = e;
  s.offset = off;
  return s;
}

schedule daily(int hh, int mm) {
  schedule s;
  s.k = schedule::kind::daily;
  s.daily_minutes = hh * 60 + mm;
  return s;
}

} // namespace

TEST_CASE("schedule: next_due: always is due at once", "[schedule]") {
  schedule s;
  s.k = schedule::kind::always;
  const auto now = utc_ms(2024, 5, 10, 10, 7, 13, 250);
  CHECK(next_due(s, now, 0) == now);
  CHECK(next_due(s, now, -180) == now);
}

TEST_CASE("schedule: next_due: interval is epoch-aligned and shifted by the offset", "[schedule]") {
  const auto s = every(15min, 5min);  // :05 :20 :35 :50
  SECTION("from 10:07 the next slot is 10:20") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 10, 7), 0) == utc_ms(2024, 5, 10, 10, 20));
  }
  SECTION("exactly at a slot the next one is a full interval later") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 10, 20), 0) == utc_ms(2024, 5, 10, 10, 35));
  }
  SECTION("one ms before a slot gives that slot") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 10, 19, 59, 999), 0) == utc_ms(2024, 5, 10, 10, 20));
  }
  SECTION("the slot after :50 is :05 of the next hour, across midnight too") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 23, 50), 0) == utc_ms(2024, 5, 11, 0, 5));
  }
  SECTION("the time zone does not shift interval schedules") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 10, 7), -180) == utc_ms(2024, 5, 10, 10, 20));
  }
  SECTION("no offset: plain multiples") {
    CHECK(next_due(every(1h), utc_ms(2024, 5, 10, 10, 0, 0, 1), 0) == utc_ms(2024, 5, 10, 11, 0));
    CHECK(next_due(every(1h), utc_ms(2024, 5, 10, 9, 59), 0) == utc_ms(2024, 5, 10, 10, 0));
  }
  SECTION("the result is always strictly after now") {
    for (std::int64_t t = utc_ms(2024, 5, 10, 10, 0); t < utc_ms(2024, 5, 10, 11, 0); t += 37000) {
      const auto due = next_due(s, t, 0);
      CHECK(due > t);
      CHECK(due - t <= 15 * 60000);
      CHECK((due - 5 * 60000) % (15 * 60000) == 0);
    }
  }
}

TEST_CASE("schedule: next_due: daily runs at HH:MM in the source time zone", "[schedule]") {
  const auto s = daily(8, 0);
  const int tz = -180;  // -03:00: 08:00 local = 11:00 UTC
  SECTION("before 08:00 local: today at 11:00 UTC") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 10, 59), tz) == utc_ms(2024, 5, 10, 11, 0));
  }
  SECTION("exactly at 08:00 local: tomorrow") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 11, 0), tz) == utc_ms(2024, 5, 11, 11, 0));
  }
  SECTION("after 08:00 local: tomorrow") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 15, 30), tz) == utc_ms(2024, 5, 11, 11, 0));
  }
  SECTION("after UTC midnight but before local midnight: still the same local day's next 08:00") {
    // 02:00 UTC on the 11th is 23:00 local on the 10th: next 08:00 local is the 11th 11:00 UTC.
    CHECK(next_due(s, utc_ms(2024, 5, 11, 2, 0), tz) == utc_ms(2024, 5, 11, 11, 0));
  }
  SECTION("in UTC the same schedule is 08:00 UTC") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 7, 0), 0) == utc_ms(2024, 5, 10, 8, 0));
    CHECK(next_due(s, utc_ms(2024, 5, 10, 9, 0), 0) == utc_ms(2024, 5, 11, 8, 0));
  }
  SECTION("east of UTC (+05:30): 08:00 local is 02:30 UTC") {
    CHECK(next_due(s, utc_ms(2024, 5, 10, 1, 0), 330) == utc_ms(2024, 5, 10, 2, 30));
    CHECK(next_due(s, utc_ms(2024, 5, 10, 20, 0), 330) == utc_ms(2024, 5, 11, 2, 30));
  }
  SECTION("the last minute of the day") {
    CHECK(next_due(daily(23, 59), utc_ms(2024, 2, 28, 12, 0), 0) == utc_ms(2024, 2, 28, 23, 59));
    CHECK(next_due(daily(0, 0), utc_ms(2024, 2, 28, 12, 0), 0) == utc_ms(2024, 2, 29, 0, 0));
  }
}

TEST_CASE("schedule: describe: schedules as configured", "[schedule]") {
  schedule a;
  a.k = schedule::kind::always;
  CHECK(describe(a) == "always");
  CHECK(describe(every(15min, 5min)) == "every 15m offset 5m");
  CHECK(describe(every(15min)) == "every 15m");
  CHECK(describe(every(1h)) == "every 1h");
  CHECK(describe(every(24h)) == "every 1d");
  CHECK(describe(every(90s)) == "every 90s");
  CHECK(describe(every(1500ms)) == "every 1500ms");
  CHECK(describe(every(1h, 30s)) == "every 1h offset 30s");
  CHECK(describe(daily(8, 0)) == "daily 08:00");
  CHECK(describe(daily(23, 5)) == "daily 23:05");
  CHECK(describe(daily(0, 0)) == "daily 00:00");
}

TEST_CASE("schedule: describe round-trips through parse_schedule", "[schedule]") {
  for (const char* text : {"always", "every 15m", "every 15m offset 5m", "daily 08:00", "every 2h"}) {
    const auto s = parse_schedule(text);
    REQUIRE(s);
    CHECK(describe(*s) == text);
  }
}

TEST_CASE("schedule: stamp_to_unix_ms: known values", "[schedule]") {
  CHECK(stamp_to_unix_ms("1970-01-01 00:00:00.000") == 0);
  CHECK(stamp_to_unix_ms("1970-01-01 00:00:00") == 0);
  CHECK(stamp_to_unix_ms("1970-01-01 00:00:01.000") == 1000);
  CHECK(stamp_to_unix_ms("1970-01-02 00:00:00.000") == 86400000);
  // Leap days.
  CHECK(stamp_to_unix_ms("2024-02-29 12:00:00.000") == 1709208000000);
  CHECK(stamp_to_unix_ms("2000-02-29 23:59:59") == 951868799000);
  CHECK(stamp_to_unix_ms("2024-03-01 00:00:00.000") - stamp_to_unix_ms("2024-02-28 00:00:00.000") ==
        2 * 86400000LL);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.000") == utc_ms(2024, 5, 10, 10, 7));
}

TEST_CASE("schedule: stamp_to_unix_ms: fractional milliseconds", "[schedule]") {
  const auto base = stamp_to_unix_ms("2024-05-10 10:07:00");
  REQUIRE(base == utc_ms(2024, 5, 10, 10, 7));
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.123") == base + 123);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.5") == base + 500);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.05") == base + 50);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.999") == base + 999);
  // More than 3 digits truncate to milliseconds (PostgreSQL microseconds).
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.123456") == base + 123);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:00.000999") == base);
}

TEST_CASE("schedule: stamp_to_unix_ms: bad input gives -1", "[schedule]") {
  CHECK(stamp_to_unix_ms("") == -1);
  CHECK(stamp_to_unix_ms("garbage") == -1);
  CHECK(stamp_to_unix_ms("2024-05-10") == utc_ms(2024, 5, 10, 0, 0));  // midnight
  CHECK(stamp_to_unix_ms("2024-05-10T10:07:00Z") == utc_ms(2024, 5, 10, 10, 7));
  CHECK(stamp_to_unix_ms("01/02/2024") == -1);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07") == -1);   // no seconds
  CHECK(stamp_to_unix_ms("2023-02-29 00:00:00") == -1);  // not a leap year
  CHECK(stamp_to_unix_ms("2024-13-01 00:00:00") == -1);  // month 13
  CHECK(stamp_to_unix_ms("2024-04-31 00:00:00") == -1);  // April has 30 days
  CHECK(stamp_to_unix_ms("2024-00-10 00:00:00") == -1);
}

// The header promises -1 on bad input: time fields are range checked, so
// "25:00:00" does not silently become 01:00 of the next day.
TEST_CASE("schedule: stamp_to_unix_ms: out-of-range time fields give -1", "[schedule]") {
  CHECK(stamp_to_unix_ms("2024-05-10 25:00:00") == -1);
  CHECK(stamp_to_unix_ms("2024-05-10 10:61:00") == -1);
  CHECK(stamp_to_unix_ms("2024-05-10 10:07:61") == -1);
}
