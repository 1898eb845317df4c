// Small deterministic random generator for the demo database.
//
// Operation: splitmix64; `stream_seed(seed, a, b)` derives independent
//   streams (per service, per purpose) so that selecting a subset of
//   services does not change the content of the others.
// Concurrency: an `rng` is a plain value; one per thread.
// Limitations: not cryptographic; `below(n)` uses the multiply-shift
//   reduction (bias < n / 2^64, irrelevant here).
#pragma once

#include <cstddef>
#include <cstdint>

namespace stampede::demogen {

class rng {
 public:
  explicit rng(std::uint64_t seed) : s_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); 0 when n == 0.
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  /// Uniform in [lo, hi] (hi >= lo).
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span));
  }
  /// True with probability `percent` / 100.
  bool percent(unsigned p) { return below(100) < p; }
  template <class T, std::size_t N>
  const T& pick(const T (&a)[N]) { return a[below(N)]; }

 private:
  std::uint64_t s_;
};

inline std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  rng r(seed ^ (a * 0xd1b54a32d192ed03ULL) ^ (b * 0x8cb92ba72f3d8dd7ULL));
  r.next();
  return r.next();
}

}  // namespace stampede::demogen
