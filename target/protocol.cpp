#include "target/protocol.hpp"

#include "target/response_map.hpp"

namespace stampede {

http_request protocol::batch_request(const send_batch& wire, service_ref service) const {
  return stampede::batch_request(tgt_, wire, service);
}

batch_verdict protocol::on_batch_answer(const http_response& r, const send_batch& wire) const {
  return results(r, wire);
}

http_request protocol::poll_request(service_ref service, std::string_view batch_id) const {
  return batch_status_request(tgt_, service, batch_id);
}

batch_verdict protocol::on_poll_answer(const http_response&, const send_batch&) const {
  batch_verdict v;
  v.why = std::string(name()) + " does not poll";
  return v;
}

record_plan protocol::plan_record(const send_batch&, const out_record&, service_ref) const {
  record_plan p;
  p.without_request.error = std::string(name()) + " sends whole batches, not records";
  return p;
}

record_verdict protocol::on_record_answer(const http_response& r, const out_record& rec) const {
  return mapped_record(r, rec);
}

batch_verdict protocol::results(const http_response& r, const send_batch& wire) const {
  batch_verdict v;
  if (tgt_.response.acknowledge == acknowledge_mode::status) {
    record_outcome ok;
    ok.ok = true;
    ok.http_status = r.status;
    if (tgt_.response.keep_success_answers) ok.received = cap_received(r.body);
    v.outcomes.assign(wire.records.size(), ok);
    for (std::size_t i = 0; i < v.outcomes.size(); ++i)
      v.outcomes[i].remote_id = wire.records[i].remote_id;
    v.k = batch_verdict::kind::done;
    return v;
  }
  auto m = map_batch_response(r.body, tgt_.response, wire);
  if (m.err != map_errc::ok) {
    v.why = m.error;
    return v;
  }
  for (auto& o : m.outcomes) o.http_status = r.status;
  v.outcomes = std::move(m.outcomes);
  v.k = batch_verdict::kind::done;
  return v;
}

record_verdict protocol::mapped_record(const http_response& r, const out_record& rec) const {
  record_verdict v;
  record_outcome o;
  if (tgt_.response.acknowledge == acknowledge_mode::status) {
    o.ok = true;  // the 2xx alone accepts it
    o.received = cap_received(r.body);
  } else {
    o = map_single_response(r.body, tgt_.response);
    if (!o.ok && o.retryable) {  // unreadable 2xx
      v.why = o.error;
      return v;
    }
  }
  if (o.ok && o.remote_id.empty()) o.remote_id = rec.remote_id;
  o.http_status = r.status;
  v.outcome = std::move(o);
  return v;
}

std::optional<record_outcome> protocol::skipped(const out_record& r) const {
  if (r.op != record_op::del || tgt_.request.on_delete != delete_mode::skip) return std::nullopt;
  record_outcome o;
  o.ok = true;
  o.not_sent = true;
  o.remote_id = r.remote_id;
  return o;
}

std::unique_ptr<protocol> make_protocol(const target_config& tgt) {
  if (tgt.format == payload_format::envelope) return make_envelope(tgt);
  switch (tgt.protocol) {
    case target_protocol::sync_batch: return make_sync_batch(tgt);
    case target_protocol::async_batch: return make_async_batch(tgt);
    case target_protocol::rest: return make_rest(tgt);
  }
  return make_sync_batch(tgt);
}

}  // namespace stampede
