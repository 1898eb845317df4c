#include "target/request_builder.hpp"

#include "pipeline/json_writer.hpp"

#include <cstdio>

namespace stampede {
namespace {

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  std::size_t pos = 0;
  while ((pos = s.find(what, pos)) != std::string::npos) {
    s.replace(pos, what.size(), with);
    pos += with.size();
  }
}

std::string_view data_or_null(const send_batch& b, const out_record& r) {
  if (r.data_len == 0 || static_cast<std::size_t>(r.data_off) + r.data_len > b.arena.size())
    return "null";
  return b.data(r);
}

void add_idempotency_header(const target_config& tgt, const out_record& r, http_request& rq) {
  if (!tgt.idempotency_header.empty() && !r.idempotency_key.empty())
    rq.headers.emplace_back(tgt.idempotency_header, r.idempotency_key);
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

std::string target_url(const target_config& tgt, std::string_view path_template,
                       service_ref service, std::string_view batch_id,
                       std::string_view remote_id) {
  std::string path(path_template);
  const std::string id = std::to_string(service.id);
  replace_all(path, "{service}", id);
  if (path.find("{service_name}") != std::string::npos)
    replace_all(path, "{service_name}", service.name.empty() ? id : url_encode(service.name));
  if (path.find("{batch}") != std::string::npos) replace_all(path, "{batch}", url_encode(batch_id));
  if (path.find("{id}") != std::string::npos) replace_all(path, "{id}", url_encode(remote_id));
  std::string url = tgt.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (path.empty() || path.front() != '/') url.push_back('/');
  url += path;
  return url;
}

std::string batch_body(const target_config& tgt, const send_batch& b) {
  std::string out;
  out.reserve(b.arena.size() + b.records.size() * 96 + 16);
  out += "{\"records\":[";
  bool first = true;
  for (const auto& r : b.records) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"key\":";
    append_json_string(out, r.key);
    out += ",\"op\":\"";
    out += op_name(r.op);
    out.push_back('"');
    if (!tgt.idempotency_field.empty()) {
      out.push_back(',');
      append_json_string(out, tgt.idempotency_field);
      out.push_back(':');
      append_json_string(out, r.idempotency_key);
    }
    out += ",\"data\":";
    out += data_or_null(b, r);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string envelope_type(const envelope_config& env, record_op op, service_ref service,
                          std::string_view key) {
  std::string t = op == record_op::create   ? env.type_create
                  : op == record_op::update ? env.type_update
                                            : env.type_delete;
  // One pass so a key containing "{op}" is not expanded again.
  std::string out;
  out.reserve(t.size() + key.size());
  const std::string svc = std::to_string(service.id);
  for (std::size_t i = 0; i < t.size();) {
    std::string_view rest = std::string_view(t).substr(i);
    if (rest.starts_with("{service}")) { out += svc; i += 9; }
    else if (rest.starts_with("{service_name}")) {
      if (service.name.empty()) out += svc; else out += service.name;
      i += 14;
    }
    else if (rest.starts_with("{key}")) { out += key; i += 5; }
    else if (rest.starts_with("{op}")) { out += op_name(op); i += 4; }
    else out.push_back(t[i++]);
  }
  return out;
}

std::string envelope_body(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service) {
  std::string out;
  out.reserve(r.data_len + r.key.size() + 128);
  out += "{\"header\":{\"type\":";
  append_json_string(out, envelope_type(tgt.envelope, r.op, service, r.key));
  out += ",\"tenantId\":";
  append_json_string(out, tgt.envelope.tenant_id);
  out += ",\"key\":";
  append_json_string(out, r.key);
  out += "},\"data\":";
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
  rq.body = batch_body(tgt, b);
  return rq;
}

http_request batch_status_request(const target_config& tgt, service_ref service,
                                  std::string_view batch_id) {
  return base_request(tgt, "GET", target_url(tgt, tgt.paths.batch_status, service, batch_id));
}

http_request rest_request(const target_config& tgt, const send_batch& b, const out_record& r,
                          service_ref service, rest_errc& err) {
  err = rest_errc::ok;
  if (r.op == record_op::create) {
    auto rq = base_request(tgt, "POST", target_url(tgt, tgt.paths.record, service));
    rq.headers.emplace_back("Content-Type", "application/json");
    rq.headers.emplace_back("X-Record-Key", url_encode(r.key));
    add_idempotency_header(tgt, r, rq);
    rq.body = std::string(data_or_null(b, r));
    return rq;
  }
  if (r.remote_id.empty()) err = rest_errc::missing_remote_id;
  const bool upd = r.op == record_op::update;
  auto rq = base_request(tgt, upd ? "PUT" : "DELETE",
                         target_url(tgt, tgt.paths.record_id, service, {}, r.remote_id));
  rq.headers.emplace_back("X-Record-Key", url_encode(r.key));
  add_idempotency_header(tgt, r, rq);
  if (upd) {
    rq.headers.emplace_back("Content-Type", "application/json");
    rq.body = std::string(data_or_null(b, r));
  }
  return rq;
}

http_request envelope_request(const target_config& tgt, const send_batch& b, const out_record& r,
                              service_ref service) {
  auto rq = base_request(tgt, "POST", target_url(tgt, tgt.paths.message, service));
  rq.headers.emplace_back("Content-Type", "application/json");
  rq.headers.emplace_back("X-Record-Key", url_encode(r.key));
  add_idempotency_header(tgt, r, rq);
  rq.body = envelope_body(tgt, b, r, service);
  return rq;
}

}  // namespace stampede
