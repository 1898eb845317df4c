#include "pipeline/json_writer.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

using namespace stampede;

namespace {

std::string esc(std::string_view s) {
  std::string out;
  json_escape_append(out, s);
  return out;
}

std::string esc_direct(std::string_view s) {
  std::string buf(json_escape_bound(s.size()) + 1, '\0');
  char* e = json_escape_to(buf.data(), s);
  buf.resize(static_cast<std::size_t>(e - buf.data()));
  return buf;
}

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

// Strictly parses `json` (a string value) and returns the decoded string.
std::string parse_string(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::padded_string ps(json);
  auto doc = parser.parse(ps);
  REQUIRE(doc.error() == simdjson::SUCCESS);
  std::string_view v;
  REQUIRE(doc.get(v) == simdjson::SUCCESS);
  return std::string(v);
}

std::string dbl(double d) {
  std::string out;
  json_writer(out).number(d);
  return out;
}

} // namespace

TEST_CASE("json_writer: commas, nesting and top-level values", "[json]") {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("a");
  w.integer(1);
  w.key("b");
  w.begin_array();
  w.boolean(true);
  w.boolean(false);
  w.null();
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.end_array();
  w.raw_key("\"c\":");
  w.begin_object();
  w.key("d");
  w.string("x");
  w.key("e");
  w.raw_number("1234.50");
  w.end_object();
  w.key("f");
  w.integer(std::numeric_limits<std::int64_t>::min());
  w.key("g");
  w.uinteger(std::numeric_limits<std::uint64_t>::max());
  w.key("h");
  w.raw_value("[1,2]");
  w.end_object();
  CHECK(w.depth() == 0);
  CHECK(out ==
        R"({"a":1,"b":[true,false,null,{},[]],"c":{"d":"x","e":1234.50},)"
        R"("f":-9223372036854775808,"g":18446744073709551615,"h":[1,2]})");
  // a second top-level document goes back to back, without a separator
  w.begin_array();
  w.integer(7);
  w.end_array();
  CHECK(out.substr(out.size() - 3) == "[7]");
  CHECK(out[out.size() - 4] == '}');
}

TEST_CASE("json_writer: keys are escaped", "[json]") {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("a\"b\\c\n");
  w.integer(0);
  w.end_object();
  CHECK(out == R"({"a\"b\\c\n":0})");
}

TEST_CASE("json escape: every control character, quote, backslash, DEL", "[json]") {
  for (int c = 0; c < 0x20; ++c) {
    const std::string in(1, static_cast<char>(c));
    std::string expect;
    switch (c) {
      case '\b': expect = "\\b"; break;
      case '\f': expect = "\\f"; break;
      case '\n': expect = "\\n"; break;
      case '\r': expect = "\\r"; break;
      case '\t': expect = "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        expect = buf;
      }
    }
    INFO("control char " << c);
    CHECK(esc(in) == expect);
    CHECK(parse_string("\"" + esc(in) + "\"") == in);
  }
  CHECK(esc("\"") == "\\\"");
  CHECK(esc("\\") == "\\\\");
  CHECK(esc("\x7f") == "\x7f");
  CHECK(esc("a/b") == "a/b");
  CHECK(esc("") == "");
  CHECK(esc("plain ascii text longer than eight bytes") == "plain ascii text longer than eight bytes");
  CHECK(esc("12345678\"12345678") == "12345678\\\"12345678");
  CHECK(esc(std::string_view("a\0b", 3)) == "a\\u0000b");
}

TEST_CASE("json escape: U+2028 and U+2029 become escapes", "[json]") {
  CHECK(esc("a\xE2\x80\xA8" "b") == "a\\u2028b");
  CHECK(esc("\xE2\x80\xA9") == "\\u2029");
  CHECK(esc("\xE2\x80\xAA") == "\xE2\x80\xAA");  // U+202A stays
}

TEST_CASE("json escape: valid multi-byte UTF-8 is copied", "[json]") {
  for (const char* s : {"\xC3\xA9",                 // é
                        "JOS\xC3\x89 DA CONCEI\xC3\x87\xC3\x83O",
                        "\xE2\x82\xAC",             // €
                        "\xF0\x9D\x84\x9E",         // U+1D11E
                        "\xC2\x80",                 // U+0080
                        "\xDF\xBF",                 // U+07FF
                        "\xE0\xA0\x80",             // U+0800
                        "\xED\x9F\xBF",             // U+D7FF
                        "\xEE\x80\x80",             // U+E000
                        "\xEF\xBF\xBF",             // U+FFFF
                        "\xF0\x90\x80\x80",         // U+10000
                        "\xF4\x8F\xBF\xBF"}) {      // U+10FFFF
    INFO(s);
    CHECK(esc(s) == s);
    CHECK(parse_string("\"" + esc(s) + "\"") == s);
  }
}

TEST_CASE("json escape: each maximal invalid subsequence becomes one U+FFFD", "[json]") {
  struct tc { std::string in, out; };
  const tc cases[] = {
      {"\x80", R},                                  // stray continuation
      {"\x80\xBF", R + R},                          // two stray continuations
      {"\xC0\xAF", R + R},                          // overlong '/' (C0 never valid)
      {"\xC1\xBF", R + R},                          // overlong (C1 never valid)
      {"\xE0\x80\xAF", R + R + R},                  // overlong 3-byte
      {"\xF0\x80\x80\xAF", R + R + R + R},          // overlong 4-byte
      {"\xED\xA0\x80", R + R + R},                  // surrogate U+D800
      {"\xED\xBF\xBF", R + R + R},                  // surrogate U+DFFF
      {"\xF4\x90\x80\x80", R + R + R + R},          // U+110000 > U+10FFFF
      {"\xF5\x80\x80\x80", R + R + R + R},          // F5 lead never valid
      {"\xFE", R}, {"\xFF", R},
      {"\xC3", R},                                  // truncated at end
      {"\xC3" "A", R + "A"},                        // truncated by ASCII
      {"\xE2\x82", R},                              // truncated 3-byte: one replacement
      {"\xE2\x82" "A", R + "A"},
      {"\xF0\x9D\x84", R},                          // truncated 4-byte: one replacement
      {"\xF0\x9D\x84\xC3\xA9", R + "\xC3\xA9"},     // truncated then valid é
      {"\xE2\x82\xE2\x82\xAC", R + "\xE2\x82\xAC"},
      // Unicode Standard example (ch. 3, U+FFFD substitution of maximal subparts)
      {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a" + R + R + R + "b" + R + "c" + R + R + "d"},
  };
  for (const auto& c : cases) {
    INFO("input bytes: " << c.in.size());
    CHECK(esc(c.in) == c.out);
    CHECK(esc_direct(c.in) == c.out);
    CHECK(parse_string("\"" + esc(c.in) + "\"") == c.out);
  }
}

TEST_CASE("json escape: chunked append equals direct escape, output always parses", "[json]") {
  std::mt19937_64 rng(12345);
  const char* pieces[] = {"a", "bcdefghij", "\"", "\\", "\n", "\x01", "\xC3\xA9", "\xE2\x82\xAC",
                          "\xF0\x9D\x84\x9E", "\xE2\x80\xA8", "\x80", "\xC3", "\xF0\x9D", "\xED\xA0\x80",
                          "\xFF", " "};
  for (int iter = 0; iter < 300; ++iter) {
    std::string in;
    const std::size_t target = rng() % 3000;
    while (in.size() < target) {
      if (rng() % 4 == 0) {
        in.push_back(static_cast<char>(rng() & 0xFF));  // raw random byte
      } else {
        in += pieces[rng() % (sizeof pieces / sizeof *pieces)];
      }
    }
    const std::string a = esc(in);
    REQUIRE(a == esc_direct(in));
    const std::string decoded = parse_string("\"" + a + "\"");  // strict: UTF-8 + escapes
    // idempotent: escaping the decoded (now valid) text gives the same JSON
    REQUIRE(esc(decoded) == a);
    // json_string_value predicts what a parser reads back (echoed keys match)
    REQUIRE(json_string_value(in) == decoded);
    REQUIRE(utf8_valid(decoded));
  }
}

TEST_CASE("json_string_value: the policy's replacement without escaping", "[json]") {
  CHECK(json_string_value("CLI\xE9") == "CLI" + R);  // a Latin-1 CHAR key
  CHECK(json_string_value("a\"b\\\n") == "a\"b\\\n");  // escapes are not applied
  CHECK(json_string_value("\xC3\xA9\xE2\x82\xAC") == "\xC3\xA9\xE2\x82\xAC");
  CHECK(json_string_value("\xE2\x82") == R);  // truncated: one maximal subpart
  CHECK(json_string_value("\xED\xA0\x80") == R + R + R);
  CHECK(json_string_value("") == "");
  CHECK(utf8_valid("plain ascii"));
  CHECK(utf8_valid("\xF0\x9D\x84\x9E"));
  CHECK_FALSE(utf8_valid("\xE9"));
  CHECK_FALSE(utf8_valid("\xC0\xAF"));
}

TEST_CASE("json_writer: doubles are shortest round-trip, non-finite is null", "[json]") {
  CHECK(dbl(0.1) == "0.1");
  CHECK(dbl(1e21) == "1e+21");
  CHECK(dbl(1e16) == "1e+16");
  CHECK(dbl(123456789012345.0) == "123456789012345");
  CHECK(dbl(33935263963869904896.0) == "3.3935263963869905e+19");
  CHECK(dbl(5e-324) == "5e-324");
  CHECK(dbl(-0.0) == "-0");
  CHECK(dbl(1.0) == "1");
  CHECK(dbl(-1.5) == "-1.5");
  CHECK(dbl(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(dbl(std::numeric_limits<double>::infinity()) == "null");
  CHECK(dbl(-std::numeric_limits<double>::infinity()) == "null");
  CHECK(std::strtod(dbl(std::numeric_limits<double>::max()).c_str(), nullptr) ==
        std::numeric_limits<double>::max());

  std::mt19937_64 rng(42);
  simdjson::dom::parser parser;
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    const std::string s = dbl(d);
    if (!std::isfinite(d)) {
      REQUIRE(s == "null");
      continue;
    }
    const double back = std::strtod(s.c_str(), nullptr);
    std::uint64_t back_bits;
    std::memcpy(&back_bits, &back, sizeof back);
    INFO(s);
    REQUIRE(back_bits == bits);
    simdjson::padded_string ps(s);
    double parsed = 0;
    REQUIRE(parser.parse(ps).get(parsed) == simdjson::SUCCESS);  // valid JSON number
  }
}
