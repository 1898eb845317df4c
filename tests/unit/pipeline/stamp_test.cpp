// Unit tests of pipeline/stamp.hpp: parsing the formats databases write,
// normalising to UTC, arithmetic, comparison and layouts.
#include "pipeline/stamp.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace std::chrono_literals;

namespace {

std::string canon(std::string_view s) {
  auto v = parse_stamp(s);
  REQUIRE(v.has_value());
  return v->text();
}

} // namespace

TEST_CASE("stamp: the formats real databases write are normalised to UTC", "[stamp]") {
  CHECK(canon("2024-01-15 10:00:00.000") == "2024-01-15 10:00:00.000000");
  CHECK(canon("2024-01-15 10:00:00") == "2024-01-15 10:00:00.000000");
  CHECK(canon("2024-01-15") == "2024-01-15 00:00:00.000000");
  CHECK(canon("2024-01-15 10:00:00.5") == "2024-01-15 10:00:00.500000");
  CHECK(canon("2024-01-15 10:00:00.123456") == "2024-01-15 10:00:00.123456");
  CHECK(canon("2024-01-15 10:00:00.123456789") == "2024-01-15 10:00:00.123456");  // truncated
  CHECK(canon("2024-01-15T10:00:00") == "2024-01-15 10:00:00.000000");
  CHECK(canon("2024-01-01T10:00:00Z") == "2024-01-01 10:00:00.000000");
  CHECK(canon("2024-01-01t10:00:00z") == "2024-01-01 10:00:00.000000");
  CHECK(canon("2024-01-01T10:00:00.25Z") == "2024-01-01 10:00:00.250000");
  CHECK(canon("2024-01-01T10:00:00+03:00") == "2024-01-01 07:00:00.000000");
  CHECK(canon("2024-01-01T10:00:00-03:00") == "2024-01-01 13:00:00.000000");
  CHECK(canon("2024-01-01T10:00:00+0530") == "2024-01-01 04:30:00.000000");
  CHECK(canon("2024-01-01 10:00:00+00") == "2024-01-01 10:00:00.000000");     // PostgreSQL timestamptz
  CHECK(canon("2024-01-01 10:00:00.5-03") == "2024-01-01 13:00:00.500000");
  CHECK(canon("2024-01-01 10:00:00 +02:00") == "2024-01-01 08:00:00.000000");
  CHECK(canon("2024-01-01T01:00:00+03:00") == "2023-12-31 22:00:00.000000");  // day and year move
  CHECK(canon("2024-02-29 23:59:59.999999") == "2024-02-29 23:59:59.999999");
  CHECK(canon("0001-01-01 00:00:00") == "0001-01-01 00:00:00.000000");
  CHECK(canon("9999-12-31 23:59:59.999999") == "9999-12-31 23:59:59.999999");
}

TEST_CASE("stamp: anything else is not a stamp", "[stamp]") {
  for (const char* bad :
       {"", "01/02/2024", "2024/01/02", "2024-1-2", "2024-13-01", "2024-02-30", "2023-02-29",
        "0000-01-01", "2024-01-01 24:00:00", "2024-01-01 10:60:00", "2024-01-01 10:00:60",
        "2024-01-01 10:00", "2024-01-01 10:00:00.", "2024-01-01 10:00:00.1234567890",
        "2024-01-01 10:00:00x", "2024-01-01T10:00:00ZZ", "2024-01-01T10:00:00+3", "2024-01-01T10:00:00+16:00",
        "2024-01-01T10:00:00+03:60", "2024-01-01 ", "2024-01-01X10:00:00", " 2024-01-01",
        "2024-01-01 10:00:00  +00", "20240101", "2024-01-01\n", "abcd-ef-gh"}) {
    INFO(bad);
    CHECK_FALSE(parse_stamp(bad).has_value());
  }
  // A zone that moves the value out of 0001..9999.
  CHECK_FALSE(parse_stamp("0001-01-01T00:00:00+01:00").has_value());
  CHECK_FALSE(parse_stamp("9999-12-31T23:30:00-01:00").has_value());
}

TEST_CASE("stamp: add a duration, compare by time", "[stamp]") {
  const stamp a = *parse_stamp("2024-01-15 10:00:00");
  CHECK((a + 2s).text() == "2024-01-15 10:00:02.000000");
  CHECK((a - 2s).text() == "2024-01-15 09:59:58.000000");
  CHECK((*parse_stamp("2024-01-31 23:59:59.999") + 1ms).text() == "2024-02-01 00:00:00.000000");
  CHECK((*parse_stamp("2024-02-28 12:00:00") + 24h).text() == "2024-02-29 12:00:00.000000");
  CHECK((*parse_stamp("2023-02-28 12:00:00") + 24h).text() == "2023-03-01 12:00:00.000000");
  CHECK((*parse_stamp("2024-01-01 00:05:00") - 10min).text() == "2023-12-31 23:55:00.000000");
  CHECK((*parse_stamp("2024-01-01") + 24h * 366).text() == "2025-01-01 00:00:00.000000");
  CHECK_THROWS_AS(*parse_stamp("0001-01-01") - 1ms, std::out_of_range);
  CHECK_THROWS_AS(*parse_stamp("9999-12-31 23:59:59.999") + 1ms, std::out_of_range);
  // lookback = "106751991167d" must not wrap around.
  CHECK_THROWS_AS(a - duration{std::numeric_limits<duration::rep>::max()}, std::out_of_range);
  CHECK_THROWS_AS(a + duration{std::numeric_limits<duration::rep>::max()}, std::out_of_range);
  CHECK_THROWS_AS(a - duration{std::numeric_limits<duration::rep>::min()}, std::out_of_range);

  // Different text, same instant; microseconds order.
  CHECK(*parse_stamp("2024-01-01T10:00:00Z") == *parse_stamp("2024-01-01 07:00:00-03:00"));
  CHECK(*parse_stamp("2024-01-01 10:00:00.000001") > *parse_stamp("2024-01-01 10:00:00"));
  CHECK(*parse_stamp("2024-01-01T09:00:00-03:00") > *parse_stamp("2024-01-01 10:00:00"));
  CHECK(parse_stamp("1970-01-01 00:00:01.5")->unix_ms() == 1500);
  CHECK(parse_stamp("1969-12-31 23:59:59.9995")->unix_ms() == -1);
  CHECK(stamp::from_unix_ms(1700000000123).text() == "2023-11-14 22:13:20.123000");
}

TEST_CASE("stamp: layouts write a bound the way the column writes its stamps", "[stamp]") {
  const stamp v = *parse_stamp("2024-03-05 07:08:09.123456");
  auto in = [&](std::string_view sample) {
    auto l = layout_of(sample);
    REQUIRE(l.has_value());
    return format_stamp(v, *l);
  };
  CHECK(in("2024-01-01 10:00:00.000") == "2024-03-05 07:08:09.123");
  CHECK(in("2024-01-01 10:00:00") == "2024-03-05 07:08:09");
  CHECK(in("2024-01-01T10:00:00Z") == "2024-03-05T07:08:09Z");
  CHECK(in("2024-01-01T10:00:00.000000Z") == "2024-03-05T07:08:09.123456Z");
  CHECK(in("2024-01-01T10:00:00-03:00") == "2024-03-05T04:08:09-03:00");
  CHECK(in("2024-01-01 10:00:00.12+00") == "2024-03-05 07:08:09.12+00");
  CHECK(in("2024-01-01") == "2024-03-05");
  CHECK(layout_of("2024-01-01T10:00:00Z")->describe() == "YYYY-MM-DDTHH:MM:SSZ");
  CHECK(layout_of("2024-01-01 10:00:00.000")->describe() == "YYYY-MM-DD HH:MM:SS.fff");
  CHECK(layout_of("2024-01-01 10:00:00-03:00")->describe() == "YYYY-MM-DD HH:MM:SS-03:00");
  CHECK_FALSE(layout_of("01/02/2024").has_value());
  // Every layout round-trips through parse_stamp, truncated to its precision
  // (a bound written with fewer digits is never later than the value).
  for (const char* sample : {"2024-01-01 10:00:00.000", "2024-01-01T10:00:00Z",
                             "2024-01-01T10:00:00.000000+05:30", "2024-01-01 10:00:00-03"}) {
    INFO(sample);
    const std::string t = format_stamp(v, *layout_of(sample));
    REQUIRE(parse_stamp(t).has_value());
    CHECK(parse_stamp(t)->unix_us() <= v.unix_us());
    CHECK(v.unix_us() - parse_stamp(t)->unix_us() < 1'000'000);
  }
}
