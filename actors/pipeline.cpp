#include "actors/pipeline.hpp"

#include "actors/extractor.hpp"
#include "actors/reconciler.hpp"
#include "actors/sender.hpp"
#include "actors/transformer.hpp"
#include "metrics/probes.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <stdexcept>

namespace stampede {

std::string_view actor_status::stage_name() const {
  switch (stage.index()) {
    case 1: return "extractor";
    case 2: return "transformer";
    case 3: return "sender";
    case 4: return "reconciler";
    default: return "";
  }
}

void pipeline_handles::exit_all(caf::exit_reason reason) const {
  caf::anon_send_exit(ex, reason);
  for (const auto& t : tfs)
    caf::anon_send_exit(t, reason);
  caf::anon_send_exit(snd, reason);
  caf::anon_send_exit(rec, reason);
}

pipeline_handles spawn_pipeline(caf::actor_system& sys, const pipeline_params& p) {
  if (!p.cfg || !p.service || !p.store || !p.tf || !p.start_batch)
    throw std::invalid_argument("spawn_pipeline: config, service, store, transformer and "
                                "batch starter are required");
  const auto& cfg = *p.cfg;
  const auto& svc = *p.service;
  const auto& tgt = cfg.target_of(svc);
  const auto window = std::max<std::uint32_t>(1, cfg.engine.queue_batches);
  pipeline_handles h;

  reconciler_config rc;
  rc.store = p.store;
  rc.service = svc.id;
  rc.start = p.start;
  rc.policy = policy_for(tgt, cfg.journal);
  rc.writeback = p.writeback;
  if (p.metrics)
    rc.probe = std::make_shared<reconcile_probe>(*p.metrics, svc.id);
  h.rec = p.detached ? sys.spawn<caf::detached>(reconciler_fn, std::move(rc))
                     : sys.spawn(reconciler_fn, std::move(rc));

  sender_config sc;
  sc.start = p.start_batch;
  sc.reconciler = h.rec;
  sc.in_flight = std::max<std::uint32_t>(1, tgt.in_flight);
  if (p.metrics)
    sc.probe = std::make_shared<sender_probe>(*p.metrics, svc.id);
  h.snd = sys.spawn(sender_fn, std::move(sc));

  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, cfg.engine.transformers); ++i) {
    transformer_actor_config tc;
    tc.tf = p.tf;
    tc.sender = h.snd;
    tc.window = window;
    if (p.metrics)
      tc.probe = std::make_shared<transform_probe>(*p.metrics, svc.id);
    h.tfs.push_back(sys.spawn(transformer_fn, std::move(tc)));
  }

  extractor_config ec;
  ec.cfg = p.cfg;
  ec.service = p.service;
  ec.columns = p.tf->columns();
  ec.transformers = h.tfs;
  ec.store = p.store;
  ec.start = p.start;
  ec.initial_load = p.initial_load;
  ec.ledger_empty = p.ledger_empty;
  ec.window = window;
  if (p.metrics)
    ec.probe = std::make_shared<extractor_probe>(*p.metrics, svc.id);
  h.ex = p.detached ? sys.spawn<caf::detached>(extractor, std::move(ec))
                    : sys.spawn(extractor, std::move(ec));
  return h;
}

namespace {

// Arguments go through spawn, not captures: CAF 0.17 dereferences a null
// shared_ptr<tuple<>> for argument-less function actors (UBSan reports it).
void driver_fn(caf::event_based_actor* self, extractor_actor ex, reconciler_actor rec,
               bool initial_load, std::shared_ptr<const driver_observer> obs) {
  self->request(ex, caf::infinite, run_atom::value)
    .then(
      [=](extractor_status& es) {
        if (obs->extracted)
          obs->extracted(es);
        // A stopped extraction did not reach the end: the load is not
        // complete (an incremental cycle's service was loaded already).
        (void)initial_load;
        self->request(rec, caf::infinite, flush_atom::value, es.pages, !es.stopped)
          .then(
            [=](cycle_summary& s) {
              if (obs->flushed)
                obs->flushed(s);
              self->quit();
            },
            [=](caf::error& e) {
              if (obs->failed)
                obs->failed(e, true);
              self->quit();
            });
      },
      [=](caf::error& e) {
        if (obs->failed)
          obs->failed(e, false);
        self->quit();
      });
}

} // namespace

caf::actor spawn_driver(caf::actor_system& sys, const pipeline_handles& p, bool initial_load,
                        std::shared_ptr<const driver_observer> obs) {
  if (!obs)
    obs = std::make_shared<const driver_observer>();
  return sys.spawn(driver_fn, p.ex, p.rec, initial_load, std::move(obs));
}

} // namespace stampede
