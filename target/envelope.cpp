// envelope: one message per record, POST paths.message with
// {"header":{...},"data":{...}} (request_builder.hpp envelope_body), the
// message type from the record's operation ({type} in the path too). A path
// placeholder without a value fails the record without a request.
#include "target/protocol.hpp"

namespace stampede {
namespace {

class envelope final : public protocol {
public:
  using protocol::protocol;
  std::string_view name() const override { return "envelope"; }
  bool per_record() const override { return true; }

  record_plan plan_record(const send_batch& b, const out_record& rec,
                          service_ref service) const override {
    record_plan p;
    std::string missing;
    auto q = envelope_request(tgt_, b, rec, service, &missing);
    if (!missing.empty()) {
      p.without_request = missing_value(rec, missing);
      return p;
    }
    p.endpoint = endpoint_kind::record_item;
    p.request = std::move(q);
    return p;
  }
};

}  // namespace

std::unique_ptr<protocol> make_envelope(const target_config& tgt) {
  return std::make_unique<envelope>(tgt);
}

}  // namespace stampede
