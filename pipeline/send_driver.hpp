// send_driver: runs one target protocol for whole batches (the plain class
// the sender actor wraps).
//
// Operation: `send(batch, done)` hops onto the http_client thread and runs:
//   - sync_batch: POST paths.sync with every record; retryable failures
//     (transport, timeout, 408, 429, 5xx, malformed body) retry the whole
//     request with backoff up to tgt.max_attempts; results are mapped with
//     tgt.response.
//   - async_batch: POST paths.batch (same retries) -> {"batchId"}; then GET
//     paths.batch_status every poll_interval until {"status":"done"} and map
//     its results. A batch not done within max_attempts x request_timeout
//     gives every record a retryable error.
//   - rest, or any protocol with format = envelope: one request per record
//     (REST create/update/delete, or one envelope message), each with its own
//     retries; at most tgt.in_flight records of this driver are being sent
//     at once across all batches (the rest wait in a FIFO).
//   Every request carries the auth header; an OAuth2 401 refreshes the token
//   once and repeats that request once. 4xx answers are final
//   (retryable=false); exhausted retries give retryable=true errors with the
//   last status/message. A REST delete answered 404 counts as done (the
//   record is already gone). `done` runs exactly once per batch, on the
//   client thread, with outcomes in record order.
// Concurrency: send() and status() are thread-safe; all protocol state lives
//   on the client thread. Pending work keeps the driver's state alive, so the
//   driver object may be destroyed before its batches finish; the http_client
//   must outlive every batch (stop it to cancel them: `done` then reports
//   retryable "cancelled" errors, or is not called at all for batches waiting
//   on a timer).
// Limitations: {service} in URLs and envelope types is the numeric service id.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/http_client.hpp"
#include "pipeline/record.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace stampede {

struct send_driver_status {
  std::uint64_t requests = 0;       // HTTP requests made (token requests excluded)
  std::uint64_t retries = 0;        // requests repeated after a retryable failure
  std::uint64_t in_flight = 0;      // HTTP requests outstanding now
  std::uint64_t max_in_flight = 0;  // high-water mark of in_flight
  std::uint64_t slots_busy = 0;     // rest/envelope: records being sent now (<= tgt.in_flight)
  std::uint64_t max_slots_busy = 0; // high-water mark of slots_busy
  std::uint64_t queued = 0;         // rest/envelope: records waiting for a slot
  std::uint64_t batches_active = 0;
  std::uint64_t batches_done = 0;
  std::uint64_t token_fetches = 0;
};

class send_driver {
public:
  send_driver(const target_config& tgt, http_client& client, std::uint32_t service);
  ~send_driver();
  send_driver(const send_driver&) = delete;
  send_driver& operator=(const send_driver&) = delete;

  /// Sends the whole batch; `done` runs once on the client thread (inline on
  /// the caller's thread only when the client is already stopped).
  void send(std::shared_ptr<send_batch> batch, std::function<void(batch_result)> done);
  send_driver_status status() const;

private:
  struct impl;
  std::shared_ptr<impl> p_;
};

}  // namespace stampede
