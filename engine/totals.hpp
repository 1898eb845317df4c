// Sums of cycle results: per service over a continuous run, and the most
// frequent record error reasons.
//
// Operation: `accumulate(into, r)` adds every counter of `r.counts` (created,
//   updated, deleted, failed, cancelled, unchanged, skipped deletes, pending,
//   resent, pages, batches, target failures) and the error reasons into
//   `into`, plus rows read and seconds; `into.ok` stays true only while
//   every cycle was ok, and keeps the last failure's code and message.
//   `merge_reasons` keeps at most `max_reasons` distinct texts; the rest are
//   counted under `other_reasons`.
// Concurrency: pure functions.
// Limitations: the checkpoint and records fields take the latest cycle's.
#pragma once

#include "actors/cycle.hpp"
#include "pipeline/reconcile.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace stampede {

inline constexpr std::size_t max_reasons = 32;
inline constexpr const char* other_reasons = "(other reasons)";

void merge_reasons(std::map<std::string, std::uint64_t>& into,
                   const std::map<std::string, std::uint64_t>& add);
void add_counts(cycle_counts& into, const cycle_counts& c);
void accumulate(cycle_result& into, const cycle_result& r);

/// The `n` most frequent reasons, most frequent first (ties: by text).
std::vector<std::pair<std::string, std::uint64_t>>
top_reasons(const std::map<std::string, std::uint64_t>& reasons, std::size_t n);

} // namespace stampede
