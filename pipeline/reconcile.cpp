#include "pipeline/reconcile.hpp"

#include <algorithm>

namespace stampede {

namespace {

void move_count(service_state& st, int prior, record_status now) {
  if (prior >= 0 && prior < 4 && st.counts[static_cast<std::size_t>(prior)] > 0)
    --st.counts[static_cast<std::size_t>(prior)];
  ++st.counts[static_cast<std::size_t>(now)];
}

} // namespace

reconcile_state::reconcile_state(service_state initial, std::uint32_t max_attempts)
  : state_(std::move(initial)), max_attempts_(std::max<std::uint32_t>(1, max_attempts)) {
}

void reconcile_state::begin_cycle() {
  pages_.clear();
  next_page_ = 0;
  cycle_ = {};
}

std::vector<std::pair<std::string, ledger_entry>>
reconcile_state::apply(const batch_result& r, std::int64_t now_ms) {
  std::vector<std::pair<std::string, ledger_entry>> updates;
  const send_batch& b = *r.batch;
  updates.reserve(b.records.size() + b.record_errors.size());
  ++cycle_.batches;
  cycle_.unchanged += b.skipped_unchanged;
  cycle_.skipped_deletes += b.skipped_deleted;
  for (std::size_t i = 0; i < b.records.size(); ++i) {
    const out_record& rec = b.records[i];
    record_outcome none{false, {}, "no outcome reported by the sender", true};
    const record_outcome& o = i < r.outcomes.size() ? r.outcomes[i] : none;
    ledger_entry e;
    e.content_hash = rec.content_hash;
    e.last_stamp = rec.stamp;
    e.last_op = static_cast<std::uint8_t>(rec.op);
    e.updated_ms = now_ms;
    e.attempts = rec.attempts + 1;
    if (o.ok) {
      e.status = record_status::success;
      e.remote_id = o.remote_id.empty() ? rec.remote_id : o.remote_id;
      switch (rec.op) {
        case record_op::create: ++cycle_.created; ++state_.created; break;
        case record_op::update: ++cycle_.updated; ++state_.updated; break;
        case record_op::del: ++cycle_.deleted; ++state_.deleted; break;
      }
      if (rec.stamp > state_.newest_delivered_stamp)
        state_.newest_delivered_stamp = rec.stamp;
    } else {
      e.remote_id = rec.remote_id;
      e.last_error = o.error.empty() ? "unknown error" : o.error;
      e.status = e.attempts >= max_attempts_ ? record_status::cancelled : record_status::error;
      ++cycle_.failed;
      ++state_.failed;
      if (e.status == record_status::cancelled)
        ++cycle_.cancelled;
    }
    move_count(state_, rec.prior_status, e.status);
    updates.emplace_back(rec.key, std::move(e));
  }
  for (const auto& err : b.record_errors) {
    // Keep what the ledger knew (remote id, last op, hash): once the row is
    // fixed it must go out as an update of the same remote record.
    ledger_entry e = err.prior.value_or(ledger_entry{});
    e.status = record_status::error;
    e.attempts = 1;
    e.updated_ms = now_ms;
    e.last_error = err.message;
    ++cycle_.failed;
    ++state_.failed;
    move_count(state_, err.prior ? static_cast<int>(err.prior->status) : -1, e.status);
    updates.emplace_back(err.key, std::move(e));
  }
  auto& p = pages_[b.page_seq];
  p.parts = std::max<std::uint32_t>(1, b.parts);
  ++p.done;
  p.end = b.page_end;
  advance_checkpoint();
  return updates;
}

void reconcile_state::advance_checkpoint() {
  for (auto it = pages_.find(next_page_); it != pages_.end() && it->second.done >= it->second.parts;
       it = pages_.find(next_page_)) {
    keyset_pos cp{state_.checkpoint_stamp, state_.checkpoint_recno};
    if (!it->second.end.stamp.empty() && cp < it->second.end) {
      state_.checkpoint_stamp = it->second.end.stamp;
      state_.checkpoint_recno = it->second.end.recno;
    }
    pages_.erase(it);
    ++next_page_;
    ++cycle_.pages;
  }
}

} // namespace stampede
