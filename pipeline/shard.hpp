// Scale-out by shard: which rows of a service one worker of N exports.
//
// Operation: `stampede run --shard k/N` (and the commands that open its
//   state) makes a worker shard k of N, 0-based (k = 0..N-1, the same
//   numbers as a StatefulSet's pod ordinals). A row belongs to shard
//   `fnv1a64(key) % N`, where `key` is the record key exactly as exported
//   (row_page::row_meta::key: CHAR padding trimmed, a composite key's parts
//   joined as append_key_part does) and fnv1a64 is the 64-bit FNV-1a hash of
//   its bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3). The
//   function must never change: a key that moved to another shard would be
//   exported twice (once by each shard's own ledger).
//   `keep_own_rows` drops the other shards' rows from a page after it was
//   read; the page's `end` and `next` stay, so the checkpoint still moves
//   past them (the extractor and the audit call it).
//   `parse_shard` reads "k/N"; k may also be a StatefulSet pod name such as
//   "stampede-service-19-sharded-2" (its ordinal, the digits after the last
//   '-', is k), so a manifest can pass `--shard $(POD_NAME)/4`.
//   `shard_dir` is the state directory of a shard: `<state.dir>/shard-k-of-N`
//   (N = 1, or no --shard: state.dir itself).
// Concurrency: pure functions, thread-safe.
// Limitations: filtering happens after reading, so each of N workers reads
//   (and pays the source for) every row and exports about 1/N of them; the
//   speed-up is in transform, delivery and ledger work, not in reading.
//   The number of shards is fixed for the life of the state: changing N
//   would move keys between shards (the CLI refuses it, see
//   tools/stampede/cmd_common.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stampede {

struct row_page;

struct shard_spec {
  std::uint32_t index = 0;  // k, 0-based
  std::uint32_t count = 1;  // N; 1 = not sharded
  bool sharded() const { return count > 1; }
  friend bool operator==(const shard_spec&, const shard_spec&) = default;
};

/// The largest N accepted.
inline constexpr std::uint32_t max_shards = 1024;

/// 64-bit FNV-1a of the bytes of `s`.
std::uint64_t fnv1a64(std::string_view s) noexcept;

/// The shard (0..count-1) a record key belongs to.
inline std::uint32_t shard_of(std::string_view key, std::uint32_t count) noexcept {
  return count <= 1 ? 0 : static_cast<std::uint32_t>(fnv1a64(key) % count);
}

inline bool owns(const shard_spec& s, std::string_view key) noexcept {
  return !s.sharded() || shard_of(key, s.count) == s.index;
}

/// "k/N" (k = 0..N-1, or a pod name ending in "-k") -> `out`; "" and `out`
/// set when valid, else what is wrong (for "error: --shard: ...").
std::string parse_shard(std::string_view text, shard_spec& out);

/// "2/4" (k/N), for logs and status.
std::string to_string(const shard_spec& s);

/// The state directory of shard `s` under `state_dir` (see above).
std::string shard_dir(const std::string& state_dir, const shard_spec& s);

/// Removes the rows (and their cells) that belong to other shards; keeps
/// `end`, `next` and `last`. Returns how many rows were dropped.
std::size_t keep_own_rows(row_page& page, const shard_spec& s);

} // namespace stampede
