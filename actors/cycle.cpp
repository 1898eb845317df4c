#include "actors/cycle.hpp"

#include "actors/pipeline.hpp"
#include "pipeline/transform.hpp"
#include "source/writer.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace stampede {

namespace {

using clock = std::chrono::steady_clock;

/// What the driver reported, shared with its callbacks.
struct driver_sync {
  std::mutex mx;
  std::condition_variable cv;
  bool extracted = false;
  bool finished = false;              // flushed or failed
  extractor_status ex;
  cycle_summary summary;
  bool flushed = false;
  caf::error err;
};

std::shared_ptr<const driver_observer> observe(const std::shared_ptr<driver_sync>& sy) {
  auto obs = std::make_shared<driver_observer>();
  obs->extracted = [sy](const extractor_status& s) {
    std::lock_guard<std::mutex> lk(sy->mx);
    sy->extracted = true;
    sy->ex = s;
  };
  obs->flushed = [sy](const cycle_summary& s) {
    {
      std::lock_guard<std::mutex> lk(sy->mx);
      sy->summary = s;
      sy->flushed = true;
      sy->finished = true;
    }
    sy->cv.notify_all();
  };
  obs->failed = [sy](const caf::error& e, bool) {
    {
      std::lock_guard<std::mutex> lk(sy->mx);
      sy->err = e;
      sy->finished = true;
    }
    sy->cv.notify_all();
  };
  return obs;
}

/// One stage's status, or nullopt when it does not answer within `limit`.
template <class T, class Handle>
std::optional<T> status_of(caf::scoped_actor& self, const Handle& h,
                           std::chrono::milliseconds limit) {
  std::optional<T> out;
  self->request(h, std::max(limit, std::chrono::milliseconds(1)), status_atom::value)
    .receive(
      [&](actor_status& s) {
        if (const T* t = s.as<T>())
          out = *t;
      },
      [](caf::error&) {});
  return out;
}

cycle_result fail(cycle_result res, errc code, std::string what) {
  res.ok = false;
  res.code = code;
  res.error = std::move(what);
  return res;
}

} // namespace

cycle_result run_cycle(caf::actor_system& sys, const config& cfg, const service_config& svc,
                       state_store& store, batch_starter start_batch, const cycle_options& opts) {
  const auto t0 = clock::now();
  cycle_result res;
  res.service = svc.id;
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  service_state start;
  try {
    start = store.load_state(svc.id);
  } catch (const std::exception& e) {
    return fail(res, errc::store_failed,
                fmt::format("service {}: loading its state: {}", svc.id, e.what()));
  }
  res.initial_load = !start.initial_load_complete;
  res.checkpoint_stamp = start.checkpoint_stamp;
  res.checkpoint_recno = start.checkpoint_recno;
  res.records = start.counts;
  res.initial_load_complete = start.initial_load_complete;
  if (opts.initial_load_only && !res.initial_load) {
    res.ok = true;
    res.skipped = true;
    return res;
  }
  pipeline_params pp;
  pp.cfg = &cfg;
  pp.service = &svc;
  pp.store = &store;
  pp.start = start;
  pp.initial_load = res.initial_load;
  pp.start_batch = std::move(start_batch);
  pp.metrics = opts.metrics;
  pp.detached = opts.detached;
  try {
    pp.tf = std::make_shared<const transformer>(svc, cfg.target_of(svc), cfg.source);
    // A first initial load has nothing in the ledger: every lookup would miss.
    if (res.initial_load && start.checkpoint_stamp.empty()) {
      bool any = false;
      store.scan(svc.id, [&](std::string_view, const ledger_entry&) {
        any = true;
        return false;
      });
      pp.ledger_empty = !any;
    }
  } catch (const store_error& e) {
    return fail(res, errc::store_failed, fmt::format("service {}: {}", svc.id, e.what()));
  } catch (const std::exception& e) {
    return fail(res, errc::transform_failed, e.what());
  }
  // [services.writeback]: the source's writer, read-write, before anything is sent.
  try {
    pp.writeback = open_writeback(cfg, svc);
  } catch (const std::exception& e) {
    return fail(res, errc::source_failed,
                fmt::format("service {}: write-back: {}", svc.id, e.what()));
  }

  const auto p = spawn_pipeline(sys, pp);
  auto sy = std::make_shared<driver_sync>();
  auto drv = spawn_driver(sys, p, res.initial_load, observe(sy));

  caf::scoped_actor self{sys};
  const auto drain_timeout = cfg.engine.drain_timeout;
  auto left_ms = [&] {
    return opts.stop ? opts.stop->drain_left_ms(drain_timeout) : std::int64_t{INT64_MAX / 2};
  };
  // Status requests never outlast the drain deadline (nor a second).
  auto ask_limit = [&] {
    return std::chrono::milliseconds(std::clamp<std::int64_t>(left_ms(), 1, 1000));
  };
  bool stop_sent = false;
  bool timed_out = false;
  std::string store_error;
  std::uint64_t records_done = 0;  // from the reconciler's last status
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(sy->mx);
      sy->cv.wait_for(lk, opts.tick, [&] { return sy->finished; });
      if (sy->finished)
        break;
    }
    {
      auto r = status_of<reconciler_status>(self, p.rec, ask_limit());
      if (r) {
        const auto& c = r->summary.counts;
        records_done = c.sent() + c.unchanged + c.skipped_deletes;
      }
      // The state store failed (e.g. the disk is full): nothing more can be
      // made durable, so the cycle ends now with that error instead of
      // waiting for pages that will never settle.
      if (r && !r->error.empty()) {
        store_error = r->error;
        break;
      }
      // A target-level failure: nothing more can be delivered this cycle, so
      // stop reading (the breaker fails the rest fast; the checkpoint holds).
      if (!stop_sent && r && r->summary.counts.target_failures > 0) {
        caf::anon_send(p.ex, stop_atom::value);
        stop_sent = true;
      }
    }
    if (opts.stop && opts.stop->requested()) {
      if (!stop_sent) {
        caf::anon_send(p.ex, stop_atom::value);
        stop_sent = true;
      }
      if (left_ms() <= 0) {
        timed_out = true;
        break;
      }
    }
    if (opts.on_progress) {
      cycle_progress pr;
      pr.service = svc.id;
      pr.initial_load = res.initial_load;
      pr.seconds = elapsed();
      if (auto e = status_of<extractor_status>(self, p.ex, ask_limit())) {
        pr.rows_read = e->rows_read;
        pr.rows_expected = e->rows_expected;
      }
      if (auto s = status_of<sender_status>(self, p.snd, ask_limit())) {
        pr.records_sent = s->records;
        pr.in_flight = s->in_flight;
      }
      pr.records_done = records_done;
      opts.on_progress(pr);
    }
  }

  bool extracted = false, flushed = false;
  extractor_status ex;
  cycle_summary sum;
  caf::error err;
  {
    std::lock_guard<std::mutex> lk(sy->mx);
    extracted = sy->extracted;
    flushed = sy->flushed;
    ex = sy->ex;
    sum = sy->summary;
    err = sy->err;
  }
  if (!extracted) {  // stopped or failed before the last page was accepted
    if (auto e = status_of<extractor_status>(self, p.ex, std::chrono::milliseconds(200)))
      ex = *e;
  }
  res.rows_read = ex.rows_read;
  res.bounds_note = ex.bounds_note;
  // A stop that arrived after the last page does not make the cycle partial.
  res.stopped = ex.stopped;
  if (!store_error.empty()) {
    res.code = errc::store_failed;
    res.error = store_error;
  } else if (flushed) {
    res.ok = true;
    res.counts = sum.counts;
    res.checkpoint_stamp = sum.checkpoint_stamp;
    res.checkpoint_recno = sum.checkpoint_recno;
    res.initial_load_complete = sum.initial_load_complete || start.initial_load_complete;
    res.records = sum.records;
    if (sum.counts.target_failures > 0) {
      res.ok = false;
      res.code = errc::target_failed;
      res.error = fmt::format(
        "service {}: {} batch(es) failed at the target: {} (their records are untouched; the "
        "next cycle tries again)",
        svc.id, sum.counts.target_failures,
        sum.counts.target_error.empty() ? "no cause reported" : sum.counts.target_error);
    }
  } else if (timed_out) {
    auto& l = res.left;
    if (auto s = status_of<sender_status>(self, p.snd, std::chrono::milliseconds(200))) {
      l.batches_in_flight = s->in_flight;
      l.records_in_flight = s->in_flight_records;
      l.batches_waiting = s->waiting;
    }
    if (auto r = status_of<reconciler_status>(self, p.rec, std::chrono::milliseconds(200)))
      l.pages_unfinished = ex.pages > r->settled_pages ? ex.pages - r->settled_pages : 0;
    res.code = errc::drain_timeout;
    res.error = fmt::format(
      "service {}: drain timed out after engine.drain_timeout = {:.1f}s: {} batch(es) "
      "({} records) still at the target, {} batch(es) not yet sent, {} page(s) not yet durable; "
      "the next run re-reads and resends them (idempotency keys make that harmless)",
      svc.id, drain_timeout.count() / 1000.0, l.batches_in_flight, l.records_in_flight,
      l.batches_waiting, l.pages_unfinished);
  } else {
    res.code = errc_of(err).value_or(errc::internal);
    res.error = render(err);
    if (!errc_of(err)) {
      // CAF's own error (a stage died): the reconciler knows the real cause.
      if (auto r = status_of<reconciler_status>(self, p.rec, std::chrono::milliseconds(200));
          r && !r->error.empty()) {
        res.code = errc::store_failed;
        res.error = r->error;
      }
    }
  }

  caf::anon_send_exit(drv, caf::exit_reason::user_shutdown);
  p.exit_all(caf::exit_reason::user_shutdown);
  self->wait_for(p.ex, p.snd, p.rec);
  if (opts.on_progress) {
    cycle_progress pr;
    pr.service = svc.id;
    pr.initial_load = res.initial_load;
    pr.done = true;
    pr.seconds = elapsed();
    pr.records_sent = res.counts.sent();
    pr.records_done = res.counts.sent() + res.counts.unchanged + res.counts.skipped_deletes;
    pr.rows_read = res.rows_read;
    opts.on_progress(pr);
  }
  res.seconds = elapsed();
  return res;
}

} // namespace stampede
