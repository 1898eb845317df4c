#include "engine/scheduler.hpp"

#include "pipeline/schedule.hpp"

#include <algorithm>

namespace stampede {

std::chrono::milliseconds failure_backoff(const schedule& s, std::uint32_t failures) {
  if (failures == 0)
    return std::chrono::milliseconds{0};
  auto cap = failure_backoff_max;
  if (s.k == schedule::kind::interval && s.every.count() > 0)
    cap = std::min(cap, std::chrono::duration_cast<std::chrono::milliseconds>(s.every));
  cap = std::max(cap, failure_backoff_first);
  // 1 s << (failures - 1), without overflowing: 2^9 s already exceeds 5 min.
  const std::uint32_t shift = std::min<std::uint32_t>(failures - 1, 20);
  const auto d = failure_backoff_first * (std::int64_t{1} << shift);
  return std::min(d, cap);
}

bool failed_cycle(const cycle_result& r) {
  return !r.ok && r.code != errc::stopped && r.code != errc::drain_timeout;
}

service_scheduler::service_scheduler(std::vector<const service_config*> services,
                                     int utc_offset_minutes)
  : services_(std::move(services)), utc_offset_(utc_offset_minutes),
    due_(services_.size(), 0), failures_(services_.size(), 0) {
}

void service_scheduler::start(std::int64_t now_ms, const std::vector<std::uint32_t>& failures) {
  for (std::size_t i = 0; i < services_.size(); ++i) {
    failures_[i] = i < failures.size() ? failures[i] : 0;
    due_[i] = next_due(services_[i]->when, now_ms, utc_offset_);
    if (failures_[i] > 0)
      due_[i] = std::max(due_[i], now_ms + failure_backoff(services_[i]->when, failures_[i]).count());
  }
}

std::optional<std::size_t> service_scheduler::due(std::int64_t now_ms) const {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < due_.size(); ++i)
    if (due_[i] <= now_ms && (!best || due_[i] < due_[*best]))
      best = i;
  return best;
}

std::int64_t service_scheduler::next_wake() const {
  if (due_.empty())
    return INT64_MAX;
  return *std::min_element(due_.begin(), due_.end());
}

void service_scheduler::completed(std::size_t i, const cycle_result& r, std::int64_t now_ms) {
  const auto& when = services_.at(i)->when;
  if (failed_cycle(r)) {
    ++failures_[i];
    due_[i] = now_ms + failure_backoff(when, failures_[i]).count();
    return;
  }
  if (!r.ok) {  // a stop or drain timeout says nothing about the service
    due_[i] = next_due(when, now_ms, utc_offset_);
    return;
  }
  failures_[i] = 0;
  due_[i] = next_due(when, now_ms, utc_offset_);
  const auto delivered = r.counts.created + r.counts.updated + r.counts.deleted;
  if (when.k == schedule::kind::always && delivered == 0)
    due_[i] = now_ms + always_idle.count();
}

} // namespace stampede
