// rest: one request per record: create -> paths.record, update and delete ->
// paths.record_id with the remote id, methods from request.methods. A record
// without a remote id (update/delete) or without a value for a path
// placeholder fails without a request; a create answered 2xx without the
// configured id is a record error (later updates need it).
#include "target/protocol.hpp"

#include "target/response_map.hpp"

namespace stampede {
namespace {

class rest final : public protocol {
public:
  using protocol::protocol;
  std::string_view name() const override { return "rest"; }
  bool per_record() const override { return true; }

  record_plan plan_record(const send_batch& b, const out_record& rec,
                          service_ref service) const override {
    record_plan p;
    rest_errc err;
    std::string missing;
    auto q = rest_request(tgt_, b, rec, service, err, &missing);
    if (err == rest_errc::missing_remote_id) {
      p.without_request.error = "no remote id known for " + std::string(op_name(rec.op)) +
                                " of key " + rec.key +
                                " (the ledger has none; it must be created first)";
      return p;
    }
    if (err == rest_errc::missing_value) {
      p.without_request = missing_value(rec, missing);
      return p;
    }
    const record_op op = wire_op(tgt_, rec);  // a marked delete goes out as an update
    p.endpoint = op == record_op::create ? endpoint_kind::record_create
                 : op == record_op::del  ? endpoint_kind::record_delete
                                         : endpoint_kind::record_item;
    p.request = std::move(q);
    return p;
  }

  record_verdict on_record_answer(const http_response& r, const out_record& rec) const override {
    auto v = mapped_record(r, rec);
    const auto& m = tgt_.response;
    // (A create never has a remote id of its own: the transform sends an
    // update once one is known.)
    if (v.outcome && v.outcome->ok && rec.op == record_op::create &&
        m.acknowledge == acknowledge_mode::records && !m.id_field.empty() &&
        v.outcome->remote_id.empty()) {
      // Later updates and deletes of this record need the id.
      v.outcome->ok = false;
      v.outcome->remote_id.clear();
      v.outcome->error = "the target accepted the create (HTTP " + std::to_string(r.status) +
                         ") but its answer has no id at " + normalize_pointer(m.id_field) +
                         "; later updates and deletes of this record need it (if this API "
                         "returns none, set response.id_field = \"\")";
    }
    return v;
  }

};

}  // namespace

record_outcome missing_value(const out_record& rec, const std::string& name) {
  record_outcome o;
  o.error = "no value for {" + name + "} in the path of " + std::string(op_name(rec.op)) +
            " of key " + rec.key + " (the target has not returned one for this record yet)";
  return o;
}

std::unique_ptr<protocol> make_rest(const target_config& tgt) { return std::make_unique<rest>(tgt); }

}  // namespace stampede
