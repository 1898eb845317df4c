#include "pipeline/hash.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace stampede;

namespace {
// The reference sanity buffer of xxHash's xsum_sanity_check.c.
std::vector<unsigned char> sanity_buffer(std::size_t n) {
  constexpr std::uint64_t prime32 = 2654435761ULL;
  constexpr std::uint64_t prime64 = 11400714785074694797ULL;
  std::vector<unsigned char> b(n);
  std::uint64_t gen = prime32;
  for (auto& c : b) {
    c = static_cast<unsigned char>(gen >> 56);
    gen *= prime64;
  }
  return b;
}
} // namespace

TEST_CASE("xxh64 matches the published test vectors", "[hash]") {
  constexpr std::uint64_t p32 = 2654435761ULL;
  const auto buf = sanity_buffer(2367);
  const auto* p = buf.data();
  CHECK(xxh64(nullptr, 0, 0) == 0xEF46DB3751D8E999ULL);
  CHECK(xxh64("", 0) == 0xEF46DB3751D8E999ULL);
  CHECK(xxh64(nullptr, 0, p32) == 0xAC75FDA2929B17EFULL);
  CHECK(xxh64(p, 1, 0) == 0xE934A84ADB052768ULL);
  CHECK(xxh64(p, 1, p32) == 0x5014607643A9B4C3ULL);
  CHECK(xxh64(p, 4, 0) == 0x9136A0DCA57457EEULL);
  CHECK(xxh64(p, 14, 0) == 0x8282DCC4994E35C8ULL);
  CHECK(xxh64(p, 14, p32) == 0xC3BD6BF63DEB6DF0ULL);
  CHECK(xxh64(p, 16, 0) == 0x98C90B57FDFCB55CULL);
  CHECK(xxh64(p, 19, 0) == 0xE91C6EF31FC08F82ULL);
  CHECK(xxh64(p, 222, 0) == 0xB641AE8CB691C174ULL);
  CHECK(xxh64(p, 222, p32) == 0x20CB8AB7AE10C14AULL);
  CHECK(xxh64(std::string_view("a")) == 0xD24EC4F1A98C6E5BULL);
  CHECK(xxh64(std::string_view("abc")) == 0x44BC2CF5AD770999ULL);
}

TEST_CASE("xxh64 does not depend on the buffer's alignment", "[hash]") {
  const auto buf = sanity_buffer(300);
  std::vector<unsigned char> shifted(buf.size() + 7);
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const std::size_t len = rng() % 290;
    const std::size_t off = rng() % 8;
    std::copy(buf.begin(), buf.begin() + static_cast<long>(len), shifted.begin() + static_cast<long>(off));
    REQUIRE(xxh64(shifted.data() + off, len, 99) == xxh64(buf.data(), len, 99));
  }
}

TEST_CASE("hex64 renders 16 lowercase digits", "[hash]") {
  CHECK(hex64(0xEF46DB3751D8E999ULL) == "ef46db3751d8e999");
  CHECK(hex64(0) == "0000000000000000");
  CHECK(hex64(1) == "0000000000000001");
  CHECK(hex64(~0ULL) == "ffffffffffffffff");
}
