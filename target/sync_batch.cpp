// sync_batch: POST paths.sync with the whole batch; the answer carries the
// per-record results (mapped with [response]). Everything else is the
// protocol base's default (protocol.hpp).
#include "target/protocol.hpp"

namespace stampede {
namespace {

class sync_batch final : public protocol {
public:
  using protocol::protocol;
  std::string_view name() const override { return "sync_batch"; }
  bool per_record() const override { return false; }
};

}  // namespace

std::unique_ptr<protocol> make_sync_batch(const target_config& tgt) {
  return std::make_unique<sync_batch>(tgt);
}

}  // namespace stampede
