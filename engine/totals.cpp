#include "engine/totals.hpp"

#include <algorithm>

namespace stampede {

void merge_reasons(std::map<std::string, std::uint64_t>& into,
                   const std::map<std::string, std::uint64_t>& add) {
  for (const auto& [text, n] : add) {
    auto it = into.find(text);
    if (it != into.end())
      it->second += n;
    else if (into.size() < max_reasons || text == other_reasons)
      into.emplace(text, n);
    else
      into[other_reasons] += n;  // may exceed max_reasons by this one entry
  }
}

void add_counts(cycle_counts& into, const cycle_counts& c) {
  into.created += c.created;
  into.updated += c.updated;
  into.deleted += c.deleted;
  into.failed += c.failed;
  into.cancelled += c.cancelled;
  into.unchanged += c.unchanged;
  into.skipped_deletes += c.skipped_deletes;
  into.pages += c.pages;
  into.batches += c.batches;
  into.pending += c.pending;
  into.resent += c.resent;
  into.target_failures += c.target_failures;
  merge_reasons(into.reasons, c.reasons);
  if (into.target_error.empty())
    into.target_error = c.target_error;
}

void accumulate(cycle_result& into, const cycle_result& r) {
  add_counts(into.counts, r.counts);
  into.rows_read += r.rows_read;
  into.seconds += r.seconds;
  into.stopped = into.stopped || r.stopped;
  into.initial_load = into.initial_load || r.initial_load;
  if (!r.ok) {
    into.ok = false;
    into.code = r.code;
    into.error = r.error;
    into.left = r.left;
  }
  if (r.ok || !r.checkpoint_stamp.empty()) {
    into.checkpoint_stamp = r.checkpoint_stamp;
    into.checkpoint_recno = r.checkpoint_recno;
    into.records = r.records;
  }
  into.initial_load_complete = r.initial_load_complete;
}

std::vector<std::pair<std::string, std::uint64_t>>
top_reasons(const std::map<std::string, std::uint64_t>& reasons, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> v(reasons.begin(), reasons.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n)
    v.resize(n);
  return v;
}

} // namespace stampede
