// The audit: compares a service's source table with its ledger and reports
// the drift -- what the incremental walk can no longer see.
//
// Operation: two passes, each in ranges of `range_rows` (bounded memory).
//   1. Source -> ledger: the table in keyset pages on (stamp, recno) from the
//      start (every row, also those newer than the checkpoint), each page
//      rendered by the service's transformer (forced, so every row gets its
//      content hash) with the page's ledger entries (one MultiGet). A row
//      whose stamp is at or before the checkpoint is
//        - `missing` when the ledger has no entry for it (e.g. a transaction
//          committed late, with a stamp older than the lookback reaches), and
//          it is not a soft-deleted row that was never delivered;
//        - `changed` when its entry was delivered (Success) or given up
//          (Cancelled) with another content hash (the row changed without a
//          delivery);
//        - in sync otherwise (also an entry in Error or Pending: the resend
//          queue owns it). Rows after the checkpoint are the next cycle's
//          work (`ahead`), rows the mapping rejects are record errors
//          (`unmappable`, see `stampede log`), neither is drift.
//   2. Ledger -> source: the service's ledger in key order; every entry
//      delivered as alive (last operation create/update, Success or with a
//      remote id) whose key has no row in the source any more is `deleted`
//      (a hard delete: the source lost the row without a soft delete).
//   With `--shard k/N` (config::shard) pass 1 keeps only shard k's rows
//   (pipeline/shard.hpp): the other shards' rows are in their own ledgers.
//   `repair_request` turns the missing and changed keys into one resend
//   request (engine/requests.hpp, `create_missing`): the next cycle re-reads
//   them by key and sends them (missing rows as creates, changed ones as
//   updates). Hard deletes are reported, not repaired: the pipeline has no
//   delete for a row it cannot read.
// Concurrency: one thread; reads the store while a worker may run (the
//   caller opens it read-only then) and the source in short transactions.
// Limitations: memory is O(range_rows) plus the drift keys kept for
//   --repair (capped at `max_keys`, beyond that only counted). A row changed
//   while the audit reads it may show as drift once; the audit is a
//   report, not a lock.
#pragma once

#include "pipeline/config.hpp"
#include "source/source.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stampede {

struct request;

struct audit_options {
  std::uint32_t range_rows = 5000;   // source rows / ledger keys per range
  std::size_t max_keys = 1000000;    // drift keys kept for repair and listing
};

struct audit_report {
  std::uint32_t service = 0;
  std::string checkpoint;            // the service's checkpoint stamp ("" = none yet)
  std::uint64_t source_rows = 0;     // rows read, soft-deleted ones included
  std::uint64_t ledger_entries = 0;  // entries read in pass 2
  std::uint64_t in_sync = 0;
  std::uint64_t ahead = 0;           // rows after the checkpoint (not drift)
  std::uint64_t unmappable = 0;      // rows the transform rejects (not drift)
  std::uint64_t missing = 0, changed = 0, deleted = 0;
  std::vector<std::string> missing_keys, changed_keys, deleted_keys;  // capped at max_keys
  bool keys_truncated = false;
  double seconds = 0;
  std::uint64_t drift() const { return missing + changed + deleted; }
};

class auditor {
public:
  auditor(const config& cfg, const service_config& svc, state_store& store, source& src);
  /// Runs both passes. Throws source_error / store_error.
  audit_report run(const audit_options& o = {});

private:
  const config& cfg_;
  const service_config& svc_;
  state_store& store_;
  source& src_;
};

/// The resend request that repairs `r` (missing and changed keys), or
/// nullopt when there is nothing to repair.
std::optional<request> repair_request(const audit_report& r, const std::string& by);

/// One line per finding kind and the counts, for people.
std::string render(const audit_report& r, std::size_t list_keys = 10);

/// The report as one JSON object (keys listed up to `list_keys` per kind).
std::string to_json(const audit_report& r, std::size_t list_keys = 100);

/// The drift metric in the Prometheus text format (for node_exporter's
/// textfile collector; docs/metrics.md): stampede_audit_drift_records
/// {service,kind="missing|changed|deleted"}, stampede_audit_rows{service},
/// stampede_audit_seconds{service}, stampede_audit_timestamp_seconds{service}.
std::string to_prometheus(const audit_report& r, std::int64_t now_unix_s);

} // namespace stampede
