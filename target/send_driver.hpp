// send_driver: runs one target protocol for whole batches (the plain class
// the sender actor wraps), and decides each batch's failure class. What is
// particular to a protocol (its requests, what its answers mean) is asked of
// a `protocol` (protocol.hpp, one file per protocol); the driver keeps the
// machinery they share.
//
// Operation: `send(batch, done, on_submitted)` hops onto the http_client
//   thread and runs:
//   - sync_batch: POST paths.sync with every record; results are mapped with
//     tgt.response.
//   - async_batch: POST paths.batch -> {"batchId"}; then `on_submitted(id,
//     persisted)` (when given) and polling starts only once `persisted()` has
//     been called (from any thread; the reconciler stores the id with the
//     records first). GET paths.batch_status after 5 ms, the wait doubling up
//     to poll_interval, until {"status":"done"}; its results are mapped. Still
//     processing at tgt.poll_timeout (counted from the first poll): the result
//     has no outcomes and `still_processing_batch_id` = id (records stay
//     Pending). A batch with `resume_batch_id` skips the submit and polls that
//     id. A poll answered 404 gives every record the retryable record-level
//     error "async batch <id> unknown to the target". Any target-level failure
//     after the submit keeps `still_processing_batch_id` = id.
//   - rest, or any protocol with format = envelope: one request per record
//     (REST create/update/delete, or one envelope message); at most
//     tgt.in_flight records of this driver are being sent at once across all
//     batches (the rest wait in a FIFO). A target-level failure of one
//     record's request fails the whole batch at the target level: its queued
//     records are not sent, answers of the others are dropped.
//   Every HTTP outcome goes through classify() (retry.hpp, the failure table
//   in docs/failure-classes.md): retries repeat the SAME request (same bytes,
//   same idempotency keys) with backoff up to tgt.request_attempts; an unknown
//   outcome (unreadable 2xx, timeout or lost connection after sending) is
//   counted in batch_result::unknown_outcome_retries and logged (warn);
//   an OAuth2 401/403 refreshes the token once and repeats that request once.
//   Target-level failures set batch_result::target (outcomes empty) and feed
//   the target's circuit breaker; while it is open, batches fail at once with
//   circuit_open. Record outcomes carry http_status and `received` (the
//   record's result object, or the per-record response body, capped).
//   Every request is reported to the runtime's exchange observers. `done`
//   runs exactly once per batch, on the client thread, with outcomes in
//   record order.
// Concurrency: send() and status() are thread-safe; all protocol state lives
//   on the client thread. Pending work keeps the driver's state alive, so the
//   driver object may be destroyed before its batches finish; the
//   target_runtime (and its http_client) must outlive every batch. Stopping
//   the client cancels: `done` reports target-level `cancelled` (or is not
//   called at all for batches waiting on a timer). If the `persisted`
//   callback is destroyed without being called, the batch ends as
//   target-level `cancelled` with still_processing_batch_id = id.
//   Setup requests ([[targets.NAME.setup]]) go out before the first batch of
//   the target's runtime, one after the other, through the same retries;
//   batches of other services wait for them; an unchanged setup that
//   succeeded before (the runtime's gate, backed by the state store) is not
//   sent again; a failed one fails the waiting batches at the target level
//   ("setup request failed: ...") and is tried again with the next batch.
// Limitations: {service} in URLs and envelope types is the numeric service
//   id, {service_name} the name given to the constructor (the id when none).
//   The breaker admits or refuses whole batches at their start.
#pragma once

#include "pipeline/config.hpp"
#include "target/http_client.hpp"
#include "pipeline/record.hpp"
#include "target/target_runtime.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace stampede {

struct send_driver_status {
  std::uint64_t requests = 0;       // HTTP requests made (token requests excluded)
  std::uint64_t retries = 0;        // requests repeated after a retryable failure (polls are not retries)
  std::uint64_t unknown_outcome_retries = 0;  // ...of which the outcome was unknown
  std::uint64_t target_failures = 0;          // batches that failed at the target level
  std::uint64_t in_flight = 0;      // HTTP requests outstanding now
  std::uint64_t max_in_flight = 0;  // high-water mark of in_flight
  std::uint64_t slots_busy = 0;     // rest/envelope: records being sent now (<= tgt.in_flight)
  std::uint64_t max_slots_busy = 0; // high-water mark of slots_busy
  std::uint64_t queued = 0;         // rest/envelope: records waiting for a slot
  std::uint64_t batches_active = 0;
  std::uint64_t batches_done = 0;
  std::uint64_t token_fetches = 0;  // of the target runtime (shared by its drivers)
};

class send_driver {
public:
  /// Called once an async batch was accepted under `batch_id`; polling
  /// starts when `persisted` is called (any thread, at most once matters).
  using submitted_fn = std::function<void(const std::string& batch_id, std::function<void()> persisted)>;

  /// `envelope`: the service's own message types ([services.envelope]).
  send_driver(target_runtime& rt, std::uint32_t service, std::string service_name = {},
              const service_envelope& envelope = {});
  /// Builds a private target_runtime (its own token and breaker).
  [[deprecated("pass the engine's target_runtime: send_driver(rt, service, name)")]]
  send_driver(const target_config& tgt, http_client& client, std::uint32_t service);
  ~send_driver();
  send_driver(const send_driver&) = delete;
  send_driver& operator=(const send_driver&) = delete;

  /// Sends the whole batch; `done` runs once on the client thread (inline on
  /// the caller's thread only when the client is already stopped).
  void send(std::shared_ptr<send_batch> batch, std::function<void(batch_result)> done,
            submitted_fn on_submitted = {});
  send_driver_status status() const;

private:
  struct impl;
  std::shared_ptr<impl> p_;
};

}  // namespace stampede
