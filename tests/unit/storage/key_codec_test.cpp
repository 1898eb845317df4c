// Property tests of storage/key_codec: memcmp order == tuple order, round trip,
// malformed input rejected.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "storage/key_codec.hpp"

namespace kc = stampede::key_codec;

namespace {

struct tuple_t {
  std::uint16_t a = 0;
  std::int64_t b = 0;
  std::string c;
  std::uint64_t d = 0;
};

// Strings compare as unsigned bytes (what memcmp does).
int cmp_bytes(const std::string& x, const std::string& y) {
  const bool lt = std::lexicographical_compare(
      x.begin(), x.end(), y.begin(), y.end(),
      [](char p, char q) { return static_cast<unsigned char>(p) < static_cast<unsigned char>(q); });
  if (lt) return -1;
  return x == y ? 0 : 1;
}

int cmp_tuple(const tuple_t& x, const tuple_t& y) {
  if (x.a != y.a) return x.a < y.a ? -1 : 1;
  if (x.b != y.b) return x.b < y.b ? -1 : 1;
  if (int c = cmp_bytes(x.c, y.c)) return c;
  if (x.d != y.d) return x.d < y.d ? -1 : 1;
  return 0;
}

bool operator==(const tuple_t& x, const tuple_t& y) { return cmp_tuple(x, y) == 0; }

std::string encode(const tuple_t& t) {
  std::string out;
  kc::put_u16(out, t.a);
  kc::put_i64(out, t.b);
  kc::put_string(out, t.c);
  kc::put_u64(out, t.d);
  return out;
}

std::optional<tuple_t> decode(std::string_view in) {
  tuple_t t;
  auto a = kc::get_u16(in);
  if (!a) return std::nullopt;
  auto b = kc::get_i64(in);
  if (!b) return std::nullopt;
  auto c = kc::get_string(in);
  if (!c) return std::nullopt;
  auto d = kc::get_u64(in);
  if (!d || !in.empty()) return std::nullopt;
  t.a = *a;
  t.b = *b;
  t.c = std::move(*c);
  t.d = *d;
  return t;
}

// Components drawn from small pools so ties and shared prefixes are frequent.
struct generator {
  std::mt19937_64 rng;
  std::vector<std::string> strings;

  explicit generator(std::uint64_t seed) : rng(seed) {
    const char alphabet[] = {'\x00', '\x01', 'a', '\x7f', '\x80', '\xfe', '\xff'};
    strings.emplace_back();
    for (int i = 0; i < 300; ++i) {
      std::string s;
      const int len = static_cast<int>(rng() % 7);
      for (int j = 0; j < len; ++j) s.push_back(alphabet[rng() % sizeof alphabet]);
      // add every prefix too: prefixes must sort before their extensions
      for (std::size_t p = 0; p <= s.size(); ++p) strings.push_back(s.substr(0, p));
    }
  }

  template <typename T>
  T pick(std::initializer_list<T> extremes, T lo, T hi) {
    if (rng() % 4 == 0) {
      auto it = extremes.begin();
      std::advance(it, static_cast<long>(rng() % extremes.size()));
      return *it;
    }
    return std::uniform_int_distribution<T>(lo, hi)(rng);
  }

  tuple_t next() {
    tuple_t t;
    t.a = pick<std::uint16_t>({0, 1, 0x7FFF, 0x8000, 0xFFFF}, 0, 3);
    t.b = pick<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0, 1,
                              std::numeric_limits<std::int64_t>::max()},
                             -3, 3);
    t.c = strings[rng() % strings.size()];
    t.d = pick<std::uint64_t>({0, 1, 0xFF, 0x100, std::numeric_limits<std::uint64_t>::max()}, 0, 3);
    return t;
  }
};

} // namespace

TEST_CASE("key codec: memcmp order of encodings equals tuple order", "[key_codec]") {
  const std::uint64_t seed = 0x5eed'2024'0611ULL;
  std::cout << "key_codec property test seed: " << seed << "\n";
  CAPTURE(seed);
  generator gen(seed);

  std::vector<tuple_t> tuples;
  for (int i = 0; i < 5000; ++i) tuples.push_back(gen.next());

  std::vector<std::pair<std::string, tuple_t>> by_encoding;
  for (const auto& t : tuples) by_encoding.emplace_back(encode(t), t);
  std::stable_sort(by_encoding.begin(), by_encoding.end(), [](const auto& x, const auto& y) {
    return cmp_bytes(x.first, y.first) < 0;
  });
  std::vector<tuple_t> by_tuple = tuples;
  std::stable_sort(by_tuple.begin(), by_tuple.end(),
                   [](const tuple_t& x, const tuple_t& y) { return cmp_tuple(x, y) < 0; });

  REQUIRE(by_encoding.size() == by_tuple.size());
  for (std::size_t i = 0; i < by_tuple.size(); ++i) {
    INFO("position " << i);
    REQUIRE(by_encoding[i].second == by_tuple[i]);
  }

  // Pairwise: the sign of memcmp equals the sign of the tuple comparison,
  // including equal encodings <=> equal tuples.
  std::mt19937_64 rng(seed + 1);
  for (int i = 0; i < 20000; ++i) {
    const auto& x = tuples[rng() % tuples.size()];
    const auto& y = tuples[rng() % tuples.size()];
    REQUIRE(cmp_bytes(encode(x), encode(y)) == cmp_tuple(x, y));
  }
}

TEST_CASE("key codec: decode(encode(t)) == t and every proper prefix is rejected", "[key_codec]") {
  const std::uint64_t seed = 0xC0DEC;
  std::cout << "key_codec round-trip test seed: " << seed << "\n";
  CAPTURE(seed);
  generator gen(seed);
  for (int i = 0; i < 3000; ++i) {
    const tuple_t t = gen.next();
    const std::string enc = encode(t);
    const auto back = decode(enc);
    REQUIRE(back.has_value());
    REQUIRE(*back == t);
    for (std::size_t cut = 0; cut < enc.size(); ++cut) {
      INFO("truncated to " << cut << " of " << enc.size() << " bytes");
      REQUIRE_FALSE(decode(std::string_view(enc).substr(0, cut)).has_value());
    }
  }
}

TEST_CASE("key codec: fixed-width integers are big-endian and round trip", "[key_codec]") {
  std::string out;
  kc::put_u32(out, 0x01020304u);
  REQUIRE(out == std::string("\x01\x02\x03\x04", 4));
  kc::put_i64(out, -1);
  REQUIRE(out.substr(4) == std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8));

  std::string_view in = out;
  REQUIRE(kc::get_u32(in) == 0x01020304u);
  REQUIRE(kc::get_i64(in) == -1);
  REQUIRE(in.empty());

  std::string m;
  kc::put_i64(m, std::numeric_limits<std::int64_t>::min());
  REQUIRE(m == std::string(8, '\0'));
}

TEST_CASE("key codec: malformed strings and short integers decode to nullopt", "[key_codec]") {
  auto str = [](std::string bytes) {
    std::string_view in = bytes;
    return kc::get_string(in);
  };
  REQUIRE_FALSE(str("").has_value());                          // nothing
  REQUIRE_FALSE(str("abc").has_value());                       // no terminator
  REQUIRE_FALSE(str(std::string("ab\0", 3)).has_value());      // truncated after 0x00
  REQUIRE_FALSE(str(std::string("a\0\x02", 3)).has_value());   // bad escape
  REQUIRE_FALSE(str(std::string("a\0\0\0\x01", 5)).has_value());  // 0x00 0x00 is not an escape
  REQUIRE(str(std::string("a\0\xff\0\x01", 5)) == std::string("a\0", 2));

  // The decoder consumes exactly one string and leaves the rest.
  std::string two;
  kc::put_string(two, std::string("x\0y", 3));
  kc::put_string(two, "");
  std::string_view in = two;
  REQUIRE(kc::get_string(in) == std::string("x\0y", 3));
  REQUIRE(kc::get_string(in) == std::string());
  REQUIRE(in.empty());

  std::string_view one = "\x01";
  REQUIRE_FALSE(kc::get_u16(one).has_value());
  REQUIRE(one.size() == 1);  // failed decode consumes nothing
  std::string_view seven("\0\0\0\0\0\0\0", 7);
  REQUIRE_FALSE(kc::get_u64(seven).has_value());
  REQUIRE_FALSE(kc::get_i64(seven).has_value());
  std::string_view three("\0\0\0", 3);
  REQUIRE_FALSE(kc::get_u32(three).has_value());
}

TEST_CASE("key codec: ledger_key is u16 service + string and groups by service", "[key_codec]") {
  const std::string k = kc::ledger_key(0x0102, "7");
  REQUIRE(k == std::string("\x01\x02" "7\0\x01", 5));
  // Every key of service 1 sorts before every key of service 2.
  REQUIRE(cmp_bytes(kc::ledger_key(1, "\xff\xff\xff"), kc::ledger_key(2, "")) < 0);
  // A record key that is a prefix of another sorts first.
  REQUIRE(cmp_bytes(kc::ledger_key(1, "10"), kc::ledger_key(1, "100")) < 0);
}
