#include "actors/reconciler.hpp"

#include "pipeline/schedule.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

namespace stampede {

std::string reconciler_config::validate() const {
  if (!store)
    return "reconciler: no state store";
  if (service == 0)
    return "reconciler: no service";
  return {};
}

caf::settings summarize(const reconcile_state& rs) {
  caf::settings s;
  const auto& c = rs.counts();
  const auto& st = rs.state();
  caf::put(s, "created", c.created);
  caf::put(s, "updated", c.updated);
  caf::put(s, "deleted", c.deleted);
  caf::put(s, "failed", c.failed);
  caf::put(s, "cancelled", c.cancelled);
  caf::put(s, "unchanged", c.unchanged);
  caf::put(s, "skipped_deletes", c.skipped_deletes);
  caf::put(s, "pages", c.pages);
  caf::put(s, "batches", c.batches);
  caf::put(s, "checkpoint_stamp", st.checkpoint_stamp);
  caf::put(s, "checkpoint_recno", st.checkpoint_recno);
  caf::put(s, "initial_load_complete", st.initial_load_complete);
  return s;
}

namespace {

using self_ptr = reconciler_actor::stateful_pointer<reconciler_state>;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void serve_flushes(self_ptr self) {
  auto& st = self->state;
  for (auto it = st.flushes.begin(); it != st.flushes.end();) {
    if (st.rs->complete_pages() >= it->pages) {
      auto& svc = st.rs->state();
      if (it->initial_done)
        svc.initial_load_complete = true;
      svc.last_run_ms = now_ms();
      try {
        st.store->commit(st.service, {}, svc, /*sync=*/true);
      } catch (const std::exception& e) {
        it->rp.deliver(caf::make_error(caf::sec::runtime_error, e.what()));
        it = st.flushes.erase(it);
        continue;
      }
      it->rp.deliver(summarize(*st.rs));
      it = st.flushes.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace

reconciler_actor::behavior_type
reconciler_fn(reconciler_actor::stateful_pointer<reconciler_state> self, reconciler_config cfg) {
  auto& st = self->state;
  st.service = cfg.service;
  st.store = cfg.store;
  st.rs = std::make_unique<reconcile_state>(cfg.start, cfg.max_attempts);
  st.probe = cfg.probe;
  st.rs->begin_cycle();
  return {
    [=](result_ptr r) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto t0 = std::chrono::steady_clock::now();
      const auto before = st.rs->counts();
      const auto cp_before = st.rs->state().checkpoint_stamp;
      auto updates = st.rs->apply(*r, now_ms());
      try {
        st.store->commit(st.service, updates, st.rs->state(), /*sync=*/false);
      } catch (const std::exception& e) {
        st.error = fmt::format("service {}: ledger commit failed: {}", st.service, e.what());
        return caf::make_error(caf::sec::runtime_error, st.error);
      }
      ++st.commits;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      st.commit_seconds += secs;
      if (st.probe) {
        const auto& after = st.rs->counts();
        st.probe->outcomes(after.created - before.created, after.updated - before.updated,
                           after.deleted - before.deleted, after.failed - before.failed);
        st.probe->commit_seconds(secs);
        const auto& cp = st.rs->state().checkpoint_stamp;
        if (cp != cp_before && !cp.empty())
          st.probe->checkpoint_advanced(stamp_to_unix_ms(cp) / 1000.0);
      }
      serve_flushes(self);
      return static_cast<std::uint64_t>(updates.size());
    },
    [=](flush_atom, std::uint64_t pages, bool initial_done) -> caf::result<caf::settings> {
      auto rp = self->make_response_promise<caf::settings>();
      // A repeated flush for the same pages replaces the earlier one: the
      // cycle runner only asks again after its previous request timed out.
      auto& fl = self->state.flushes;
      fl.erase(std::remove_if(fl.begin(), fl.end(),
                              [&](const auto& w) { return w.pages == pages; }),
               fl.end());
      fl.push_back({pages, initial_done, rp});
      serve_flushes(self);
      return rp;
    },
    [=](status_atom) {
      auto& st = self->state;
      auto s = summarize(*st.rs);
      caf::put(s, "commits", st.commits);
      caf::put(s, "commit_seconds", st.commit_seconds);
      caf::put(s, "complete_pages", st.rs->complete_pages());
      caf::put(s, "error", st.error);
      return s;
    },
  };
}

} // namespace stampede
