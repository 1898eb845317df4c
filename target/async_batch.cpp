// async_batch: POST paths.batch answers a batch id ([async] batch_id, default
// /batchId else /id); GET paths.batch_status answers a status ([async]
// status): a `done` value carries the results, a `failed` value fails every
// record (retryable), anything else means "poll again". The driver keeps the
// timers, poll_timeout and the hand-over of the id to the reconciler.
#include "target/protocol.hpp"

#include "target/response_map.hpp"

#include <algorithm>

namespace stampede {
namespace {

class async_batch final : public protocol {
public:
  using protocol::protocol;
  std::string_view name() const override { return "async_batch"; }
  bool per_record() const override { return false; }
  bool polls() const override { return true; }
  endpoint_kind batch_endpoint() const override { return endpoint_kind::submit; }
  exchange_kind batch_exchange() const override { return exchange_kind::submit; }

  batch_verdict on_batch_answer(const http_response& r, const send_batch&) const override {
    batch_verdict v;
    const auto& ptr = tgt_.async.batch_id;
    auto id = json_value_at(r.body, ptr.empty() ? "/batchId" : ptr);
    if (!id && ptr.empty()) id = json_value_at(r.body, "/id");
    if (!id || id->empty()) {
      v.why = "malformed response: no batchId in HTTP " + std::to_string(r.status) + " answer";
      return v;
    }
    v.k = batch_verdict::kind::submitted;
    v.batch_id = std::move(*id);
    return v;
  }

  batch_verdict on_poll_answer(const http_response& r, const send_batch& wire) const override {
    const auto& a = tgt_.async;
    auto st = json_value_at(r.body, a.status);
    if (!st) {
      batch_verdict v;
      v.why = "malformed response: batch status without a value at " + a.status;
      return v;
    }
    auto listed = [&](const std::vector<std::string>& values) {
      return std::find(values.begin(), values.end(), *st) != values.end();
    };
    if (listed(a.done)) return results(r, wire);
    batch_verdict v;
    v.status = *st;
    v.k = listed(a.failed) ? batch_verdict::kind::failed_records : batch_verdict::kind::poll_again;
    return v;
  }
};

}  // namespace

std::unique_ptr<protocol> make_async_batch(const target_config& tgt) {
  return std::make_unique<async_batch>(tgt);
}

}  // namespace stampede
