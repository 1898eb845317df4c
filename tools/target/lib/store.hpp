// Record state of stampede-target: records per (service, key), idempotency
// results per (service, idempotencyKey), and the remote-id index.
//
// Operation: `apply` runs one record operation with the documented semantics
//   (create / duplicate / revive, update, delete, replay, validation) and
//   counts it into the caller's `stats_delta`. Remote ids are "<service>-<n>"
//   with n from one global counter. `save` / `load` write and read a
//   length-prefixed binary snapshot (records, idempotency results, counter).
// Concurrency: thread-safe. Records live in 256 mutex-guarded shards, the
//   idempotency results and the id index in 64 each. Lock order is
//   idempotency shard -> record shard -> id-index shard, so no deadlock; a
//   record's idempotency shard stays locked while it is applied, so two
//   concurrent uses of one idempotency key apply once. Indexes are
//   open-addressing tables (flat_index.hpp) so 10M keys stay compact.
// Limitations: records are never erased (delete marks them), only `clear`
//   frees memory; about 70 bytes + key + data per record
//   (arenas); an update larger than the old data leaves the old bytes unused.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "tools/target/lib/arena.hpp"
#include "tools/target/lib/flat_index.hpp"
#include "tools/target/lib/rules.hpp"
#include "tools/target/lib/stats.hpp"

namespace stampede::target {

/// Outcome of one record operation (also the code sent in error bodies).
enum class errc : std::uint8_t { ok = 0, not_found, validation, bad_request };
std::string_view errc_code(errc e);  // "ok", "not_found", "validation", "bad_request"

enum class op_kind : std::uint8_t { create, update, del };

struct record_op {
  std::string_view key;
  op_kind op = op_kind::create;
  std::string_view idempotency_key;  // empty = none
  std::string_view data;             // raw JSON object; empty = "{}"
};

struct record_result {
  errc code = errc::ok;
  std::uint64_t n = 0;  // remote id number; meaningful when code == ok
  std::string message;  // error message when code != ok
  bool replay = false;  // the result was replayed from an earlier request
};

struct record_snapshot {
  std::string key;
  std::uint64_t n = 0;
  std::uint32_t version = 0;
  bool deleted = false;
  std::string data;
};

class store {
public:
  store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  record_result apply(std::uint32_t service, const record_op& op, const std::vector<rule>& rules,
                      simdjson::dom::parser& parser, stats_delta& d);
  /// Cache hint for a record about to be applied (no lock, no effect on state).
  void prefetch(std::uint32_t service, std::string_view key) const;

  std::optional<record_snapshot> get(std::uint32_t service, std::string_view key) const;
  /// Every record of `service` (live and deleted), sorted by key. Copies them
  /// all: for tests and small services (one shard lock at a time, so it is
  /// not a snapshot of one instant while requests are applied).
  std::vector<record_snapshot> all(std::uint32_t service) const;
  /// The key of remote id n in `service`, if it exists.
  std::optional<std::string> key_of(std::uint32_t service, std::uint64_t n) const;

  void clear();
  /// Writes a snapshot atomically (temp file + rename); throws std::runtime_error.
  void save(const std::string& path) const;
  /// Replaces the state with the file's; returns false if the file does not
  /// exist; throws std::runtime_error on a corrupt file. Fills live counts.
  bool load(const std::string& path, stats& st);

private:
  // Nodes and their bytes live in the shard's arena (trivially destructible).
  struct record {
    const char* composite;  // 4-byte big-endian service + record key
    char* data;
    std::uint64_t n;
    std::uint32_t composite_len, data_len, data_cap, version;
    bool deleted;
    std::string_view key() const { return {composite, composite_len}; }
    std::string_view json() const { return {data, data_len}; }
  };
  struct stored_result {
    const char* composite;  // 4-byte big-endian service + idempotency key
    const char* message;
    std::uint64_t n;
    std::uint32_t composite_len, message_len;
    errc code;
    std::string_view key() const { return {composite, composite_len}; }
  };
  static constexpr std::size_t record_shards = 256, aux_shards = 64;
  struct alignas(64) record_shard {
    mutable std::mutex mu;
    flat_index<record> index;
    arena mem;
  };
  struct alignas(64) idem_shard {
    mutable std::mutex mu;
    flat_index<stored_result> index;
    arena mem;
  };
  // Remote id n lives in shard n % aux_shards at position n / aux_shards.
  struct alignas(64) id_shard {
    mutable std::mutex mu;
    std::vector<const record*> by_n;
  };

  record_result apply_unlocked_idem(std::uint32_t service, const record_op& op,
                                    const std::vector<rule>& rules, simdjson::dom::parser& parser,
                                    stats_delta& d);
  void index_id(const record* r);
  static void set_data(record& r, std::string_view data, arena& mem);
  record* insert_record(record_shard& sh, std::uint64_t h, std::string_view composite,
                        std::uint64_t n, std::uint32_t version, bool deleted, std::string_view data);

  std::array<record_shard, record_shards> records_;
  std::array<idem_shard, aux_shards> idem_;
  std::array<id_shard, aux_shards> ids_;
  std::atomic<std::uint64_t> next_n_{1};
};

/// "<service>-<n>"
std::string remote_id(std::uint32_t service, std::uint64_t n);
/// Parses "<service>-<n>"; false if malformed.
bool parse_remote_id(std::string_view s, std::uint32_t& service, std::uint64_t& n);

}  // namespace stampede::target
