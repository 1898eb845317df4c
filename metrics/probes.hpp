// Probes: the only way business code touches metrics (Redpanda style).
//
// Operation: each probe is built once per service stage with
//   (metrics_registry&, service id). The constructor registers (or reuses) the
//   metric families and resolves the label set {service="N"} once, keeping
//   plain pointers to the metrics, so a probe call is one atomic add / set (or
//   a histogram observe). Names, types and meanings: docs/metrics.md.
// Concurrency: every method is thread-safe (prometheus-cpp counters and gauges
//   are atomics, histograms take a short internal lock). A probe must not
//   outlive its metrics_registry. Probes are movable, not copyable.
//   HTTP requests are counted by `http_probe`, an exchange_observer
//   registered on a target_runtime (target/exchange.hpp): one count per
//   HTTP request, polls and per-record requests included, retries only when
//   a request really repeats a failed one.
// Limitations: label values are service ids, target names, HTTP status
//   codes, status classes, request kinds, failure classes and outcome names
//   only: never record data, keys, URLs or secrets. Status codes outside
//   100..599 are reported as code="other", no response (0) as code="none".
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "metrics/registry.hpp"
#include "target/exchange.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
} // namespace prometheus

namespace stampede {

/// Source side: rows and pages read, freshness of what was read.
class extractor_probe {
public:
  extractor_probe(metrics_registry& r, std::uint32_t service);
  void rows_read(std::uint64_t n);
  void page_read(double seconds);   // duration of one keyset page query
  void lag(double seconds);         // source clock - stamp of the newest row read
  /// Cycle start: the source clock and the checkpoint (unix ms; -1 = none)
  /// the cycle starts from; sets lag = clock - checkpoint when there is one.
  void cycle_start(std::int64_t source_clock_ms, std::int64_t checkpoint_ms);
  /// Extraction has read everything up to `stamp_ms` (newest row read, or the
  /// cycle's upper bound after the last page): lag = source clock now (the
  /// clock at cycle_start + time since) - max(stamp_ms, checkpoint), >= 0.
  /// Ignored before cycle_start or for a negative (unparsable) stamp.
  void extracted_to(std::int64_t stamp_ms);

private:
  prometheus::Counter* rows_;
  prometheus::Histogram* page_seconds_;
  prometheus::Gauge* lag_;
  struct lag_base {
    std::atomic<std::int64_t> skew_ms{0};        // source clock - system clock
    std::atomic<std::int64_t> checkpoint_ms{-1};
    std::atomic<bool> started{false};
  };
  std::unique_ptr<lag_base> lag_base_ = std::make_unique<lag_base>();  // movable probe
};

/// Mapping rows to JSON.
class transform_probe {
public:
  transform_probe(metrics_registry& r, std::uint32_t service);
  void records_encoded(std::uint64_t n);
  void records_skipped_unchanged(std::uint64_t n);
  void record_errors(std::uint64_t n);

private:
  prometheus::Counter* encoded_;
  prometheus::Counter* skipped_;
  prometheus::Counter* errors_;
};

/// HTTP side: batches, requests by status, retries, concurrency.
class sender_probe {
public:
  sender_probe(metrics_registry& r, std::uint32_t service);
  void batch_sent(std::uint64_t records, std::uint64_t bytes);
  /// One HTTP request finished (0 = no response). Called by http_probe for
  /// every request; the sender actor must not call it per batch.
  void request_done(int http_status, double seconds);
  /// One request repeated after a retryable failure (http_probe calls it).
  void retry();
  void in_flight(std::int64_t n);
  /// One batch's life in the sender: from its start (first request) to its
  /// outcome arriving (after every submit, poll and retry it needed).
  void batch_done(double seconds);

private:
  prometheus::Counter& requests_for(int http_status);

  std::string service_;
  prometheus::Family<prometheus::Counter>* requests_family_;
  // Lazily resolved per status: index = status for 100..599, 0 = none, 1 = other.
  // Behind a pointer so the probe stays movable.
  using status_slots = std::array<std::atomic<prometheus::Counter*>, 600>;
  std::unique_ptr<status_slots> requests_;
  prometheus::Counter* batches_;
  prometheus::Counter* records_;
  prometheus::Counter* bytes_;
  prometheus::Histogram* request_seconds_;
  prometheus::Counter* retries_;
  prometheus::Gauge* in_flight_;
  prometheus::Histogram* batch_seconds_;
};

/// Outcomes at the target and checkpoint progress.
class reconcile_probe {
public:
  reconcile_probe(metrics_registry& r, std::uint32_t service);
  void outcomes(std::uint64_t created, std::uint64_t updated, std::uint64_t deleted,
                std::uint64_t failed);
  void checkpoint_advanced(double stamp_unix_seconds);  // checkpoint stamp as unix time
  void commit_seconds(double s);                        // ledger+checkpoint WriteBatch duration

private:
  prometheus::Counter* created_;
  prometheus::Counter* updated_;
  prometheus::Counter* deleted_;
  prometheus::Counter* failed_;
  prometheus::Gauge* checkpoint_;
  prometheus::Histogram* commit_seconds_;
};

/// A service between cycles, as the engine sees it: the last cycle's result,
/// time and duration, the records by status (the backlog: Error, Cancelled,
/// Pending) and whether its initial load is complete. The engine builds one
/// per service it runs when run_* starts, with the stored values, so these
/// series (and, through `preregister`, the stage series) exist from the first
/// scrape, at 0 where nothing happened yet.
class service_probe {
public:
  service_probe(metrics_registry& r, std::uint32_t service);
  /// A finished (not skipped) cycle: ok or failed, ended at `unix_seconds`.
  void cycle_done(bool ok, double unix_seconds, double duration_seconds);
  /// Records by record_status (pending, success, error, cancelled).
  void records(const std::array<std::uint64_t, 4>& by_status);
  void initial_load_complete(bool done);
  /// Share of the initial load delivered (rows with a durable outcome / rows
  /// the load counted at its start), 0..1; 1 once it is complete.
  void initial_load_progress(double ratio);
  /// The source backlog: rows after the checkpoint and the age (seconds,
  /// source clock) of the oldest of them (engine/backlog.hpp).
  void source_backlog(std::uint64_t rows, double oldest_age_seconds);

private:
  prometheus::Gauge* backlog_rows_;
  prometheus::Gauge* backlog_age_;
  prometheus::Gauge* initial_progress_;
  prometheus::Gauge* last_success_;
  prometheus::Gauge* last_time_;
  prometheus::Gauge* last_duration_;
  std::array<prometheus::Gauge*, 4> records_{};
  prometheus::Gauge* initial_load_;
};

/// Creates every per-service series of the stages (extractor, transform,
/// sender, reconcile) at 0 for `service`, so rate() and increase() see the
/// first cycle's work instead of a series that appears at its first value.
void preregister(metrics_registry& r, std::uint32_t service);

/// stampede_build_info{version="..."} 1 and stampede_process_start_time_seconds (now).
void build_info(metrics_registry& r, const std::string& version);
/// stampede_shard_info{shard="k",shards="N"} 1: which shard of a service this
/// worker is (--shard k/N; "0" and "1" when not sharded).
void shard_info(metrics_registry& r, std::uint32_t index, std::uint32_t count);

/// Every HTTP exchange of one target, by service: an exchange_observer to
/// register with target_runtime::add_observer(). Feeds the sender_probe
/// request series (requests by code, duration, retries) plus requests by
/// kind and status class, unknown-outcome retries, token requests, target
/// failures by class and the circuit breaker state.
class http_probe : public exchange_observer {
public:
  http_probe(metrics_registry& r, std::string target);
  ~http_probe() override;
  void on_exchange(const exchange_event& e) override;
  void on_target_failure(const target_failure_event& e) override;
  void on_breaker(const breaker_event& e) override;

private:
  struct service_series;
  service_series& series(std::uint32_t service);

  metrics_registry& reg_;
  std::string target_;
  std::mutex mu_;
  std::map<std::uint32_t, std::unique_ptr<service_series>> services_;
  prometheus::Family<prometheus::Counter>* by_class_;
  prometheus::Family<prometheus::Counter>* token_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Gauge* breaker_;
};

} // namespace stampede
