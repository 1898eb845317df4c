// RocksDB tuning of the state store (one place for every knob).
//
// Operation: `store_tuning` holds the sizes; `make_db_options` and
//   `make_cf_options` turn them into RocksDB options for the DB and for each
//   column family. The defaults target ~10M small ledger entries written in
//   1000-entry batches with a small, bounded memory footprint:
//     - ledger CF: 10-bit bloom filter (MultiGet of unseen keys skips files),
//       memtable bloom, 32 MB memtables (max 3), LZ4 when available,
//       partitioned index/filter blocks in the shared block cache (so they
//       are bounded too), 4 KB blocks (point lookups decompress little).
//     - checkpoints / meta: tiny memtables, no compression.
//     - shared LRU block cache 32 MB, max_open_files 512, WAL total capped (64 MB) so
//       the rarely-flushed small CFs do not pin old WAL files forever.
//   Rationale and numbers: docs/state-store.md.
// Concurrency: pure functions; the returned cache is shared by all CFs.
// Limitations: not configurable from the TOML config (no need shown yet).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/options.h>

namespace stampede::storage_detail {

struct store_tuning {
  std::size_t block_cache_bytes = 16u << 20;
  std::size_t ledger_write_buffer_bytes = 16u << 20;
  int ledger_max_write_buffers = 2;
  std::size_t small_write_buffer_bytes = 4u << 20;
  std::size_t max_total_wal_bytes = 64u << 20;
  int max_open_files = 512;
  int max_background_jobs = 2;
};

inline constexpr const char* cf_ledger = "ledger";
inline constexpr const char* cf_checkpoints = "checkpoints";
inline constexpr const char* cf_meta = "meta";
inline constexpr const char* cf_log_items = "log_items";
inline constexpr const char* cf_resend = "resend";
inline constexpr const char* cf_batches = "batches";
inline constexpr const char* cf_events = "events";

/// The block cache shared by all column families: LRU, 16 shards (each shard
/// must hold the largest cached block), half reserved for index/filter blocks.
std::shared_ptr<rocksdb::Cache> make_block_cache(const store_tuning& t);

rocksdb::DBOptions make_db_options(const store_tuning& t, bool read_only);

/// Options for column family `name`; unknown names get the small-CF options.
rocksdb::ColumnFamilyOptions make_cf_options(const store_tuning& t, const std::string& name,
                                             const std::shared_ptr<rocksdb::Cache>& cache);

} // namespace stampede::storage_detail
