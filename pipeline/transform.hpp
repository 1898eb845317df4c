// Declarative transform: one source page -> send batches of JSON records.
//
// Operation: a `transformer` is built once per service from its field
//   mapping (validated up front: bad mappings throw std::invalid_argument
//   naming the service, the field and the problem). It precomputes the whole
//   `data` object as a program of literal fragments (`{"id":`, `,"address":{"city":`)
//   and typed cell conversions, with dotted names grouped into nested objects
//   in order of first appearance and constants inlined. `run(page)` renders
//   each row into a reusable buffer, computes its content hash, decides the
//   operation from the prior ledger entry (create / update / delete / skip)
//   and appends the record to the current batch; batches close at
//   `batch_records` records or when the next record would push the data
//   bytes past `batch_bytes`. Every batch of a page carries page_seq,
//   page_end, part and parts; a page with nothing to send yields ONE empty
//   batch so the reconciler can still move the checkpoint.
//   Conversions, the op decision table, the content hash and the idempotency
//   key byte layout are documented in docs/transform.md.
// Concurrency: immutable after construction; run() is const and thread-safe
//   (all scratch state is local to the call).
//   A record whose JSON data is longer than the target's max_record_bytes
//   is a record error (never sent), reported with its size and the limit.
//   Memory per record is proportional to its rendered size: the render
//   buffer is never initialised beyond what is written.
// Limitations: a record whose data alone exceeds batch_bytes goes alone in a
//   batch (it is not split). Values convert from their text form only; SQL
//   REAL text in exponent notation is rejected by `decimal`. Time zones are
//   fixed offsets (source.utc_offset_minutes).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

enum class transform_errc { ok, bad_mapping, bad_value };

/// Converts one text cell to its JSON value for `type` (exactly what run()
/// does for a non-NULL cell). On success appends the JSON (possibly `null`
/// for blank dates/booleans/numbers) to `out` and returns ok; on a bad value
/// appends nothing, sets `why` and returns bad_value.
transform_errc convert_value(field_type type, bool trim, int utc_offset_minutes,
                             std::string_view in, std::string& out, std::string& why);

/// Content hash: XXH64 (seed 0) of the data JSON bytes followed by one byte,
/// 0x01 when the row is deleted, 0x00 otherwise.
std::uint64_t content_hash(std::string_view data_json, bool deleted);

/// Idempotency key: hex64(XXH64, seed 0) of
///   u32 service id (LE) | u32 key length (LE) | key bytes | u64 content hash (LE) | u8 op
///   [| u32 generation (LE), only when generation != 0]
/// where op is the record_op value (0 create, 1 update, 2 delete). A manual
/// resend or a replay bumps the generation, so an idempotent API that stored
/// an error for the old key processes the record again.
std::string idempotency_key(std::uint32_t service, std::string_view key,
                            std::uint64_t content_hash, record_op op, std::uint32_t generation = 0);

/// "Z" for 0, else "+HH:MM" / "-HH:MM".
std::string utc_offset_suffix(int utc_offset_minutes);

class transformer {
public:
  /// Validates the mapping; throws std::invalid_argument with a clear message.
  transformer(const service_config& svc, const target_config& tgt, const source_config& src);
  ~transformer();
  transformer(transformer&&) noexcept;
  transformer& operator=(transformer&&) noexcept;

  /// Distinct source columns the mapping reads, in first-use order: the order
  /// the source must deliver them in row_page::columns.
  const std::vector<std::string>& columns() const { return columns_; }

  /// Turns one page into batches (at least one). Throws std::invalid_argument
  /// when the page's service or columns do not match this transformer.
  std::vector<std::shared_ptr<send_batch>> run(const row_page& page) const;

private:
  struct step;
  std::uint32_t service_ = 0;
  std::string service_label_;          // "service 7 'taxpayers'"
  std::vector<std::string> columns_;
  std::vector<step> steps_;            // literal fragment, then one cell value
  std::string tail_;                   // literal after the last cell ("}" at least)
  std::string literal_pool_;           // every step's fragment, back to back, + 16 bytes padding
  std::size_t fixed_bound_ = 0;        // render bound without the cells' 6x bytes
  std::vector<std::uint32_t> col_uses_; // fields rendering each column (a column may feed several)
  std::string tz_suffix_;
  std::uint32_t batch_records_ = 1;
  std::uint64_t batch_bytes_ = 1;
  std::uint64_t max_record_bytes_ = 0;  // target's max_record_bytes: a longer record is an error
  std::string target_name_;
};

} // namespace stampede
