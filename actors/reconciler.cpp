#include "actors/reconciler.hpp"

#include "actors/errc.hpp"

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

cycle_summary summarize(const reconcile_state& rs) {
  cycle_summary s;
  const auto& st = rs.state();
  s.counts = rs.counts();
  s.checkpoint_stamp = st.checkpoint_stamp;
  s.checkpoint_recno = st.checkpoint_recno;
  s.initial_load_complete = st.initial_load_complete;
  s.records = st.counts;
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
    // Settled: every part applied, also parts that failed at the target
    // level (the checkpoint stops before those; the next cycle re-reads them).
    if (st.rs->settled_pages() >= it->pages) {
      auto& svc = st.rs->state();
      // Complete only when every row read has an outcome: a batch that failed
      // at the target level left its records untouched.
      if (it->initial_done && st.rs->counts().target_failures == 0) {
        svc.initial_load_complete = true;
        // Extraction reached its end: the replay ranges it read first are done.
        svc.replays.clear();
      }
      svc.last_run_ms = now_ms();
      try {
        st.store->commit(st.service, {}, svc, /*sync=*/true);
      } catch (const std::exception& e) {
        st.error = fmt::format("service {}: state commit failed: {}", st.service, e.what());
        it->rp.deliver(make_error(errc::store_failed, st.error));
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

/// The outcomes of batch `r` are durable: write them back into the source
/// and record how that went in the records' logs. Never fails the cycle.
void write_back(self_ptr self, const batch_result& r, const state_changes& delivered) {
  auto& st = self->state;
  std::vector<writeback_outcome> outs;
  try {
    outs = st.writeback->run(r);
  } catch (const std::exception& e) {
    for (const auto& [key, entry] : delivered.ledger)
      outs.push_back({key, false, fmt::format("write-back failed: {}", e.what())});
  }
  if (outs.empty())
    return;
  try {
    st.store->apply(st.service, writeback_items(outs, delivered.ledger, now_ms(), st.max_items),
                    st.rs->state(), /*sync=*/false);
  } catch (const std::exception&) {
    // The delivery itself is durable; only the write-back's log items are lost.
  }
}

/// The store failed (e.g. the disk is full): pages it did not take never
/// settle, so every waiting flush gets the error now instead of waiting
/// forever (the cycle ends with store_failed).
void fail_flushes(self_ptr self) {
  auto& st = self->state;
  for (auto& f : st.flushes)
    f.rp.deliver(make_error(errc::store_failed, st.error));
  st.flushes.clear();
}

} // namespace

reconciler_actor::behavior_type
reconciler_fn(reconciler_actor::stateful_pointer<reconciler_state> self, reconciler_config cfg) {
  auto& st = self->state;
  st.service = cfg.service;
  st.store = cfg.store;
  st.rs = std::make_unique<reconcile_state>(cfg.start, cfg.policy);
  st.probe = cfg.probe;
  st.writeback = cfg.writeback;
  st.max_items = cfg.policy.max_items;
  st.rs->begin_cycle();
  return {
    [=](result_ptr r) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      auto t0 = std::chrono::steady_clock::now();
      const auto before = st.rs->counts();
      const auto cp_before = st.rs->state().checkpoint_stamp;
      const auto changes = st.rs->apply_all(*r, now_ms());
      try {
        st.store->apply(st.service, changes, st.rs->state(), /*sync=*/false);
      } catch (const std::exception& e) {
        st.error = fmt::format("service {}: ledger commit failed: {}", st.service, e.what());
        fail_flushes(self);
        return make_error(errc::store_failed, st.error);
      }
      ++st.commits;
      if (st.writeback)
        write_back(self, *r, changes);
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
      return static_cast<std::uint64_t>(changes.ledger.size());
    },
    [=](submit_atom, batch_ptr b, std::string id) -> caf::result<bool> {
      auto& st = self->state;
      try {
        st.store->apply(st.service, st.rs->submitted(*b, id, now_ms()), st.rs->state(), /*sync=*/false);
      } catch (const std::exception& e) {
        st.error = fmt::format("service {}: storing async batch {} failed: {}", st.service, id, e.what());
        fail_flushes(self);
        return make_error(errc::store_failed, st.error);
      }
      return true;
    },
    [=](flush_atom, std::uint64_t pages, bool initial_done) -> caf::result<cycle_summary> {
      // The store failed: the pages it did not take never settle.
      if (!self->state.error.empty())
        return make_error(errc::store_failed, self->state.error);
      auto rp = self->make_response_promise<cycle_summary>();
      // A repeated flush for the same pages replaces the earlier one (its
      // requester gave up on it).
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
      reconciler_status r;
      r.summary = summarize(*st.rs);
      r.commits = st.commits;
      r.commit_seconds = st.commit_seconds;
      r.complete_pages = st.rs->complete_pages();
      r.settled_pages = st.rs->settled_pages();
      r.error = st.error;
      actor_status s;
      s.service = st.service;
      s.stage = std::move(r);
      return s;
    },
  };
}

} // namespace stampede
