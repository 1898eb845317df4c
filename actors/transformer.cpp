#include "actors/transformer.hpp"

#include "actors/errc.hpp"

namespace stampede {

std::string transformer_actor_config::validate() const {
  if (!tf)
    return "transformer: no mapping";
  if (!sender)
    return "transformer: no sender";
  if (window == 0)
    return "transformer: window must be >= 1";
  return {};
}

namespace {

using self_ptr = transformer_actor::stateful_pointer<transformer_state>;

void pump(self_ptr self) {
  auto& st = self->state;
  while (!st.queue.empty() && st.outstanding < st.cfg.window) {
    auto [batch, page] = std::move(st.queue.front());
    st.queue.pop_front();
    ++st.outstanding;
    st.max_outstanding = std::max(st.max_outstanding, st.outstanding);
    self->request(st.cfg.sender, caf::infinite, batch)
      .then(
        [=](std::uint64_t) {
          --self->state.outstanding;
          if (--page->remaining == 0)
            page->rp.deliver(page->seq);
          pump(self);
        },
        [=](caf::error& err) {
          --self->state.outstanding;
          if (page->rp.pending())
            page->rp.deliver(err);
          pump(self);
        });
  }
}

} // namespace

transformer_actor::behavior_type
transformer_fn(transformer_actor::stateful_pointer<transformer_state> self,
               transformer_actor_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](page_ptr page) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      st.service = page->service;
      std::vector<batch_ptr> batches;
      try {
        batches = st.cfg.tf->run(*page);
      } catch (const std::exception& e) {
        return make_error(errc::transform_failed, e.what());  // names service and field
      }
      ++st.pages;
      if (batches.empty())
        return page->seq;  // cannot happen: run() yields >= 1 batch per page
      auto pp = std::make_shared<transformer_state::pending_page>();
      pp->seq = page->seq;
      pp->remaining = batches.size();
      pp->rp = self->make_response_promise<std::uint64_t>();
      for (auto& b : batches) {
        if (st.cfg.probe) {
          st.cfg.probe->records_encoded(b->records.size());
          st.cfg.probe->records_skipped_unchanged(b->skipped_unchanged);
          st.cfg.probe->record_errors(b->record_errors.size());
        }
        st.records += b->records.size();
        ++st.batches;
        st.queue.emplace_back(std::move(b), pp);
      }
      page.reset();  // the page's memory goes now, the batches carry the data
      pump(self);
      return pp->rp;
    },
    [=](status_atom) {
      auto& st = self->state;
      transformer_status t;
      t.pages = st.pages;
      t.batches = st.batches;
      t.records = st.records;
      t.queued = st.queue.size();
      t.outstanding = st.outstanding;
      t.max_outstanding = st.max_outstanding;
      actor_status s;
      s.service = st.service;
      s.stage = t;
      return s;
    },
  };
}

} // namespace stampede
