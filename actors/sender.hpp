// The sender: keeps at most `in_flight` batches at the target.
//
// Operation: a batch arriving while the window has room starts at once (the
//   reply to the transformer is immediate); otherwise it waits, and its reply
//   is held, which holds the transformer back. A batch's slot is freed when
//   the reconciler has made its outcome durable. Batches with no records skip
//   HTTP and go straight to the reconciler (they still carry the page's
//   checkpoint). When the target accepts an async batch under an id, the
//   sender hands (batch, id) to the reconciler, which stores it with its
//   records before the driver starts polling (a later cycle polls it if this
//   process dies).
// Concurrency: scheduled. HTTP runs on the http_client's thread; completions
//   come back as `result` messages.
// Limitations: waiting batches are bounded by the transformers' windows.
#pragma once

#include "actors/interfaces.hpp"
#include "metrics/probes.hpp"
#include "target/send_driver.hpp"

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>

namespace stampede {

/// Starts one batch; calls `done` exactly once (any thread). A seam for tests.
/// Called from the HTTP thread when an async batch got its id; polling waits
/// for `persisted` (see send_driver::submitted_fn).
using submitted_fn = std::function<void(const std::string& batch_id, std::function<void()> persisted)>;
using batch_starter =
  std::function<void(batch_ptr, std::function<void(batch_result)>, submitted_fn)>;

struct sender_config {
  batch_starter start;            // usually send_driver::send
  reconciler_actor reconciler;
  std::uint32_t in_flight = 4;    // W
  std::shared_ptr<sender_probe> probe;  // optional
  std::string validate() const;
};

struct sender_state {
  static inline const char* name = "sender";
  sender_config cfg;
  std::deque<std::pair<batch_ptr, caf::typed_response_promise<std::uint64_t>>> waiting;
  std::uint64_t in_flight = 0;    // started, outcome not yet durable
  std::uint64_t in_flight_records = 0;
  std::uint64_t max_in_flight = 0;
  std::uint64_t max_waiting = 0;
  std::uint64_t batches = 0, records = 0, failed_records = 0;
  std::uint32_t service = 0;      // of the last batch (for status)
  // Start time of each batch in flight (the batch_duration histogram).
  std::unordered_map<const send_batch*, std::chrono::steady_clock::time_point> started;
};

sender_actor::behavior_type
sender_fn(sender_actor::stateful_pointer<sender_state> self, sender_config cfg);

} // namespace stampede
