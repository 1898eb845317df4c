// Probes; see probes.hpp. Every metric name and help text is defined here
// once (prometheus-cpp refuses the same name with a different help).
#include "metrics/probes.hpp"

#include <algorithm>
#include <chrono>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace stampede {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

prometheus::Family<Counter>& counter_family(metrics_registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r.registry());
}

Counter& counter(metrics_registry& r, const char* name, const char* help, const Labels& labels) {
  return counter_family(r, name, help).Add(labels);
}

Gauge& gauge(metrics_registry& r, const char* name, const char* help, const Labels& labels) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r.registry()).Add(labels);
}

Histogram& histogram(metrics_registry& r, const char* name, const char* help, const Labels& labels,
                     const Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r.registry()).Add(labels, buckets);
}

Labels service_label(std::uint32_t service) { return {{"service", std::to_string(service)}}; }

const Histogram::BucketBoundaries page_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
const Histogram::BucketBoundaries request_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                  1,     2.5,  5,     10,   30,  60};
const Histogram::BucketBoundaries batch_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                2.5,   5,    10,    30,   60,  300, 900};
const Histogram::BucketBoundaries commit_buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.025,   0.05,   0.1,   0.25,   1};

constexpr const char* requests_name = "stampede_sender_requests_total";
constexpr const char* requests_help =
    "HTTP requests to the target that finished, by status code (code=\"none\": no response); "
    "every request: submits, polls, per-record requests and retries";
constexpr const char* outcomes_name = "stampede_reconcile_records_total";
constexpr const char* outcomes_help =
    "Records with a durable outcome at the target, by outcome (created|updated|deleted|failed)";

double as_double(std::uint64_t n) { return static_cast<double>(n); }

} // namespace

// ---- extractor ---------------------------------------------------------------

extractor_probe::extractor_probe(metrics_registry& r, std::uint32_t service) {
  const Labels l = service_label(service);
  rows_ = &counter(r, "stampede_extractor_rows_read_total", "Source rows read by the extractor", l);
  page_seconds_ = &histogram(r, "stampede_extractor_page_read_seconds",
                             "Duration of one keyset page query on the source", l, page_buckets);
  lag_ = &gauge(r, "stampede_extractor_lag_seconds",
                "Source clock minus the stamp of the newest row read (extraction freshness)", l);
}

void extractor_probe::rows_read(std::uint64_t n) { rows_->Increment(as_double(n)); }
void extractor_probe::page_read(double seconds) { page_seconds_->Observe(seconds); }
void extractor_probe::lag(double seconds) { lag_->Set(seconds); }

namespace {
std::int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}
} // namespace

void extractor_probe::cycle_start(std::int64_t source_clock_ms, std::int64_t checkpoint_ms) {
  if (source_clock_ms < 0) return;
  lag_base_->skew_ms = source_clock_ms - system_ms();
  lag_base_->checkpoint_ms = checkpoint_ms;
  lag_base_->started = true;
  if (checkpoint_ms >= 0) lag(static_cast<double>(std::max<std::int64_t>(0, source_clock_ms - checkpoint_ms)) / 1000.0);
}

void extractor_probe::extracted_to(std::int64_t stamp_ms) {
  if (stamp_ms < 0 || !lag_base_->started) return;
  const std::int64_t at = std::max(stamp_ms, lag_base_->checkpoint_ms.load());
  const std::int64_t now = system_ms() + lag_base_->skew_ms.load();
  lag(static_cast<double>(std::max<std::int64_t>(0, now - at)) / 1000.0);
}

// ---- transform ---------------------------------------------------------------

transform_probe::transform_probe(metrics_registry& r, std::uint32_t service) {
  const Labels l = service_label(service);
  encoded_ = &counter(r, "stampede_transform_records_encoded_total",
                      "Records mapped to JSON and handed to the sender", l);
  skipped_ = &counter(r, "stampede_transform_records_skipped_unchanged_total",
                      "Records dropped because their content hash equals the ledger's", l);
  errors_ = &counter(r, "stampede_transform_record_errors_total",
                     "Records that could not be mapped (e.g. NULL in a non-nullable field)", l);
}

void transform_probe::records_encoded(std::uint64_t n) { encoded_->Increment(as_double(n)); }
void transform_probe::records_skipped_unchanged(std::uint64_t n) { skipped_->Increment(as_double(n)); }
void transform_probe::record_errors(std::uint64_t n) { errors_->Increment(as_double(n)); }

// ---- sender ------------------------------------------------------------------

sender_probe::sender_probe(metrics_registry& r, std::uint32_t service)
    : service_(std::to_string(service)), requests_(std::make_unique<status_slots>()) {
  const Labels l = service_label(service);
  requests_family_ = &counter_family(r, requests_name, requests_help);
  batches_ = &counter(r, "stampede_sender_batches_sent_total", "Batches submitted to the target", l);
  records_ = &counter(r, "stampede_sender_records_sent_total",
                      "Records handed to the sender in batches (each record once per batch)", l);
  bytes_ = &counter(r, "stampede_sender_sent_bytes_total", "Request body bytes submitted to the target", l);
  request_seconds_ = &histogram(r, "stampede_sender_request_duration_seconds",
                                "Duration of one HTTP request to the target (every request)", l, request_buckets);
  retries_ = &counter(r, "stampede_sender_retries_total",
                      "HTTP requests that repeat a failed one (not polls, not token refresh repeats)", l);
  in_flight_ = &gauge(r, "stampede_sender_in_flight_requests",
                      "Batches currently in the sender (submitted, not yet reconciled)", l);
  batch_seconds_ = &histogram(r, "stampede_sender_batch_duration_seconds",
                              "Life of one batch in the sender: start to outcome, with every "
                              "submit, poll and retry it needed (request_duration is one request)",
                              l, batch_buckets);
  // The usual codes resolved up front; the rest on first use.
  for (int code : {0, 200, 201, 202, 204}) (void)requests_for(code);
}

void sender_probe::batch_done(double seconds) { batch_seconds_->Observe(seconds); }

prometheus::Counter& sender_probe::requests_for(int http_status) {
  const std::size_t slot = http_status == 0 ? 0
                           : (http_status >= 100 && http_status <= 599) ? static_cast<std::size_t>(http_status)
                                                                        : 1;
  if (Counter* c = (*requests_)[slot].load(std::memory_order_acquire)) return *c;
  const std::string code = slot == 0 ? "none" : slot == 1 ? "other" : std::to_string(slot);
  // Family::Add is thread-safe and returns the existing series for equal labels,
  // so a race here stores the same pointer twice.
  Counter& c = requests_family_->Add({{"service", service_}, {"code", code}});
  (*requests_)[slot].store(&c, std::memory_order_release);
  return c;
}

void sender_probe::batch_sent(std::uint64_t records, std::uint64_t bytes) {
  batches_->Increment();
  records_->Increment(as_double(records));
  bytes_->Increment(as_double(bytes));
}

void sender_probe::request_done(int http_status, double seconds) {
  requests_for(http_status).Increment();
  request_seconds_->Observe(seconds);
}

void sender_probe::retry() { retries_->Increment(); }
void sender_probe::in_flight(std::int64_t n) { in_flight_->Set(static_cast<double>(n)); }

// ---- reconcile ---------------------------------------------------------------

reconcile_probe::reconcile_probe(metrics_registry& r, std::uint32_t service) {
  const std::string s = std::to_string(service);
  auto outcome = [&](const char* o) -> Counter* {
    return &counter(r, outcomes_name, outcomes_help, {{"service", s}, {"outcome", o}});
  };
  created_ = outcome("created");
  updated_ = outcome("updated");
  deleted_ = outcome("deleted");
  failed_ = outcome("failed");
  const Labels l = service_label(service);
  checkpoint_ = &gauge(r, "stampede_checkpoint_timestamp_seconds",
                       "Checkpoint stamp (source time, as unix seconds) durably committed", l);
  commit_seconds_ = &histogram(r, "stampede_reconcile_commit_duration_seconds",
                               "Duration of one ledger + checkpoint WriteBatch commit", l, commit_buckets);
}

void reconcile_probe::outcomes(std::uint64_t created, std::uint64_t updated, std::uint64_t deleted,
                               std::uint64_t failed) {
  if (created) created_->Increment(as_double(created));
  if (updated) updated_->Increment(as_double(updated));
  if (deleted) deleted_->Increment(as_double(deleted));
  if (failed) failed_->Increment(as_double(failed));
}

void reconcile_probe::checkpoint_advanced(double stamp_unix_seconds) { checkpoint_->Set(stamp_unix_seconds); }
void reconcile_probe::commit_seconds(double s) { commit_seconds_->Observe(s); }

// ---- http (exchange observer) ------------------------------------------------

namespace {

constexpr std::array<std::string_view, 6> k_kinds{"submit", "poll", "sync", "record", "token",
                                                  "setup"};
constexpr std::array<std::string_view, 7> k_classes{"1xx", "2xx", "3xx", "4xx", "5xx", "transport", "other"};

std::size_t class_index(std::string_view c) {
  for (std::size_t i = 0; i < k_classes.size(); ++i)
    if (k_classes[i] == c) return i;
  return k_classes.size() - 1;
}

} // namespace

struct http_probe::service_series {
  service_series(metrics_registry& r, std::uint32_t service) : sender(r, service) {}
  sender_probe sender;
  Counter* unknown = nullptr;
  std::array<std::array<Counter*, k_classes.size()>, k_kinds.size()> by_class{};
};

http_probe::http_probe(metrics_registry& r, std::string target) : reg_(r), target_(std::move(target)) {
  by_class_ = &counter_family(r, "stampede_sender_http_requests_total",
                              "HTTP requests to the target by request kind (submit|poll|sync|record) and "
                              "status class (2xx|4xx|5xx|transport|...)");
  token_ = &counter_family(r, "stampede_target_token_requests_total",
                           "OAuth2 token requests of a target by status class");
  failures_ = &counter_family(r, "stampede_target_failures_total",
                              "Batches that failed at the target level, by failure class "
                              "(unreachable|credentials|route|exhausted|circuit_open|cancelled)");
  breaker_ = &gauge(r, "stampede_target_breaker_state",
                    "Circuit breaker of a target: 0 closed, 1 open, 2 half-open", {{"target", target_}});
}

http_probe::~http_probe() = default;

http_probe::service_series& http_probe::series(std::uint32_t service) {
  auto& p = services_[service];
  if (!p) {
    p = std::make_unique<service_series>(reg_, service);
    p->unknown = &counter(reg_, "stampede_sender_unknown_outcome_retries_total",
                          "Requests repeated with the same idempotency keys because the outcome of "
                          "the previous one was unknown (unreadable 2xx, timeout or lost connection "
                          "after sending)",
                          service_label(service));
  }
  return *p;
}

void http_probe::on_exchange(const exchange_event& e) {
  const std::string_view cls = status_class(e.status);
  std::lock_guard lk(mu_);
  if (e.kind == exchange_kind::token) {
    token_->Add({{"target", target_}, {"class", std::string(cls)}}).Increment();
    return;
  }
  auto& s = series(e.service);
  s.sender.request_done(e.status, static_cast<double>(e.latency.count()) / 1e6);
  if (e.retry) s.sender.retry();
  if (e.unknown_outcome) s.unknown->Increment();
  const auto k = static_cast<std::size_t>(e.kind);
  const auto c = class_index(cls);
  Counter*& slot = s.by_class[k][c];
  if (!slot)
    slot = &by_class_->Add({{"service", std::to_string(e.service)},
                            {"kind", std::string(k_kinds[k])},
                            {"class", std::string(k_classes[c])}});
  slot->Increment();
}

void http_probe::on_target_failure(const target_failure_event& e) {
  std::lock_guard lk(mu_);
  failures_->Add({{"target", target_}, {"class", std::string(e.failure_class_name)}}).Increment();
}

void http_probe::on_breaker(const breaker_event& e) {
  breaker_->Set(static_cast<double>(static_cast<int>(e.to)));
}

// ---- service ----------------------------------------------------------------

service_probe::service_probe(metrics_registry& r, std::uint32_t service) {
  const Labels l = service_label(service);
  last_success_ = &gauge(r, "stampede_service_last_cycle_success",
                         "1 when the service's last cycle succeeded, 0 when it failed or none ran", l);
  last_time_ = &gauge(r, "stampede_service_last_cycle_timestamp_seconds",
                      "When the service's last cycle ended (unix seconds; 0 = none since start)", l);
  last_duration_ = &gauge(r, "stampede_service_last_cycle_duration_seconds",
                          "How long the service's last cycle took", l);
  const char* names[4] = {"pending", "success", "error", "cancelled"};
  for (int i = 0; i < 4; ++i)
    records_[i] = &gauge(r, "stampede_service_records",
                         "The service's records in the ledger by status (error and cancelled: "
                         "not delivered; pending: waiting for an outcome)",
                         {{"service", std::to_string(service)}, {"status", names[i]}});
  initial_load_ = &gauge(r, "stampede_service_initial_load_complete",
                         "1 once the service's initial load is complete, else 0", l);
  initial_progress_ = &gauge(r, "stampede_service_initial_load_progress_ratio",
                             "Share of the initial load delivered (rows with a durable outcome "
                             "over the rows counted at its start); 1 once complete",
                             l);
  backlog_rows_ = &gauge(r, "stampede_source_backlog_rows",
                         "Source rows after the service's checkpoint, not read yet (counted up "
                         "to 1000000; 0 until first measured)",
                         l);
  backlog_age_ = &gauge(r, "stampede_source_backlog_oldest_age_seconds",
                        "Source clock minus the stamp of the oldest row after the checkpoint "
                        "(0 without such rows)",
                        l);
}

void service_probe::source_backlog(std::uint64_t rows, double oldest_age_seconds) {
  backlog_rows_->Set(as_double(rows));
  backlog_age_->Set(rows ? std::max(0.0, oldest_age_seconds) : 0);
}

void service_probe::initial_load_progress(double ratio) {
  initial_progress_->Set(std::clamp(ratio, 0.0, 1.0));
}

void service_probe::cycle_done(bool ok, double unix_seconds, double duration_seconds) {
  last_success_->Set(ok ? 1 : 0);
  last_time_->Set(unix_seconds);
  last_duration_->Set(duration_seconds);
}

void service_probe::records(const std::array<std::uint64_t, 4>& by_status) {
  for (int i = 0; i < 4; ++i)
    records_[i]->Set(as_double(by_status[i]));
}

void service_probe::initial_load_complete(bool done) {
  initial_load_->Set(done ? 1 : 0);
  if (done)
    initial_progress_->Set(1);
}

void preregister(metrics_registry& r, std::uint32_t service) {
  extractor_probe e(r, service);
  transform_probe t(r, service);
  sender_probe s(r, service);
  reconcile_probe c(r, service);
}

void build_info(metrics_registry& r, const std::string& version) {
  gauge(r, "stampede_build_info", "Always 1; the version of this stampede build",
        {{"version", version}})
    .Set(1);
  gauge(r, "stampede_process_start_time_seconds",
        "When this stampede process started (unix seconds): alerts over a longer window "
        "wait until the process has been up that long",
        {})
    .Set(static_cast<double>(system_ms()) / 1000.0);
}

void shard_info(metrics_registry& r, std::uint32_t index, std::uint32_t count) {
  gauge(r, "stampede_shard_info",
        "Always 1; which shard this worker is (--shard k/N: k 0-based; 0 of 1 when not sharded)",
        {{"shard", std::to_string(index)}, {"shards", std::to_string(count)}})
    .Set(1);
}

} // namespace stampede
