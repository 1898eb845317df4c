#include "pipeline/reconcile.hpp"

#include "pipeline/stamp.hpp"

#include <algorithm>

namespace stampede {

namespace {

void move_count(service_state& st, int prior, record_status now) {
  if (prior >= 0 && prior < 4 && st.counts[static_cast<std::size_t>(prior)] > 0)
    --st.counts[static_cast<std::size_t>(prior)];
  ++st.counts[static_cast<std::size_t>(now)];
}

bool was_queued(int prior_status) {
  return prior_status == static_cast<int>(record_status::error) ||
         prior_status == static_cast<int>(record_status::pending) ||
         prior_status == static_cast<int>(record_status::cancelled);
}

/// The reason as counted per cycle: the message, cut to a readable length.
std::string reason_of(const std::string& message) {
  constexpr std::size_t max = 160;
  if (message.size() <= max)
    return message;
  return message.substr(0, max) + "...";
}

/// What every outcome of `rec` writes: its content, op, times and history;
/// status, attempts and errors are the caller's.
ledger_entry entry_of(const out_record& rec, std::int64_t now_ms) {
  ledger_entry e;
  e.content_hash = rec.content_hash;
  e.last_stamp = rec.stamp;
  e.last_op = static_cast<std::uint8_t>(rec.op);
  e.updated_ms = now_ms;
  e.created_ms = rec.created_ms ? rec.created_ms : now_ms;
  e.attempts = rec.attempts;
  e.generation = rec.generation;
  e.items = rec.items;
  e.remote_id = rec.remote_id;
  e.returned = rec.returned;
  return e;
}

/// The values of this answer replace those of the same name; others stay.
void merge_returned(std::vector<std::pair<std::string, std::string>>& into,
                    const std::vector<std::pair<std::string, std::string>>& from) {
  for (const auto& nv : from) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& p) { return p.first == nv.first; });
    if (it != into.end()) it->second = nv.second;
    else into.push_back(nv);
  }
}

} // namespace

reconcile_policy policy_for(const target_config& tgt, const journal_config& journal) {
  reconcile_policy p;
  p.max_attempts = tgt.max_attempts;
  p.resend_backoff_ms = tgt.resend_backoff.count();
  p.resend_backoff_max_ms = tgt.resend_backoff_max.count();
  p.payloads = journal.payloads == journal_payloads::none       ? payload_retention::none
               : journal.payloads == journal_payloads::all      ? payload_retention::all
                                                                : payload_retention::failures;
  p.payload_max_bytes = journal.payload_max_bytes;
  p.max_items = std::max<std::uint32_t>(1, journal.max_items);
  return p;
}

std::int64_t resend_delay_ms(const reconcile_policy& p, std::uint32_t attempts) {
  std::int64_t d = std::max<std::int64_t>(0, p.resend_backoff_ms);
  for (std::uint32_t i = 1; i < attempts && d < p.resend_backoff_max_ms; ++i)
    d *= 2;
  return std::min(d, std::max<std::int64_t>(0, p.resend_backoff_max_ms));
}

reconcile_state::reconcile_state(service_state initial, std::uint32_t max_attempts)
  : state_(std::move(initial)) {
  policy_.max_attempts = max_attempts;
}

reconcile_state::reconcile_state(service_state initial, reconcile_policy policy)
  : state_(std::move(initial)), policy_(policy) {
  policy_.max_items = std::max<std::uint32_t>(1, policy_.max_items);
}

void reconcile_state::begin_cycle() {
  pages_.clear();
  next_page_ = 0;
  settled_ = 0;
  cycle_ = {};
}

std::string reconcile_state::capped(std::string_view s) const {
  if (s.size() <= policy_.payload_max_bytes)
    return std::string(s);
  std::string out(s.substr(0, policy_.payload_max_bytes));
  out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

void reconcile_state::add_item(state_changes& c, const std::string& key, ledger_entry& e,
                               log_item item) {
  const std::uint32_t no = e.items++;
  c.items.push_back({key, no, std::move(item)});
  if (no >= policy_.max_items)
    c.items_erase.emplace_back(key, no - policy_.max_items);
}

namespace {

// True when `a` is a later point in time than `b` (any layout; "" or text
// that is not a stamp is never later, and anything beats it).
bool newer_stamp(const std::string& a, const std::string& b) {
  auto x = parse_stamp(a);
  if (!x) return false;
  auto y = parse_stamp(b);
  return !y || *x > *y;
}

} // namespace

void reconcile_state::record_failed(state_changes& c, const out_record& rec,
                                    const std::string& message, int http_status,
                                    const std::string& sent, const std::string& received,
                                    std::int64_t now_ms) {
  ledger_entry e = entry_of(rec, now_ms);
  ++e.attempts;
  e.last_error = message.empty() ? "unknown error" : message;
  const bool cancel = policy_.max_attempts > 0 && e.attempts >= policy_.max_attempts;
  e.status = cancel ? record_status::cancelled : record_status::error;
  ++cycle_.failed;
  ++state_.failed;
  if (cancel)
    ++cycle_.cancelled;
  ++cycle_.reasons[reason_of(e.last_error)];
  if (cancel || policy_.max_attempts == 0) {
    if (was_queued(rec.prior_status))
      c.resend_erase.push_back(rec.key);
  } else {
    c.resend.emplace_back(rec.key, now_ms + resend_delay_ms(policy_, e.attempts));
  }
  log_item item;
  item.time_ms = now_ms;
  item.status = e.status;
  item.op = e.last_op;
  item.attempt = e.attempts;
  item.http_status = http_status;
  item.message = e.last_error;
  if (policy_.payloads != payload_retention::none) {
    item.sent = capped(sent);
    item.received = capped(received);
  }
  add_item(c, rec.key, e, std::move(item));
  move_count(state_, rec.prior_status, e.status);
  c.ledger.emplace_back(rec.key, std::move(e));
}

state_changes reconcile_state::apply_all(const batch_result& r, std::int64_t now_ms) {
  state_changes c;
  const send_batch& b = *r.batch;
  ++cycle_.batches;
  cycle_.unchanged += b.skipped_unchanged;
  cycle_.skipped_deletes += b.skipped_deleted;
  if (b.detached && b.resume_batch_id.empty())
    cycle_.resent += b.records.size();
  // The async batch this result belongs to (submitted this cycle, or by an
  // earlier one): its stored copy goes once its result is applied.
  std::string async_id = b.resume_batch_id;
  if (auto it = async_ids_.find(&b); it != async_ids_.end()) {
    async_id = it->second;
    async_ids_.erase(it);
  }
  if (!async_id.empty() && !r.target && r.still_processing_batch_id.empty())
    c.batches_erase.push_back(async_id);

  if (r.target) {
    // Not the records' fault: nothing about them changes.
    ++cycle_.target_failures;
    if (cycle_.target_error.empty()) {
      cycle_.target_error = std::string(to_string(r.target->cls)) + ": " + r.target->reason;
    }
  } else if (!r.still_processing_batch_id.empty()) {
    for (const out_record& rec : b.records) {
      ledger_entry e = entry_of(rec, now_ms);
      e.status = record_status::pending;
      e.batch_id = r.still_processing_batch_id;
      ++cycle_.pending;
      move_count(state_, rec.prior_status, e.status);
      c.ledger.emplace_back(rec.key, std::move(e));
    }
  } else {
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      const out_record& rec = b.records[i];
      record_outcome none{false, {}, "no outcome reported by the sender", true, 0, {}, {}, false};
      const record_outcome& o = i < r.outcomes.size() ? r.outcomes[i] : none;
      if (!o.ok) {
        record_failed(c, rec, o.error, o.http_status, std::string(b.data(rec)), o.received, now_ms);
        continue;
      }
      ledger_entry e = entry_of(rec, now_ms);
      ++e.attempts;
      e.status = record_status::success;
      if (!o.remote_id.empty())
        e.remote_id = o.remote_id;
      merge_returned(e.returned, o.returned);
      switch (rec.op) {
        case record_op::create: ++cycle_.created; ++state_.created; break;
        case record_op::update: ++cycle_.updated; ++state_.updated; break;
        case record_op::del: ++cycle_.deleted; ++state_.deleted; break;
      }
      if (newer_stamp(rec.stamp, state_.newest_delivered_stamp))
        state_.newest_delivered_stamp = rec.stamp;
      if (was_queued(rec.prior_status))
        c.resend_erase.push_back(rec.key);
      // A record with a history gets the success in it; others keep their
      // summary in the entry only (unless every attempt is retained).
      if (rec.items > 0 || policy_.payloads == payload_retention::all) {
        log_item item;
        item.time_ms = now_ms;
        item.status = record_status::success;
        item.op = e.last_op;
        item.attempt = e.attempts;
        item.http_status = o.http_status;
        item.message = o.not_sent ? "delete not sent (request.delete = \"skip\")"
                                  : "delivered" + (e.remote_id.empty() ? std::string()
                                                                       : ", remote id " + e.remote_id);
        for (const auto& [name, value] : o.returned) item.message += ", " + name + " " + value;
        if (policy_.payloads == payload_retention::all) {
          item.sent = capped(b.data(rec));
          item.received = capped(o.received);
        }
        add_item(c, rec.key, e, std::move(item));
      }
      move_count(state_, rec.prior_status, e.status);
      c.ledger.emplace_back(rec.key, std::move(e));
    }
  }
  for (const auto& err : b.record_errors) {
    // Keep what the ledger knew (remote id, last op, hash): once the row is
    // fixed it must go out as an update of the same remote record.
    const ledger_entry prior = err.prior.value_or(ledger_entry{});
    out_record rec;
    rec.key = err.key;
    rec.op = static_cast<record_op>(prior.last_op);
    rec.content_hash = prior.content_hash;
    rec.remote_id = prior.remote_id;
    rec.returned = prior.returned;
    rec.stamp = prior.last_stamp;
    rec.attempts = (err.prior && prior.status == record_status::error) ? prior.attempts : 0;
    rec.prior_status = err.prior ? static_cast<std::int8_t>(prior.status) : std::int8_t{-1};
    rec.items = prior.items;
    rec.created_ms = prior.created_ms;
    rec.generation = prior.generation;
    record_failed(c, rec, err.message, 0, {}, {}, now_ms);
    // record_failed wrote a fresh entry: restore what only the prior knew.
    auto& e = c.ledger.back().second;
    e.last_stamp = prior.last_stamp;
    e.batch_id.clear();
  }
  auto& p = pages_[b.page_seq];
  p.parts = std::max<std::uint32_t>(1, b.parts);
  ++p.done;
  p.failed = p.failed || r.target.has_value();
  p.end = b.page_end;
  if (p.done == p.parts)
    ++settled_;
  advance_checkpoint();
  return c;
}

std::vector<std::pair<std::string, ledger_entry>>
reconcile_state::apply(const batch_result& r, std::int64_t now_ms) {
  return apply_all(r, now_ms).ledger;
}

state_changes reconcile_state::submitted(const send_batch& b, const std::string& batch_id,
                                         std::int64_t now_ms) {
  state_changes c;
  pending_batch pb;
  pb.batch_id = batch_id;
  pb.submitted_ms = now_ms;
  pb.records.reserve(b.records.size());
  for (const out_record& rec : b.records) {
    pending_record p;
    p.key = rec.key;
    p.op = static_cast<std::uint8_t>(rec.op);
    p.content_hash = rec.content_hash;
    p.remote_id = rec.remote_id;
    p.stamp = rec.stamp;
    p.recno = rec.recno;
    p.attempts = rec.attempts;
    p.prior_status = rec.prior_status;
    p.generation = rec.generation;
    p.idempotency_key = rec.idempotency_key;
    pb.records.push_back(std::move(p));
  }
  c.batches.push_back(std::move(pb));
  async_ids_[&b] = batch_id;
  return c;
}

void reconcile_state::advance_checkpoint() {
  for (auto it = pages_.find(next_page_);
       it != pages_.end() && it->second.done >= it->second.parts && !it->second.failed;
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
