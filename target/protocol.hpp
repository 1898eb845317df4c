// protocol: what one target protocol decides, without the machinery: the
// request for a batch or a record, and what an answer means (done with
// outcomes, submitted under an id, poll again, every record failed, or an
// unusable answer). One file per protocol: sync_batch.cpp, async_batch.cpp,
// rest.cpp, envelope.cpp; make_protocol() picks one for a target.
//
// Operation: the send driver (send_driver.hpp) owns the shared machinery
//   (auth, the failure table and retries, the circuit breaker, in-flight
//   slots, poll timers, setup requests, skipped deletes, observers, metrics)
//   and asks its protocol only these questions. A 2xx answer goes to
//   on_batch_answer / on_poll_answer / on_record_answer; any other answer is
//   classified by the failure table (retry.hpp) before a protocol sees it.
//   `unusable` (a 2xx the configured shape does not match) makes the driver
//   repeat the same request as an unknown outcome.
// Concurrency: a protocol is immutable after construction; its functions
//   are const and thread-safe.
// Limitations: format = "envelope" is a per-record protocol whatever
//   `protocol` says (rest, sync_batch and async_batch all send one message
//   per record then).
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "target/exchange.hpp"
#include "target/http_client.hpp"
#include "target/request_builder.hpp"
#include "target/retry.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

/// What a 2xx answer to a batch request or a poll means.
struct batch_verdict {
  enum class kind {
    done,            // the results are in: `outcomes`, one per wire record, in order
    submitted,       // async: accepted under `batch_id`; poll it
    poll_again,      // async: still `status`
    failed_records,  // async: the target gave up on the batch (`status`): every record
                     // gets the retryable error `why`
    unusable,        // the answer does not match the configured shape: `why`
  } k = kind::unusable;
  std::vector<record_outcome> outcomes;
  std::string batch_id;
  std::string status;
  std::string why;
};

/// A record's request, or the outcome it has without one (no remote id yet,
/// a placeholder without a value, a skipped delete).
struct record_plan {
  std::optional<http_request> request;
  endpoint_kind endpoint = endpoint_kind::record_item;
  record_outcome without_request;
};

/// What a 2xx answer to a record's request means: its outcome, or why the
/// answer is unusable (an unknown outcome: the same request again).
struct record_verdict {
  std::optional<record_outcome> outcome;
  std::string why;
};

class protocol {
public:
  explicit protocol(const target_config& tgt) : tgt_(tgt) {}
  virtual ~protocol() = default;
  protocol(const protocol&) = delete;
  protocol& operator=(const protocol&) = delete;

  virtual std::string_view name() const = 0;
  /// One request per record (rest, envelope) instead of one per batch.
  virtual bool per_record() const = 0;
  /// Async: a batch submitted by an earlier cycle can be polled by its id.
  virtual bool polls() const { return false; }

  // --- batch protocols ---
  virtual http_request batch_request(const send_batch& wire, service_ref service) const;
  virtual endpoint_kind batch_endpoint() const { return endpoint_kind::sync; }
  virtual exchange_kind batch_exchange() const { return exchange_kind::sync; }
  virtual batch_verdict on_batch_answer(const http_response& r, const send_batch& wire) const;
  virtual http_request poll_request(service_ref service, std::string_view batch_id) const;
  virtual batch_verdict on_poll_answer(const http_response& r, const send_batch& wire) const;

  // --- per-record protocols ---
  /// The outcome of a record that needs no request whatever the protocol
  /// (a delete under request.delete = "skip"); nullopt otherwise.
  std::optional<record_outcome> skipped(const out_record& r) const;
  virtual record_plan plan_record(const send_batch& b, const out_record& r,
                                  service_ref service) const;
  virtual record_verdict on_record_answer(const http_response& r, const out_record& rec) const;

protected:
  /// The per-record results of a "done" answer (acknowledge = "status": the
  /// 2xx alone accepts every record).
  batch_verdict results(const http_response& r, const send_batch& wire) const;
  /// A record's answer mapped with [response] (or accepted by status).
  record_verdict mapped_record(const http_response& r, const out_record& rec) const;
  const target_config& tgt_;
};

/// A record error without a request: placeholder `name` of its path has no
/// value for it (a {rev} the target never returned).
record_outcome missing_value(const out_record& rec, const std::string& name);

std::unique_ptr<protocol> make_sync_batch(const target_config& tgt);   // sync_batch.cpp
std::unique_ptr<protocol> make_async_batch(const target_config& tgt);  // async_batch.cpp
std::unique_ptr<protocol> make_rest(const target_config& tgt);         // rest.cpp
std::unique_ptr<protocol> make_envelope(const target_config& tgt);     // envelope.cpp

/// The protocol of `tgt` (format = "envelope" wins over `protocol`). `tgt`
/// must outlive it.
std::unique_ptr<protocol> make_protocol(const target_config& tgt);

}  // namespace stampede
