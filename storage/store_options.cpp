// RocksDB tuning of the state store; see store_options.hpp.
#include "storage/store_options.hpp"

#include <algorithm>

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace stampede::storage_detail {
namespace {

rocksdb::CompressionType best_compression() {
  const auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end())
    return rocksdb::kLZ4Compression;
  return rocksdb::kNoCompression;
}

} // namespace

std::shared_ptr<rocksdb::Cache> make_block_cache(const store_tuning& t) {
  return rocksdb::NewLRUCache(t.block_cache_bytes, 4, false, 0.5);
}

rocksdb::DBOptions make_db_options(const store_tuning& t, bool read_only) {
  rocksdb::DBOptions o;
  o.create_if_missing = !read_only;
  o.create_missing_column_families = !read_only;
  o.max_open_files = t.max_open_files;
  o.max_background_jobs = t.max_background_jobs;
  o.max_total_wal_size = t.max_total_wal_bytes;
  o.bytes_per_sync = 1u << 20;       // smooth SST writeback instead of big bursts
  o.wal_bytes_per_sync = 1u << 20;
  o.keep_log_file_num = 3;           // RocksDB's own LOG files, not the WAL
  o.max_log_file_size = 8u << 20;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return o;
}

rocksdb::ColumnFamilyOptions make_cf_options(const store_tuning& t, const std::string& name,
                                             const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;   // bounded by the cache, not by file count
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  if (name == cf_ledger) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    // Partitioned index and filters: a whole-file filter of a large SST
    // (~2 MB per 1.7M keys) does not fit one cache shard and would be re-read
    // from disk on every lookup; 4 KB partitions cache like data blocks.
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    table.block_size = 4u << 10;
    table.optimize_filters_for_memory = true;
    // Whole-key bloom in the memtables: lookups of never-seen keys (every new
    // record) skip the up to 3 x 32 MB skiplists instead of searching them.
    o.memtable_prefix_bloom_size_ratio = 0.05;
    o.memtable_whole_key_filtering = true;
    o.write_buffer_size = t.ledger_write_buffer_bytes;
    o.max_write_buffer_number = t.ledger_max_write_buffers;
    o.min_write_buffer_number_to_merge = 1;
    o.level_compaction_dynamic_level_bytes = true;
    o.target_file_size_base = 64u << 20;
    o.max_bytes_for_level_base = 256u << 20;
    // Upper levels are rewritten soon by compaction: compressing them costs
    // CPU for little. The bottommost level (most of the data with dynamic
    // level sizes) is compressed.
    o.compression = rocksdb::kNoCompression;
    o.bottommost_compression = best_compression();
  } else {
    o.write_buffer_size = t.small_write_buffer_bytes;
    o.max_write_buffer_number = 2;
    o.compression = rocksdb::kNoCompression;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

} // namespace stampede::storage_detail
