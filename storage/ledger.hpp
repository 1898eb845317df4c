// The state store: ledger, checkpoints and service state in one RocksDB.
//
// Operation: `state_store::open(dir)` opens (creating if missing) a RocksDB
//   with one column family per concern:
//     - "ledger":      key_codec(service u16, record key string) -> ledger_entry
//     - "checkpoints": key_codec(service u16) -> service_state
//     - "meta":        "schema" -> format version
//   `commit()` writes ledger updates and the service state (the checkpoint)
//   in ONE WriteBatch, so a crash never leaves a checkpoint ahead of the
//   ledger entries it covers.
// Concurrency: RocksDB is thread-safe; one writer per service is assumed (the
//   service's reconciler). Reads may come from any thread. `commit(sync=true)`
//   blocks on fsync: never call it on a CAF scheduler worker thread.
// Limitations: values use a small versioned binary format (see ledger.cpp);
//   read-only opens (status command) see the state as of open time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

enum class record_status : std::uint8_t { pending = 0, success = 1, error = 2, cancelled = 3 };
std::string_view to_string(record_status s);  // "pending" | "success" | "error" | "cancelled"

/// What we know of one record at the target.
struct ledger_entry {
  std::uint64_t content_hash = 0;   // hash of the JSON data last sent
  std::string remote_id;            // id the target returned ("" = none yet)
  record_status status = record_status::pending;
  std::uint32_t attempts = 0;       // attempts for the current content
  std::string last_stamp;           // S_T_A_M_P_ of the version last sent
  std::uint8_t last_op = 0;         // record_op of the last send (0 create, 1 update, 2 delete)
  std::int64_t updated_ms = 0;      // unix ms of the last outcome
  std::string last_error;           // empty on success
  friend bool operator==(const ledger_entry&, const ledger_entry&) = default;
};

/// Per-service progress; the checkpoint lives here.
struct service_state {
  std::string checkpoint_stamp;     // keyset position: strictly after (stamp, recno)
  std::int64_t checkpoint_recno = 0;
  bool initial_load_complete = false;
  std::string newest_delivered_stamp;  // for freshness lag
  std::int64_t last_run_ms = 0;        // unix ms when the last cycle finished
  std::array<std::uint64_t, 4> counts{};  // records by record_status (index = enum value)
  std::uint64_t created = 0, updated = 0, deleted = 0, failed = 0;  // cumulative outcomes
  friend bool operator==(const service_state&, const service_state&) = default;
};

/// Version written to meta/"schema" (decimal text). open() refuses newer ones.
inline constexpr std::uint32_t state_schema_version = 1;

enum class store_errc { ok = 0, io_error, corruption, bad_format, locked };

struct store_error : std::runtime_error {
  store_error(store_errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  store_errc code;
};

class state_store {
public:
  /// Opens or creates the store in `dir`. `read_only` opens without taking the
  /// lock (for `stampede status` while a run is going). Throws store_error.
  static std::unique_ptr<state_store> open(const std::string& dir, bool read_only = false);
  virtual ~state_store() = default;

  /// Ledger entries for `keys` of `service`, in the same order (nullopt = never seen).
  virtual std::vector<std::optional<ledger_entry>>
  get_many(std::uint32_t service, const std::vector<std::string_view>& keys) = 0;

  virtual std::optional<ledger_entry> get(std::uint32_t service, std::string_view key) = 0;

  /// State of a service (default-constructed when never run).
  virtual service_state load_state(std::uint32_t service) = 0;

  /// Atomically writes `updates` and `state` in one WriteBatch.
  virtual void commit(std::uint32_t service,
                      const std::vector<std::pair<std::string, ledger_entry>>& updates,
                      const service_state& state, bool sync) = 0;

  /// Calls fn(key, entry) for each ledger entry of `service` in key order;
  /// stop early by returning false.
  virtual void scan(std::uint32_t service,
                    const std::function<bool(std::string_view, const ledger_entry&)>& fn) = 0;

  /// Services that have a stored state, ascending.
  virtual std::vector<std::uint32_t> services() = 0;
};

} // namespace stampede
