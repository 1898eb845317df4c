// Binary value encoding of ledger_entry and service_state (RocksDB values).
//
// Operation: `encode_*` appends a compact value to `out`; `decode_*` parses a
//   whole value and returns nullopt (with the reason in `why`) when it is not
//   a well-formed value of a known format version. Layout (docs/state-store.md):
//     byte 0: format version (value_format_version = 2; entries and states of
//       version 1 stay readable and decode with the v2 fields defaulted)
//     ledger_entry v1: u64 content_hash (8 bytes LE), str remote_id, u8 status,
//       varint attempts, str last_stamp, u8 last_op, zigzag-varint updated_ms,
//       str last_error
//     service_state v1: str checkpoint_stamp, zigzag-varint checkpoint_recno,
//       u8 flags (bit 0 = initial_load_complete), str newest_delivered_stamp,
//       zigzag-varint last_run_ms, 4 x varint counts, varint created, updated,
//       deleted, failed
//     ledger_entry v2: v1 + zigzag-varint created_ms, str changed_by, varint
//       generation, str batch_id, varint items
//     ledger_entry v3 (only when it has returned values): v2 + varint n,
//       n x (str name, str value)
//     service_state v2: v1 + varint n, n x (str from, str to, varint
//       generation, str by) replays, str last_error, zigzag-varint
//       last_error_ms, varint consecutive_failures
//     log_item (v2 only): zigzag-varint time_ms, u8 status, u8 op, varint
//       attempt, zigzag-varint http_status, str message, str sent, str
//       received, str by
//     pending_batch (v2 only): str batch_id, zigzag-varint submitted_ms,
//       varint n, n x (str key, u8 op, u64 content_hash, str remote_id, str
//       stamp, zigzag-varint recno, varint attempts, zigzag-varint
//       prior_status, varint generation, str idempotency_key)
//     service_event (v2 only): zigzag-varint time_ms, str by, str text
//     target_health (v2 only): str target, u8 breaker, varint
//       consecutive_failures, str last_failure, zigzag-varint changed_ms,
//       zigzag-varint retry_at_ms
//     str = varint length + bytes. Trailing bytes make a value corrupt.
// Concurrency: pure functions.
// Limitations: a new field means a new version byte; decoders accept only
//   versions they know (older ones must stay decodable once v2 exists).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/ledger.hpp"

namespace stampede::value_codec {

inline constexpr unsigned char value_format_version = 2;
/// A ledger entry with returned values (ledger_entry::returned) is written
/// as v3 = v2 + varint n (1..max_returned_values), n x (str name, str value);
/// one without them stays v2.
inline constexpr unsigned char entry_format_v3 = 3;
inline constexpr std::size_t max_returned_values = 64;

void encode_entry(std::string& out, const ledger_entry& e);
std::optional<ledger_entry> decode_entry(std::string_view in, std::string* why = nullptr);

void encode_state(std::string& out, const service_state& s);
std::optional<service_state> decode_state(std::string_view in, std::string* why = nullptr);

void encode_item(std::string& out, const log_item& it);
std::optional<log_item> decode_item(std::string_view in, std::string* why = nullptr);

void encode_batch(std::string& out, const pending_batch& b);
std::optional<pending_batch> decode_batch(std::string_view in, std::string* why = nullptr);

void encode_event(std::string& out, const service_event& e);
std::optional<service_event> decode_event(std::string_view in, std::string* why = nullptr);

void encode_target(std::string& out, const target_health& t);
std::optional<target_health> decode_target(std::string_view in, std::string* why = nullptr);

/// Printable form of a possibly binary record key for error messages
/// (non-printable bytes as \xHH, at most ~80 chars).
std::string printable(std::string_view key);

} // namespace stampede::value_codec
