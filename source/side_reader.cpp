#include "source/side_reader.hpp"

#include "pipeline/page_filter.hpp"

#include <stdexcept>

namespace stampede {

side_reader::side_reader(source& src, state_store& store, std::uint32_t service, page_query base,
                         std::vector<replay_range> replays, std::int64_t now_ms,
                         std::size_t max_resend)
  : src_(src), store_(store), service_(service), base_(std::move(base)), replays_(std::move(replays)) {
  for (auto& b : store_.pending_batches(service_))
    pending_.push_back(std::move(b));
  store_.scan_resend(service_, [&](std::string_view key, std::int64_t due) {
    if (due <= now_ms)
      resend_.emplace_back(key);
    return resend_.size() < max_resend;
  });
  resend_total_ = resend_.size();
}

void side_reader::drop_sent(row_page& page) const {
  if (!sent_.empty())
    keep_rows(page, [&](const row_page::row_meta& m) { return !sent_.count(m.key); });
}

void side_reader::attach_priors(row_page& out) {
  if (out.rows.empty())
    return;
  std::vector<std::string_view> keys;
  keys.reserve(out.rows.size());
  for (auto& r : out.rows)
    keys.emplace_back(r.key);
  auto prior = store_.get_many(service_, keys);
  for (std::size_t i = 0; i < prior.size(); ++i)
    out.rows[i].prior = std::move(prior[i]);
}

bool side_reader::next(row_page& out) {
  out.detached = true;
  out.force = false;
  out.generation = 0;
  out.gone.clear();
  out.resume.reset();

  if (!pending_.empty()) {
    pending_batch pb = std::move(pending_.front());
    pending_.pop_front();
    auto b = std::make_shared<send_batch>();
    b->service = service_;
    b->resume_batch_id = pb.batch_id;
    std::vector<std::string_view> keys;
    keys.reserve(pb.records.size());
    for (const auto& p : pb.records)
      keys.emplace_back(p.key);
    auto now = store_.get_many(service_, keys);
    for (std::size_t i = 0; i < pb.records.size(); ++i) {
      const auto& p = pb.records[i];
      out_record& r = b->records.emplace_back();
      r.key = p.key;
      r.op = static_cast<record_op>(p.op);
      r.content_hash = p.content_hash;
      r.remote_id = p.remote_id;
      r.stamp = p.stamp;
      r.recno = p.recno;
      r.attempts = p.attempts;
      r.generation = p.generation;
      r.idempotency_key = p.idempotency_key;
      // The ledger may have moved since (a Pending entry written at
      // poll_timeout): count from what it says now.
      r.prior_status = now[i] ? static_cast<std::int8_t>(now[i]->status) : p.prior_status;
      r.items = now[i] ? now[i]->items : 0;
      r.created_ms = now[i] ? now[i]->created_ms : 0;
      if (now[i] && r.op != record_op::create) r.returned = now[i]->returned;
    }
    out.rows.clear();
    out.cells.clear();
    out.arena.clear();
    out.columns = std::make_shared<const std::vector<std::string>>(base_.columns);
    out.end = keyset_pos{};
    out.next = keyset_pos{};
    out.last = true;
    out.resume = std::move(b);
    ++resumed_;
    return true;
  }

  while (replay_ < replays_.size()) {
    const replay_range& rr = replays_[replay_];
    if (!replay_started_) {
      replay_query_ = base_;
      const auto from = parse_stamp(rr.from), to = parse_stamp(rr.to);
      if (!from || !to)
        throw std::invalid_argument("replay range \"" + rr.from + "\" .. \"" + rr.to +
                                    "\" is not a pair of stamps");
      replay_query_.after = src_.start_at(base_, *from);
      replay_query_.upper = *to;
      replay_started_ = true;
    }
    src_.read_page(replay_query_, out);
    replay_query_.after = out.next;
    if (out.last) {
      ++replay_;
      replay_started_ = false;
    }
    if (out.rows.empty())
      continue;
    attach_priors(out);
    for (const auto& r : out.rows)
      sent_.insert(r.key);
    out.force = true;
    out.generation = rr.generation;
    out.detached = true;
    out.end = keyset_pos{};
    out.next = keyset_pos{};
    return true;
  }

  if (resend_pos_ < resend_.size()) {
    const std::size_t n = std::min<std::size_t>(std::max<std::uint32_t>(1, base_.limit),
                                                resend_.size() - resend_pos_);
    std::vector<std::string> keys(resend_.begin() + static_cast<std::ptrdiff_t>(resend_pos_),
                                  resend_.begin() + static_cast<std::ptrdiff_t>(resend_pos_ + n));
    resend_pos_ += n;
    auto missing = src_.read_by_keys(base_, keys, out);
    attach_priors(out);
    for (const auto& r : out.rows)
      sent_.insert(r.key);
    out.detached = true;
    if (!missing.empty()) {
      std::vector<std::string_view> mk(missing.begin(), missing.end());
      auto priors = store_.get_many(service_, mk);
      for (std::size_t i = 0; i < missing.size(); ++i)
        out.gone.emplace_back(missing[i], std::move(priors[i]));
    }
    return true;
  }
  return false;
}

} // namespace stampede
