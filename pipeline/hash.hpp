// Stable 64-bit hashing: XXH64 and its hex form.
//
// Operation: `xxh64(data, len, seed)` is XXH64 implemented from the public
//   xxHash specification (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md);
//   it reads input bytes as little-endian words whatever the host byte order,
//   so the value is identical across builds, compilers and machines. It is
//   used for record content hashes (persisted in the ledger) and idempotency
//   keys (sent to targets), so the algorithm must never change.
//   `hex64(h)` renders 16 lowercase hex digits, zero padded.
// Concurrency: pure functions, thread-safe.
// Limitations: not a cryptographic hash (collisions can be constructed); only
//   the one-shot form exists (inputs are small contiguous buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stampede {

/// XXH64 of `len` bytes at `data` with `seed`.
std::uint64_t xxh64(const void* data, std::size_t len, std::uint64_t seed = 0) noexcept;

inline std::uint64_t xxh64(std::string_view s, std::uint64_t seed = 0) noexcept {
  return xxh64(s.data(), s.size(), seed);
}

/// 16 lowercase hex digits, most significant first: 0xEF46DB3751D8E999 -> "ef46db3751d8e999".
std::string hex64(std::uint64_t h);

/// Writes the 16 hex digits of `h` at `out` (no terminator).
void hex64_to(std::uint64_t h, char* out) noexcept;

} // namespace stampede
