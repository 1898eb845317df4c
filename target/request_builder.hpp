// request_builder: the bytes, URLs and headers of every request a target
// protocol sends (see docs/targets.md).
//
// Operation: pure functions from (target_config, send_batch, record) to an
//   http_request. Paths are templates: `{service}` (the numeric service id),
//   `{service_name}` (the service's name), `{batch}` (batch id) and `{id}`
//   (remote record id); name, batch and record ids are percent-encoded. Batch bodies (sync/async, records format) are
//   `{"records":[{"key":..,"op":..,"idempotencyKey":..,"data":{..}}]}` with the
//   data objects copied raw from the batch arena; the idempotency field is
//   omitted when tgt.idempotency_field is empty. REST sends one request per
//   record; the envelope format sends one message per record to
//   paths.message, whatever the protocol. X-Record-Key carries the record key
//   percent-encoded (no header injection, any byte survives). Every JSON
//   string (record key, idempotency key, envelope type and tenant) goes
//   through json_quote_append (pipeline/json_writer.hpp): invalid UTF-8 in a
//   key (a Latin-1 CHAR column) becomes U+FFFD, so a body is always valid
//   JSON; the target echoes json_string_value(key).
// Concurrency: stateless; thread-safe.
// Limitations: `data` is trusted to be one valid JSON object (the
//   transformer wrote it); an empty data slice is sent as `null`.
//   `{service}` in envelope types is the numeric service id, `{service_name}`
//   the name (raw). A caller that passes only the id (service_ref from an
//   integer) gets the id for `{service_name}` too.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/placeholders.hpp"
#include "target/http_client.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
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

/// Replaces {service}, {service_name}, {batch}, {id} in a path template
/// (name, batch and id are URL-encoded) and joins it to base_url (one '/' between them).
std::string target_url(const target_config& tgt, std::string_view path_template,
                       service_ref service, std::string_view batch_id = {},
                       std::string_view remote_id = {});

/// `{"records":[...]}` for the sync and async batch protocols.
std::string batch_body(const target_config& tgt, const send_batch& b);

/// Envelope message type: the op's template with {service}, {service_name},
/// {key}, {op} replaced (one pass: replaced text is not expanded again).
std::string envelope_type(const envelope_config& env, record_op op, service_ref service,
                          std::string_view key);

/// `{"header":{"type":..,"tenantId":..,"key":..},"data":{..}}`
std::string envelope_body(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service);

/// Base request: timeouts from tgt, Content-Type/Accept for JSON bodies.
http_request base_request(const target_config& tgt, std::string method, std::string url);

/// POST paths.batch (async) or paths.sync (sync) with batch_body().
http_request batch_request(const target_config& tgt, const send_batch& b, service_ref service);
/// GET paths.batch_status with {batch} = batch_id.
http_request batch_status_request(const target_config& tgt, service_ref service,
                                  std::string_view batch_id);

enum class rest_errc { ok = 0, missing_remote_id };

/// REST: create -> POST paths.record (body = data, X-Record-Key, idempotency
/// header); update -> PUT paths.record_id; delete -> DELETE paths.record_id.
/// update/delete without a remote id set `err` = missing_remote_id.
http_request rest_request(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service, rest_errc& err);

/// Envelope: POST paths.message with envelope_body().
http_request envelope_request(const target_config& tgt, const send_batch& b, const out_record& r,
                              service_ref service);

}  // namespace stampede
