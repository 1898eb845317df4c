#include "engine/scheduler.hpp"

#include "pipeline/schedule.hpp"
#include "pipeline/service_graph.hpp"

#include <algorithm>
#include <functional>

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
  return !r.ok && r.code != errc::stopped && r.code != errc::drain_timeout &&
         r.code != errc::waiting;
}

service_scheduler::service_scheduler(std::vector<const service_config*> services,
                                     int utc_offset_minutes)
  : services_(std::move(services)), utc_offset_(utc_offset_minutes),
    due_(services_.size(), 0), failures_(services_.size(), 0), rank_(services_.size(), 0),
    deps_(services_.size()), reported_(services_.size(), false) {
  const service_graph g(services_);
  std::vector<std::uint32_t> ids;
  for (const auto* s : services_)
    ids.push_back(s->id);
  const auto order = g.order(ids);
  auto index_of = [&](std::uint32_t id) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < services_.size(); ++i)
      if (services_[i]->id == id)
        return i;
    return std::nullopt;
  };
  for (std::size_t r = 0; r < order.size(); ++r)
    if (auto i = index_of(order[r]))
      rank_[*i] = r;
  for (std::size_t i = 0; i < services_.size(); ++i)
    for (auto d : g.after(services_[i]->id))
      if (auto j = index_of(d); j && *j != i)
        deps_[i].push_back(*j);
}

std::optional<std::size_t> service_scheduler::held_by(std::size_t i) const {
  // The graph has no cycle (config loading rejects one); the depth is bounded
  // by the number of services all the same.
  std::function<std::optional<std::size_t>(std::size_t, std::size_t)> walk =
    [&](std::size_t k, std::size_t depth) -> std::optional<std::size_t> {
    if (depth > services_.size())
      return std::nullopt;
    std::optional<std::size_t> best;
    for (auto j : deps_[k]) {
      const bool blocks = failures_[j] > 0 || walk(j, depth + 1).has_value();
      if (blocks && (!best || services_[j]->id < services_[*best]->id))
        best = j;
    }
    return best;
  };
  return walk(i, 0);
}

std::vector<std::size_t> service_scheduler::newly_held(std::int64_t now_ms) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < services_.size(); ++i) {
    if (!held_by(i)) {
      reported_[i] = false;
      continue;
    }
    if (due_[i] <= now_ms && !reported_[i]) {
      reported_[i] = true;
      out.push_back(i);
    }
  }
  return out;
}

void service_scheduler::start(std::int64_t now_ms, const std::vector<std::uint32_t>& failures) {
  for (std::size_t i = 0; i < services_.size(); ++i) {
    failures_[i] = i < failures.size() ? failures[i] : 0;
    due_[i] = next_due(services_[i]->when, now_ms, utc_offset_);
    // A service whose last cycle failed (an initial load cut short by a
    // target outage, say) tries again after its backoff, as completed() does,
    // not at its next slot (hours away for "daily 08:00").
    if (failures_[i] > 0)
      due_[i] = now_ms + failure_backoff(services_[i]->when, failures_[i]).count();
  }
}

std::optional<std::size_t> service_scheduler::due(std::int64_t now_ms) const {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < due_.size(); ++i) {
    if (due_[i] > now_ms || held_by(i))
      continue;
    if (!best || due_[i] < due_[*best] || (due_[i] == due_[*best] && rank_[i] < rank_[*best]))
      best = i;
  }
  return best;
}

std::int64_t service_scheduler::next_wake() const {
  // A held service stays due; it wakes nobody until its dependency succeeds.
  std::int64_t best = INT64_MAX;
  for (std::size_t i = 0; i < due_.size(); ++i)
    if (!held_by(i))
      best = std::min(best, due_[i]);
  return best;
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

void service_scheduler::wake(std::size_t i, std::int64_t now_ms) {
  if (failures_.at(i) > 0)
    return;
  due_.at(i) = std::min(due_.at(i), now_ms);
}

} // namespace stampede
