// side_reader: the pages of a cycle that are not part of its keyset walk.
//
// Operation: built at the start of a service's cycle, it yields, in this
//   order, before the extractor reads its first keyset page:
//     1. every async batch an earlier cycle submitted whose result was never
//        applied (the "batches" family): a page with `resume` set, so it is
//        polled again before anything is resent;
//     2. every replay range of the service state (`stampede replay`): the rows
//        with from <= stamp <= to, in keyset pages, `force`d (sent even when
//        unchanged) with the range's idempotency-key generation;
//     3. the due part of the resend queue (due <= now, at most `max_resend`
//        keys a cycle): the rows re-read by key (`source::read_by_keys`),
//        independent of the lookback; keys whose row is gone become `gone`.
//   Every page is `detached` with an empty `end`: it never moves the
//   checkpoint. Rows carry their prior ledger entries (one MultiGet a page).
//   The keyset walk of the same cycle drops rows a side page carried
//   (drop_sent), so a record is sent once per cycle.
// Concurrency: one per cycle, used from the extractor's (detached) thread.
// Limitations: the queue is read once at construction; records that become
//   due during the cycle wait for the next one.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"
#include "source/source.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <deque>
#include <unordered_set>
#include <string>
#include <vector>

namespace stampede {

class side_reader {
public:
  /// `base` is the cycle's page query (table, columns, key column, limit).
  side_reader(source& src, state_store& store, std::uint32_t service, page_query base,
              std::vector<replay_range> replays, std::int64_t now_ms, std::size_t max_resend);

  /// Fills `out` with the next side page (service and seq are the caller's);
  /// false when there is none left.
  bool next(row_page& out);

  /// Removes from a keyset page of the same cycle the rows a side page
  /// already carried (a resend or replay of a row the walk meets again):
  /// one record goes out once per cycle. `end` is kept.
  void drop_sent(row_page& page) const;

  std::size_t resumed() const { return resumed_; }
  std::size_t resend_keys() const { return resend_total_; }

private:
  void attach_priors(row_page& out);

  source& src_;
  state_store& store_;
  std::uint32_t service_;
  page_query base_;
  std::deque<pending_batch> pending_;
  std::vector<replay_range> replays_;
  std::size_t replay_ = 0;              // current range
  bool replay_started_ = false;
  page_query replay_query_;
  std::vector<std::string> resend_;
  std::size_t resend_pos_ = 0;
  std::size_t resumed_ = 0, resend_total_ = 0;
  std::unordered_set<std::string> sent_;  // keys of resend and replay rows handed on
};

} // namespace stampede
