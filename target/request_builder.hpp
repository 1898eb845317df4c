// request_builder: the bytes, URLs and headers of every request a target
// protocol sends (see docs/targets.md).
//
// Operation: pure functions from (target_config, send_batch, record) to an
//   http_request. Paths and envelope types are templates (pipeline/
//   placeholders.hpp): `{service}` / `{service_id}` (the numeric service id),
//   `{service_name}`, `{batch}`, and per record `{op}`, `{type}` (the
//   envelope type of the record's operation), `{key}`, `{id}` (remote id) and
//   every value of response.returns (`{rev}`); in paths each value is
//   percent-encoded. Batch bodies (sync/async) follow [request]: the records
//   array bare or under `wrap` (with constant `body_fields`), each record
//   `wrapped` ({"key","op","idempotencyKey","data"}) or `flat` (the data's
//   members with the key in `key_field`, no idempotency member: use
//   `{idempotency_key}` in request.fields), plus `request.fields` (a member
//   whose placeholder has no value for this record is left out), deletes as
//   `delete` says (send / mark: an update carrying delete_field =
//   delete_value; skip is the send driver's). The data objects are copied
//   raw from the batch arena. REST sends one request per record with the
//   methods of request.methods; the envelope format sends one message per
//   record to paths.message, whatever the protocol. X-Record-Key carries the
//   record key percent-encoded (no header injection, any byte survives).
//   request.batch_idempotency_header carries one key per batch request: the
//   hash of its records' idempotency keys, so a repeat is the same key.
//   Every JSON string (record key, idempotency key, envelope type and tenant)
//   goes through json_quote_append (pipeline/json_writer.hpp): invalid UTF-8
//   in a key (a Latin-1 CHAR column) becomes U+FFFD, so a body is always
//   valid JSON; the target echoes json_string_value(key).
// Concurrency: stateless; thread-safe.
// Limitations: `data` is trusted to be one valid JSON object (the
//   transformer wrote it); an empty data slice is sent as `null` (flat: no
//   members). A flat record whose data already has a member named like
//   key_field, a request.fields member or delete_field sends it twice (JSON
//   parsers keep the last). A caller that passes only the id (service_ref
//   from an integer) gets the id for `{service_name}` too.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/placeholders.hpp"
#include "target/http_client.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stampede {

/// The service a request is for: id, and the name for `{service_name}`.
struct service_ref {
  std::uint32_t id = 0;
  std::string_view name;  // "" = unknown: {service_name} expands to the id
  service_ref(std::uint32_t id_) : id(id_) {}  // NOLINT: implicit on purpose (old callers)
  service_ref(std::uint32_t id_, std::string_view name_) : id(id_), name(name_) {}
};

/// Appends `s` as a quoted, escaped JSON string: json_quote_append(), the
/// project's one escaper (invalid UTF-8 -> U+FFFD, docs/transform.md).
void append_json_string(std::string& out, std::string_view s);

/// "create" | "update" | "delete"
std::string_view op_name(record_op op);

/// Replaces {service}, {service_id}, {service_name}, {batch}, {id} in a path
/// template (each URL-encoded) and joins it to base_url (one '/' between
/// them). A placeholder without a value here is left as it is (config
/// validation refuses such templates).
std::string target_url(const target_config& tgt, std::string_view path_template,
                       service_ref service, std::string_view batch_id = {},
                       std::string_view remote_id = {});

/// The value of a record placeholder ({key}, {id}, {rev}, ...) for `r`, or
/// nullopt when it has none (no remote id yet, a value never returned).
std::optional<std::string_view> record_placeholder(const target_config& tgt, const out_record& r,
                                                   service_ref service, std::string_view name,
                                                   std::string& scratch);

/// A per-record path joined to base_url; nullopt (with the placeholder's name
/// in `missing`) when a placeholder has no value for this record.
std::optional<std::string> record_url(const target_config& tgt, std::string_view path_template,
                                      const out_record& r, service_ref service,
                                      std::string& missing);

/// The operation a record goes out as: a delete under request.delete = mark
/// is an update.
record_op wire_op(const target_config& tgt, const out_record& r);

/// One key for a whole batch request: hex of the hash of its records'
/// idempotency keys (the same batch gives the same key on every attempt).
std::string batch_idempotency_key(const send_batch& b);

/// The body of a sync or async batch, as [request] shapes it (default
/// `{"records":[{"key","op","idempotencyKey","data"}]}`).
std::string batch_body(const target_config& tgt, const send_batch& b, service_ref service = 0);

/// Envelope message type: the op's template with {service}, {service_name},
/// {key}, {op} replaced (one pass: replaced text is not expanded again).
std::string envelope_type(const envelope_config& env, record_op op, service_ref service,
                          std::string_view key);

/// `{"header":{"type":..,"tenantId":..,"key":..},"data":{..}}`; with
/// envelope.header set, the header has exactly those members.
std::string envelope_body(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service);

/// Base request: timeouts from tgt, Content-Type/Accept for JSON bodies.
http_request base_request(const target_config& tgt, std::string method, std::string url);

/// POST paths.batch (async) or paths.sync (sync) with batch_body().
http_request batch_request(const target_config& tgt, const send_batch& b, service_ref service);
/// GET paths.batch_status with {batch} = batch_id.
http_request batch_status_request(const target_config& tgt, service_ref service,
                                  std::string_view batch_id);

enum class rest_errc { ok = 0, missing_remote_id, missing_value };

/// REST: create -> paths.record (body = data, X-Record-Key, idempotency
/// header); update -> paths.record_id; delete -> paths.record_id (no body;
/// under request.delete = mark an update carrying the marker), with the
/// methods of request.methods (POST, PUT, DELETE by default).
/// update/delete without a remote id set `err` = missing_remote_id; a path
/// placeholder without a value (a {rev} never returned) sets missing_value
/// and, when given, its name in `*missing`.
http_request rest_request(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service, rest_errc& err, std::string* missing = nullptr);

/// Envelope: POST paths.message with envelope_body(). A path placeholder
/// without a value for this record sets `*missing` to its name.
http_request envelope_request(const target_config& tgt, const send_batch& b, const out_record& r,
                              service_ref service, std::string* missing = nullptr);

}  // namespace stampede
