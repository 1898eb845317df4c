// The last cycles of each service; see cycle_history.hpp.
#include "web/cycle_history.hpp"

#include <algorithm>

namespace stampede {

namespace {

bool idle(const cycle_entry& e) {
  return e.ok && e.rows_read == 0 && e.counts.sent() == 0 && e.counts.pending == 0 &&
         e.counts.cancelled == 0;
}

} // namespace

void cycle_history::add(const cycle_result& r, std::int64_t now_ms) {
  if (r.skipped)
    return;
  cycle_entry e;
  e.service = r.service;
  e.end_ms = now_ms;
  e.seconds = r.seconds;
  e.initial_load = r.initial_load;
  e.ok = r.ok;
  e.outcome = r.ok ? "done" : r.code == errc::waiting ? "not run" : r.stopped ? "stopped" : "failed";
  e.error = r.error;
  e.rows_read = r.rows_read;
  e.counts = r.counts;
  e.counts.reasons.clear();
  std::lock_guard<std::mutex> lk(mx_);
  running_.erase(r.service);
  auto& q = by_service_[r.service];
  if (!q.empty() && idle(q.back()) && idle(e) && q.back().initial_load == e.initial_load) {
    q.back().end_ms = e.end_ms;
    q.back().seconds = e.seconds;
    ++q.back().repeats;
    return;
  }
  q.push_back(std::move(e));
  while (q.size() > per_service_)
    q.pop_front();
}

void cycle_history::progress(const cycle_progress& p) {
  std::lock_guard<std::mutex> lk(mx_);
  running_[p.service] = p;
}

std::optional<cycle_progress> cycle_history::current(std::uint32_t service) const {
  std::lock_guard<std::mutex> lk(mx_);
  auto it = running_.find(service);
  if (it == running_.end())
    return std::nullopt;
  return it->second;
}

std::vector<cycle_entry> cycle_history::recent(std::optional<std::uint32_t> service) const {
  std::vector<cycle_entry> out;
  std::lock_guard<std::mutex> lk(mx_);
  for (const auto& [id, q] : by_service_)
    if (!service || *service == id)
      out.insert(out.end(), q.rbegin(), q.rend());
  std::stable_sort(out.begin(), out.end(),
                   [](const cycle_entry& a, const cycle_entry& b) { return a.end_ms > b.end_ms; });
  return out;
}

} // namespace stampede
