#include "pipeline/hash.hpp"

#include <cstring>

namespace stampede {
namespace {

constexpr std::uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t P5 = 0x27D4EB2F165667C5ULL;

inline std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads independent of host byte order (compilers fold these
// into single loads on little-endian machines).
inline std::uint64_t read64(const unsigned char* p) {
  return std::uint64_t(p[0]) | std::uint64_t(p[1]) << 8 | std::uint64_t(p[2]) << 16 |
         std::uint64_t(p[3]) << 24 | std::uint64_t(p[4]) << 32 | std::uint64_t(p[5]) << 40 |
         std::uint64_t(p[6]) << 48 | std::uint64_t(p[7]) << 56;
}
inline std::uint32_t read32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

inline std::uint64_t round(std::uint64_t acc, std::uint64_t lane) {
  acc += lane * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}
inline std::uint64_t merge(std::uint64_t acc, std::uint64_t v) {
  acc ^= round(0, v);
  return acc * P1 + P4;
}

} // namespace

std::uint64_t xxh64(const void* data, std::size_t len, std::uint64_t seed) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* const end = p + len;
  std::uint64_t acc;
  if (len >= 32) {
    std::uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    const unsigned char* const limit = end - 32;
    do {
      v1 = round(v1, read64(p));
      v2 = round(v2, read64(p + 8));
      v3 = round(v3, read64(p + 16));
      v4 = round(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    acc = merge(acc, v1);
    acc = merge(acc, v2);
    acc = merge(acc, v3);
    acc = merge(acc, v4);
  } else {
    acc = seed + P5;
  }
  acc += static_cast<std::uint64_t>(len);
  while (end - p >= 8) {
    acc ^= round(0, read64(p));
    acc = rotl(acc, 27) * P1 + P4;
    p += 8;
  }
  if (end - p >= 4) {
    acc ^= std::uint64_t(read32(p)) * P1;
    acc = rotl(acc, 23) * P2 + P3;
    p += 4;
  }
  while (p < end) {
    acc ^= std::uint64_t(*p) * P5;
    acc = rotl(acc, 11) * P1;
    ++p;
  }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}

void hex64_to(std::uint64_t h, char* out) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = digits[h & 0xF];
    h >>= 4;
  }
}

std::string hex64(std::uint64_t h) {
  std::string s(16, '0');
  hex64_to(h, s.data());
  return s;
}

} // namespace stampede
