#include "actors/extractor.hpp"

#include "actors/errc.hpp"
#include "pipeline/cycle_bounds.hpp"
#include "pipeline/shard.hpp"

#include <chrono>
#include <fmt/format.h>

namespace stampede {

std::string extractor_config::validate() const {
  if (!cfg || !service)
    return "extractor: no config or service";
  if (transformers.empty())
    return fmt::format("extractor for service {}: no transformers", service->id);
  if (!store)
    return fmt::format("extractor for service {}: no state store", service->id);
  if (window == 0)
    return "extractor: window must be >= 1";
  return {};
}

extractor_status extractor_state::status() const {
  extractor_status s;
  s.rows_read = rows_read;
  s.rows_expected = rows_expected;
  s.pages = next_seq;
  s.outstanding = outstanding;
  s.max_outstanding = max_outstanding;
  s.finished = finished;
  s.stopped = stopped;
  s.upper = query.upper ? query.upper->text() : std::string();
  s.bounds_note = bounds_note;
  s.error = error;
  return s;
}

namespace {

// For the probes: -1 when there is no stamp (the probes' "unknown").
std::int64_t unix_ms_of(const std::optional<stamp>& s) { return s ? s->unix_ms() : -1; }

using self_ptr = extractor_actor::stateful_pointer<extractor_state>;

void maybe_finish(self_ptr self) {
  auto& st = self->state;
  if (st.finished && st.outstanding == 0 && st.done.pending())
    st.done.deliver(st.status());
}

/// Hands a page to the next transformer, keeping the window.
void hand_on(self_ptr self, page_ptr page);

/// Resumed async batches, replays and resends come first: true when one was
/// handed on.
bool read_side(self_ptr self) {
  auto& st = self->state;
  if (!st.side || st.side_done)
    return false;
  auto page = std::make_shared<row_page>();
  try {
    if (!st.side->next(*page)) {
      st.side_done = true;
      return false;
    }
  } catch (const std::exception& e) {
    st.error = fmt::format("service {}: reading {} for resend/replay: {}", st.cfg.service->id,
                           st.cfg.service->table, e.what());
    st.finished = true;
    st.side_done = true;
    if (st.done.pending())
      st.done.deliver(make_error(errc::source_failed, st.error));
    return true;
  }
  page->service = st.cfg.service->id;
  page->seq = st.next_seq++;
  keep_own_rows(*page, st.cfg.cfg->shard);  // a replay range: this shard's rows only
  st.rows_read += page->rows.size();
  hand_on(self, std::move(page));
  return true;
}

void read_one(self_ptr self) {
  auto& st = self->state;
  if (read_side(self))
    return;
  auto page = std::make_shared<row_page>();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    st.src->read_page(st.query, *page);
    if (st.cfg.probe)
      st.cfg.probe->page_read(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    page->service = st.cfg.service->id;
    page->seq = st.next_seq++;
    if (page->rows.empty())
      page->next = st.query.after;  // nothing read: the position stays (end: the source's)
    else {
      // --shard: other shards' rows go; a page left empty still moves the
      // checkpoint to its end (pipeline/shard.hpp).
      keep_own_rows(*page, st.cfg.cfg->shard);
      if (st.side && !page->rows.empty())
        st.side->drop_sent(*page);   // rows resent or replayed this cycle go once
    }
    if (!page->rows.empty() && !st.cfg.ledger_empty) {
      std::vector<std::string_view> keys;
      keys.reserve(page->rows.size());
      for (auto& r : page->rows)
        keys.emplace_back(r.key);
      auto prior = st.cfg.store->get_many(st.cfg.service->id, keys);
      for (std::size_t i = 0; i < prior.size(); ++i)
        page->rows[i].prior = std::move(prior[i]);
    }
  } catch (const std::exception& e) {
    st.error = fmt::format("service {}: reading {}: {}", st.cfg.service->id,
                           st.cfg.service->table, e.what());
    st.finished = true;
    if (st.done.pending())
      st.done.deliver(make_error(errc::source_failed, st.error));
    return;
  }
  st.rows_read += page->rows.size();
  if (st.cfg.probe)
    st.cfg.probe->rows_read(page->rows.size());
  if (st.cfg.probe)  // stampede_extractor_lag_seconds (docs/metrics.md)
    st.cfg.probe->extracted_to(unix_ms_of(page->last ? st.query.upper : parse_stamp(page->end.stamp)));
  st.query.after = page->next;
  if (page->last)
    st.finished = true;
  hand_on(self, std::move(page));
}

void hand_on(self_ptr self, page_ptr page) {
  auto& st = self->state;
  ++st.outstanding;
  st.max_outstanding = std::max(st.max_outstanding, st.outstanding);
  auto& dest = st.cfg.transformers[st.next_transformer++ % st.cfg.transformers.size()];
  self->request(dest, caf::infinite, page)
    .then(
      [=](std::uint64_t) {
        --self->state.outstanding;
        if (self->state.finished)
          maybe_finish(self);
        else
          self->send(self, pull_atom::value);
      },
      [=](caf::error& err) {
        auto& s = self->state;
        s.error = fmt::format("service {}: transformer failed: {}", s.cfg.service->id,
                              render(err));
        s.finished = true;
        if (s.done.pending())
          s.done.deliver(errc_of(err) ? err : make_error(errc::internal, s.error));
      });
}

} // namespace

extractor_actor::behavior_type
extractor(extractor_actor::stateful_pointer<extractor_state> self, extractor_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](run_atom) -> caf::result<extractor_status> {
      auto& st = self->state;
      if (st.started)
        return make_error(errc::internal, "extractor: run called twice");
      st.started = true;
      if (auto err = st.cfg.validate(); !err.empty())
        return make_error(errc::bad_config, err);
      const auto& src_cfg = st.cfg.cfg->source;
      const auto& svc = *st.cfg.service;
      try {
        st.src = source::open(src_cfg);
        static_cast<table_spec&>(st.query) = spec_of(src_cfg, svc);
        st.query.columns = st.cfg.columns;
        st.query.limit = src_cfg.page_size;
        bounds_input in;
        in.checkpoint = keyset_pos{st.cfg.start.checkpoint_stamp, st.cfg.start.checkpoint_recno};
        in.initial_load = st.cfg.initial_load;
        in.source_now = st.src->now();
        in.safety_delay = src_cfg.safety_delay;
        in.lookback = src_cfg.lookback;
        in.oldest_open = st.src->oldest_open_transaction();
        const cycle_bounds plan = plan_bounds(in);
        st.bounds_note = plan.note;
        st.query.upper = plan.upper;
        st.query.after = plan.from ? st.src->start_at(st.query, *plan.from) : plan.after;
        if (st.cfg.probe)
          st.cfg.probe->cycle_start(in.source_now.unix_ms(),
                                    unix_ms_of(parse_stamp(st.cfg.start.checkpoint_stamp)));
        if (st.cfg.initial_load)
          st.rows_expected = st.src->count_rows(st.query, st.query.upper);
        if (const auto n = st.cfg.cfg->shard.count; n > 1)  // about 1/N are this shard's
          st.rows_expected = (st.rows_expected + n - 1) / n;
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
        st.side = std::make_unique<side_reader>(*st.src, *st.cfg.store, svc.id, st.query,
                                                st.cfg.start.replays, now, st.cfg.max_resend);
      } catch (const std::exception& e) {
        st.error = fmt::format("service {}: {}", svc.id, e.what());
        return make_error(errc::source_failed, st.error);
      }
      st.done = self->make_response_promise<extractor_status>();
      self->send(self, pull_atom::value);
      return st.done;
    },
    [=](pull_atom) {
      auto& st = self->state;
      // Fill the window: read pages until K are unanswered or the end.
      while (!st.finished && st.outstanding < st.cfg.window)
        read_one(self);
      maybe_finish(self);
    },
    [=](stop_atom) {
      self->state.stopped = true;
      self->state.finished = true;
      maybe_finish(self);
    },
    [=](status_atom) {
      actor_status s;
      s.service = self->state.cfg.service ? self->state.cfg.service->id : 0;
      s.stage = self->state.status();
      return s;
    },
  };
}

} // namespace stampede
