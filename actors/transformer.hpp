// The transformer: turns a page into batches and feeds them to the sender.
//
// Operation: for each page, runs the service's `transformer` (mapping ->
//   JSON, operation, skip unchanged), queues the resulting batches and sends
//   them to the sender with at most `window` unanswered. Replies to the page's
//   request once every batch of the page has been accepted by the sender.
// Concurrency: scheduled (CPU only). Several transformers may run per service.
// Limitations: batches of a page are sent in order; pages may interleave.
#pragma once

#include "actors/interfaces.hpp"
#include "metrics/probes.hpp"
#include "pipeline/transform.hpp"

#include <deque>
#include <memory>

namespace stampede {

struct transformer_actor_config {
  std::shared_ptr<const transformer> tf;
  sender_actor sender;
  std::uint32_t window = 4;   // K
  std::shared_ptr<transform_probe> probe;  // optional
  std::string validate() const;
};

struct transformer_state {
  static inline const char* name = "transformer";
  transformer_actor_config cfg;
  struct pending_page {
    std::uint64_t seq = 0;
    std::size_t remaining = 0;      // batches not yet accepted
    caf::typed_response_promise<std::uint64_t> rp;
  };
  std::deque<std::pair<batch_ptr, std::shared_ptr<pending_page>>> queue;
  std::uint64_t outstanding = 0;    // batches sent, not yet accepted
  std::uint64_t max_outstanding = 0;
  std::uint64_t pages = 0, batches = 0, records = 0;
  std::uint32_t service = 0;        // of the last page (for status)
};

transformer_actor::behavior_type
transformer_fn(transformer_actor::stateful_pointer<transformer_state> self,
               transformer_actor_config cfg);

} // namespace stampede
