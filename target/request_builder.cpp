#include "target/request_builder.hpp"

#include "pipeline/hash.hpp"
#include "pipeline/json_writer.hpp"

namespace stampede {
namespace {

std::string_view data_or_null(const send_batch& b, const out_record& r) {
  if (r.data_len == 0 || static_cast<std::size_t>(r.data_off) + r.data_len > b.arena.size())
    return "null";
  return b.data(r);
}

/// The members of a data object without its braces ("" for null or {}).
std::string_view data_members(const send_batch& b, const out_record& r) {
  std::string_view d = data_or_null(b, r);
  if (d.size() < 2 || d.front() != '{' || d.back() != '}') return {};
  d = d.substr(1, d.size() - 2);
  while (!d.empty() && (d.front() == ' ' || d.front() == '\n')) d.remove_prefix(1);
  return d;
}

/// `data` with `"field":value` appended as its last member.
void append_marked(std::string& out, std::string_view members, const request_template& q) {
  out.push_back('{');
  out += members;
  if (!members.empty()) out.push_back(',');
  append_json_string(out, q.delete_field);
  out.push_back(':');
  out += q.delete_value;
  out.push_back('}');
}

void add_idempotency_header(const target_config& tgt, const out_record& r, http_request& rq) {
  if (!tgt.idempotency_header.empty() && !r.idempotency_key.empty())
    rq.headers.emplace_back(tgt.idempotency_header, r.idempotency_key);
}

std::string join_url(const target_config& tgt, std::string_view path) {
  std::string url = tgt.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (path.empty() || path.front() != '/') url.push_back('/');
  url += path;
  return url;
}

/// `,"name":"value"`: one string member after others.
void append_member(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
  append_json_string(out, value);
}

/// request.fields members of one record ("name":"value" each, comma first).
void append_fields(std::string& out, const target_config& tgt, const out_record& r,
                   service_ref service) {
  std::string scratch;
  for (const auto& [name, tpl] : tgt.request.fields) {
    auto v = expand(tpl,
                    [&](std::string_view n) { return record_placeholder(tgt, r, service, n, scratch); },
                    false);
    if (v) append_member(out, name, *v);  // none yet: a create has no {rev}
  }
}

void append_wrapped(std::string& out, const target_config& tgt, const send_batch& b,
                    const out_record& r, service_ref service) {
  const bool mark = r.op == record_op::del && tgt.request.on_delete == delete_mode::mark;
  out += "{\"key\":";
  append_json_string(out, r.key);
  out += ",\"op\":\"";
  out += op_name(wire_op(tgt, r));
  out.push_back('"');
  if (!tgt.idempotency_field.empty()) append_member(out, tgt.idempotency_field, r.idempotency_key);
  append_fields(out, tgt, r, service);
  out += ",\"data\":";
  if (mark) append_marked(out, data_members(b, r), tgt.request);
  else out += data_or_null(b, r);
  out.push_back('}');
}

void append_flat(std::string& out, const target_config& tgt, const send_batch& b,
                 const out_record& r, service_ref service) {
  const request_template& q = tgt.request;
  std::string head;  // the members stampede adds, each with a leading comma
  if (!q.key_field.empty()) append_member(head, q.key_field, r.key);
  append_fields(head, tgt, r, service);
  std::string_view members = data_members(b, r);
  out.push_back('{');
  if (!head.empty()) out.append(head, 1, std::string::npos);
  if (!members.empty()) {
    if (!head.empty()) out.push_back(',');
    out += members;
  }
  if (r.op == record_op::del && !q.delete_field.empty()) {
    if (!head.empty() || !members.empty()) out.push_back(',');
    append_json_string(out, q.delete_field);
    out.push_back(':');
    out += q.delete_value;
  }
  out.push_back('}');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) { json_quote_append(out, s); }

std::string_view op_name(record_op op) {
  switch (op) {
    case record_op::create: return "create";
    case record_op::update: return "update";
    case record_op::del: return "delete";
  }
  return "create";
}

record_op wire_op(const target_config& tgt, const out_record& r) {
  if (r.op == record_op::del && tgt.request.on_delete == delete_mode::mark) return record_op::update;
  return r.op;
}

std::string target_url(const target_config& tgt, std::string_view path_template,
                       service_ref service, std::string_view batch_id,
                       std::string_view remote_id) {
  const std::string id = std::to_string(service.id);
  auto path = expand(
      path_template,
      [&](std::string_view n) -> std::optional<std::string_view> {
        if (n == "service" || n == "service_id") return std::string_view(id);
        if (n == "service_name") return service.name.empty() ? std::string_view(id) : service.name;
        if (n == "batch") return batch_id;
        if (n == "id") return remote_id;
        return std::nullopt;  // not of this context (check refuses it): kept literal
      },
      true, true);
  return join_url(tgt, *path);
}

std::optional<std::string_view> record_placeholder(const target_config& tgt, const out_record& r,
                                                   service_ref service, std::string_view n,
                                                   std::string& scratch) {
  if (n == "service" || n == "service_id") return scratch = std::to_string(service.id);
  if (n == "service_name") {
    if (service.name.empty()) return scratch = std::to_string(service.id);
    return service.name;
  }
  if (n == "key") return std::string_view(r.key);
  if (n == "idempotency_key") return std::string_view(r.idempotency_key);
  if (n == "op") return op_name(wire_op(tgt, r));
  if (n == "type") return scratch = envelope_type(tgt.envelope, wire_op(tgt, r), service, r.key);
  if (n == "id") {
    if (r.remote_id.empty()) return std::nullopt;
    return std::string_view(r.remote_id);
  }
  for (const auto& [name, value] : r.returned)
    if (name == n) return std::string_view(value);
  return std::nullopt;
}

std::optional<std::string> record_url(const target_config& tgt, std::string_view path_template,
                                      const out_record& r, service_ref service,
                                      std::string& missing) {
  std::string scratch;
  auto path = expand(
      path_template,
      [&](std::string_view n) {
        auto v = record_placeholder(tgt, r, service, n, scratch);
        if (!v && missing.empty()) missing = std::string(n);
        return v;
      },
      true);
  if (!path) return std::nullopt;
  return join_url(tgt, *path);
}

std::string batch_idempotency_key(const send_batch& b) {
  std::uint64_t h = 0x5374616d70656465ULL;  // "Stampede"
  for (const auto& r : b.records) h = xxh64(r.idempotency_key, h);
  return hex64(h);
}

std::string batch_body(const target_config& tgt, const send_batch& b, service_ref service) {
  const request_template& q = tgt.request;
  std::string out;
  out.reserve(b.arena.size() + b.records.size() * 96 + 32);
  if (!q.wrap.empty()) {
    out.push_back('{');
    for (const auto& [name, json] : q.body_fields) {
      append_json_string(out, name);
      out.push_back(':');
      out += json;
      out.push_back(',');
    }
    append_json_string(out, q.wrap);
    out.push_back(':');
  }
  out.push_back('[');
  bool first = true;
  for (const auto& r : b.records) {
    if (!first) out.push_back(',');
    first = false;
    if (q.shape == record_shape::flat) append_flat(out, tgt, b, r, service);
    else append_wrapped(out, tgt, b, r, service);
  }
  out.push_back(']');
  if (!q.wrap.empty()) out.push_back('}');
  return out;
}

std::string envelope_type(const envelope_config& env, record_op op, service_ref service,
                          std::string_view key) {
  const std::string& t = op == record_op::create   ? env.type_create
                         : op == record_op::update ? env.type_update
                                                   : env.type_delete;
  const std::string svc = std::to_string(service.id);
  // One pass: a key containing "{op}" is not expanded again.
  auto out = expand(
      t,
      [&](std::string_view n) -> std::optional<std::string_view> {
        if (n == "service" || n == "service_id") return std::string_view(svc);
        if (n == "service_name") return service.name.empty() ? std::string_view(svc) : service.name;
        if (n == "key") return key;
        if (n == "op") return op_name(op);
        return std::nullopt;  // not of this context (check refuses it): kept literal
      },
      false, true);
  return *out;
}

std::string envelope_body(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service) {
  std::string out;
  out.reserve(r.data_len + r.key.size() + 128);
  if (tgt.envelope.header.empty()) {
    out += "{\"header\":{\"type\":";
    append_json_string(out, envelope_type(tgt.envelope, wire_op(tgt, r), service, r.key));
    out += ",\"tenantId\":";
    append_json_string(out, tgt.envelope.tenant_id);
    out += ",\"key\":";
    append_json_string(out, r.key);
    out += "},\"data\":";
  } else {
    // Exactly the members the user configured (a member without a value for
    // this record is left out).
    std::string members, scratch;
    for (const auto& [name, tpl] : tgt.envelope.header) {
      auto v = expand(
          tpl, [&](std::string_view n) { return record_placeholder(tgt, r, service, n, scratch); },
          false);
      if (v) append_member(members, name, *v);
    }
    out += "{\"header\":{";
    if (!members.empty()) out.append(members, 1, std::string::npos);
    out += "},\"data\":";
  }
  if (r.op == record_op::del && tgt.request.on_delete == delete_mode::mark)
    append_marked(out, data_members(b, r), tgt.request);
  else
    out += data_or_null(b, r);
  out.push_back('}');
  return out;
}

http_request base_request(const target_config& tgt, std::string method, std::string url) {
  http_request rq;
  rq.method = std::move(method);
  rq.url = std::move(url);
  rq.connect_timeout = tgt.connect_timeout;
  rq.timeout = tgt.request_timeout;
  rq.max_response_bytes = tgt.max_response_bytes;
  rq.ca_file = tgt.tls.ca_file;
  rq.ca_dir = tgt.tls.ca_dir;
  rq.headers.emplace_back("Accept", "application/json");
  return rq;
}

http_request batch_request(const target_config& tgt, const send_batch& b, service_ref service) {
  const auto& path = tgt.protocol == target_protocol::sync_batch ? tgt.paths.sync : tgt.paths.batch;
  auto rq = base_request(tgt, "POST", target_url(tgt, path, service));
  rq.headers.emplace_back("Content-Type", "application/json");
  if (!tgt.request.batch_idempotency_header.empty())
    rq.headers.emplace_back(tgt.request.batch_idempotency_header, batch_idempotency_key(b));
  rq.body = batch_body(tgt, b, service);
  return rq;
}

http_request batch_status_request(const target_config& tgt, service_ref service,
                                  std::string_view batch_id) {
  return base_request(tgt, "GET", target_url(tgt, tgt.paths.batch_status, service, batch_id));
}

http_request rest_request(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service, rest_errc& err, std::string* missing_name) {
  err = rest_errc::ok;
  const request_template& q = tgt.request;
  const record_op op = wire_op(tgt, r);
  const std::string& method = op == record_op::create   ? q.method_create
                              : op == record_op::update ? q.method_update
                                                        : q.method_delete;
  std::string missing;
  std::optional<std::string> url;
  if (r.op == record_op::create) {
    url = record_url(tgt, tgt.paths.record, r, service, missing);
  } else {
    if (r.remote_id.empty()) err = rest_errc::missing_remote_id;
    url = record_url(tgt, tgt.paths.record_id, r, service, missing);
  }
  if (!url) {
    if (err == rest_errc::ok) err = rest_errc::missing_value;
    if (missing_name) *missing_name = missing;
    url = std::string();
  }
  auto rq = base_request(tgt, method, std::move(*url));
  rq.headers.emplace_back("X-Record-Key", url_encode(r.key));
  add_idempotency_header(tgt, r, rq);
  if (op != record_op::del) {
    rq.headers.emplace_back("Content-Type", "application/json");
    if (r.op == record_op::del) {  // mark: an update carrying the marker
      append_marked(rq.body, data_members(b, r), q);
    } else {
      rq.body = std::string(data_or_null(b, r));
    }
  }
  return rq;
}

http_request envelope_request(const target_config& tgt, const send_batch& b, const out_record& r,
                              service_ref service, std::string* missing) {
  std::string absent;
  auto url = record_url(tgt, tgt.paths.message, r, service, absent);
  if (!url && missing) *missing = absent;
  auto rq = base_request(tgt, "POST", url ? std::move(*url) : target_url(tgt, tgt.paths.message, service));
  rq.headers.emplace_back("Content-Type", "application/json");
  rq.headers.emplace_back("X-Record-Key", url_encode(r.key));
  add_idempotency_header(tgt, r, rq);
  rq.body = envelope_body(tgt, b, r, service);
  return rq;
}

}  // namespace stampede
