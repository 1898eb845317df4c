// response_map: turns a target's JSON answer into per-record outcomes.
//
// Operation: `map_batch_response()` parses the body (simdjson DOM), finds the
//   results array at `mapping.results` (a JSON pointer, "" = the root) and
//   matches results to the batch's records either by the echoed key
//   (`mapping.key_field`) or by position (key_field ""). An error field counts
//   when it is present, non-null and not blank ("", whitespace, false: SET
//   answers `"erro":""` on success). With error_rule first_present the first
//   such field of `mapping.error_fields` decides that the record failed (its
//   value rendered: strings raw, anything else as compact JSON); with
//   first_decides only the FIRST listed field decides and the others that
//   are present follow it in the message ("conflict: Document update
//   conflict."). Otherwise it succeeded with the id at `mapping.id_field`
//   ("" = none) and the values of `mapping.returns` that are present.
//   Each outcome's `received` is its result object as compact JSON, capped
//   at max_received_bytes (cap_received()).
//   A record without a result gets the error "no result for key <key>".
//   A body that is not JSON, or has no results array, gives every record the
//   retryable error "malformed response: ..." and errc::malformed.
//   Field names without a leading '/' are treated as top-level fields
//   ("id" == "/id").
// Concurrency: free functions; each thread uses its own parser (thread_local).
// Limitations: ids and keys that are not strings are compared/rendered as
//   their compact JSON text (42 -> "42"). A record key with invalid UTF-8 is
//   matched as it was sent (json_string_value(): U+FFFD in place of the bad
//   bytes), so two keys differing only in invalid bytes are ambiguous. Duplicate keys in one batch take
//   results of that key in order.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

enum class map_errc { ok = 0, malformed };

struct mapped_response {
  map_errc err = map_errc::ok;
  std::string error;                     // set when err != ok
  std::vector<record_outcome> outcomes;  // one per batch record, in order
};

/// Sync responses and async "done" status bodies.
mapped_response map_batch_response(std::string_view body, const response_mapping& m,
                                   const send_batch& b);

/// One result object for a single-record request (REST, envelope) answered
/// 2xx. Empty body -> ok without id. Not JSON -> retryable "malformed response".
/// `received` = the body, capped.
record_outcome map_single_response(std::string_view body, const response_mapping& m);

/// Text of the first present, non-null error field of an error body, or
/// nullopt when the body is not JSON or has none of them.
std::optional<std::string> error_text(std::string_view body, const response_mapping& m);

/// Value at a JSON pointer, rendered like ids (strings raw). nullopt when the
/// body is not JSON or the pointer is absent or null.
std::optional<std::string> json_value_at(std::string_view body, std::string_view pointer);

/// The first max_received_bytes of `text`, cut back to a UTF-8 character
/// boundary (a capped JSON text is no longer valid JSON).
std::string cap_received(std::string_view text);

/// "id" -> "/id"; "/a/b" and "" unchanged.
std::string normalize_pointer(std::string_view field);

}  // namespace stampede
