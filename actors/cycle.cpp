#include "actors/cycle.hpp"

#include "actors/extractor.hpp"
#include "actors/reconciler.hpp"
#include "actors/sender.hpp"
#include "actors/transformer.hpp"
#include "pipeline/send_driver.hpp"
#include "pipeline/transform.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace stampede {

namespace {

std::uint64_t get_u64(const caf::settings& s, const char* key) {
  return caf::get_or(s, key, std::uint64_t{0});
}

} // namespace

cycle_result run_cycle(caf::actor_system& sys, const config& cfg, const service_config& svc,
                       state_store& store, http_client& client, const cycle_options& opts) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  cycle_result res;
  res.service = svc.id;
  service_state start;
  try {
    start = store.load_state(svc.id);
  } catch (const std::exception& e) {
    res.error = e.what();
    return res;
  }
  res.initial_load = !start.initial_load_complete;
  if (opts.initial_load_only && !res.initial_load) {
    res.ok = true;
    res.initial_load_complete = true;
    res.checkpoint_stamp = start.checkpoint_stamp;
    res.checkpoint_recno = start.checkpoint_recno;
    return res;
  }
  const auto& tgt = cfg.target_of(svc);
  std::shared_ptr<const transformer> tf;
  try {
    tf = std::make_shared<const transformer>(svc, tgt, cfg.source);
  } catch (const std::exception& e) {
    res.error = e.what();
    return res;
  }
  auto driver = std::make_shared<send_driver>(tgt, client, svc.id);
  const auto window = std::max<std::uint32_t>(1, cfg.engine.queue_batches);

  reconciler_config rcfg;
  rcfg.store = &store;
  rcfg.service = svc.id;
  rcfg.start = start;
  rcfg.max_attempts = tgt.max_attempts;
  if (opts.metrics)
    rcfg.probe = std::make_shared<reconcile_probe>(*opts.metrics, svc.id);
  auto rec = sys.spawn<caf::detached>(reconciler_fn, std::move(rcfg));
  sender_config scfg;
  scfg.start = [driver](batch_ptr b, std::function<void(batch_result)> done) {
    driver->send(std::move(b), std::move(done));
  };
  scfg.reconciler = rec;
  scfg.in_flight = std::max<std::uint32_t>(1, tgt.in_flight);
  if (opts.metrics)
    scfg.probe = std::make_shared<sender_probe>(*opts.metrics, svc.id);
  auto snd = sys.spawn(sender_fn, std::move(scfg));
  std::vector<transformer_actor> tfs;
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, cfg.engine.transformers); ++i)
    tfs.push_back(sys.spawn(
      transformer_fn,
      transformer_actor_config{tf, snd, window,
                               opts.metrics ? std::make_shared<transform_probe>(*opts.metrics, svc.id)
                                            : nullptr}));
  extractor_config ecfg;
  ecfg.cfg = &cfg;
  ecfg.service = &svc;
  ecfg.columns = tf->columns();
  ecfg.transformers = tfs;
  ecfg.store = &store;
  ecfg.start = start;
  ecfg.initial_load = res.initial_load;
  // A first initial load has nothing in the ledger: every lookup would miss.
  if (res.initial_load && start.checkpoint_stamp.empty()) {
    bool any = false;
    store.scan(svc.id, [&](std::string_view, const ledger_entry&) {
      any = true;
      return false;
    });
    ecfg.ledger_empty = !any;
  }
  ecfg.window = window;
  if (opts.metrics)
    ecfg.probe = std::make_shared<extractor_probe>(*opts.metrics, svc.id);
  auto ex = opts.extractor_detached ? sys.spawn<caf::detached>(extractor, ecfg)
                                    : sys.spawn(extractor, ecfg);

  // Monitor: progress samples and stop forwarding.
  std::mutex mx;
  std::condition_variable cv;
  bool finished = false;
  std::atomic<bool> stop_sent{false};
  std::thread monitor([&] {
    caf::scoped_actor self{sys};
    auto sample = [&](bool done) {
      cycle_progress p;
      p.service = svc.id;
      p.initial_load = res.initial_load;
      p.done = done;
      p.seconds = std::chrono::duration<double>(clock::now() - t0).count();
      self->request(ex, std::chrono::seconds(1), status_atom::value)
        .receive([&](caf::settings& s) {
                   p.rows_read = get_u64(s, "rows_read");
                   p.rows_expected = get_u64(s, "rows_expected");
                 },
                 [](caf::error&) {});
      self->request(snd, std::chrono::seconds(1), status_atom::value)
        .receive([&](caf::settings& s) {
                   p.records_sent = get_u64(s, "records");
                   p.in_flight = get_u64(s, "in_flight");
                 },
                 [](caf::error&) {});
      if (opts.on_progress)
        opts.on_progress(p);
    };
    std::unique_lock<std::mutex> lk(mx);
    while (!finished) {
      cv.wait_for(lk, std::chrono::milliseconds(250));
      if (finished)
        break;
      if (opts.stop && opts.stop->load() && !stop_sent.exchange(true))
        caf::anon_send(ex, stop_atom::value);
      lk.unlock();
      if (opts.on_progress)
        sample(false);
      lk.lock();
    }
  });

  caf::scoped_actor self{sys};
  std::uint64_t pages = 0;
  bool extracted = false;
  self->request(ex, caf::infinite, run_atom::value)
    .receive([&](std::uint64_t n) { pages = n; extracted = true; },
             [&](caf::error& err) { res.error = sys.render(err); });
  // Extraction is over: its counts are final. A stop that arrived after the
  // last page does not make the cycle partial.
  bool stopped_early = false;
  self->request(ex, std::chrono::seconds(5), status_atom::value)
    .receive(
      [&](caf::settings& s) {
        stopped_early = extracted && caf::get_or(s, "stopped", false);
        res.rows_read = get_u64(s, "rows_read");
      },
      [](caf::error&) {});
  res.stopped = stopped_early;
  if (extracted) {
    // Drain: everything read must become durable. Bounded after a stop.
    auto deadline = clock::now() + cfg.engine.drain_timeout;
    bool waiting = true;
    while (waiting) {
      self->request(rec, std::chrono::seconds(1), flush_atom::value, pages,
                    res.initial_load && !stopped_early)
        .receive(
          [&](caf::settings& s) {
            waiting = false;
            res.ok = true;
            res.counts.created = get_u64(s, "created");
            res.counts.updated = get_u64(s, "updated");
            res.counts.deleted = get_u64(s, "deleted");
            res.counts.failed = get_u64(s, "failed");
            res.counts.cancelled = get_u64(s, "cancelled");
            res.counts.unchanged = get_u64(s, "unchanged");
            res.counts.skipped_deletes = get_u64(s, "skipped_deletes");
            res.counts.pages = get_u64(s, "pages");
            res.counts.batches = get_u64(s, "batches");
            res.checkpoint_stamp = caf::get_or(s, "checkpoint_stamp", std::string{});
            res.checkpoint_recno =
              static_cast<std::int64_t>(caf::get_or(s, "checkpoint_recno", std::int64_t{0}));
            res.initial_load_complete = caf::get_or(s, "initial_load_complete", false);
          },
          [&](caf::error& err) {
            if (err != caf::sec::request_timeout) {
              res.error = sys.render(err);
              waiting = false;
            } else if (opts.stop && opts.stop->load() && clock::now() > deadline) {
              res.error = "drain timed out: records still in flight will be re-read and "
                          "resent by the next run (idempotency keys make that harmless)";
              waiting = false;
            }
          });
    }
  }
  {
    std::lock_guard<std::mutex> lk(mx);
    finished = true;
  }
  cv.notify_all();
  monitor.join();
  if (opts.on_progress) {
    cycle_progress p;
    p.service = svc.id;
    p.initial_load = res.initial_load;
    p.done = true;
    p.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    p.records_sent = res.counts.sent();
    p.rows_read = res.rows_read;
    opts.on_progress(p);
  }
  for (auto& t : tfs)
    self->send_exit(t, caf::exit_reason::user_shutdown);
  self->send_exit(ex, caf::exit_reason::user_shutdown);
  self->send_exit(snd, caf::exit_reason::user_shutdown);
  self->send_exit(rec, caf::exit_reason::user_shutdown);
  self->wait_for(ex, snd, rec);
  if (res.ok && !res.initial_load_complete)
    res.initial_load_complete = start.initial_load_complete;
  res.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return res;
}

} // namespace stampede
