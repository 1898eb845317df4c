#include "engine/engine.hpp"

#include "engine/scheduler.hpp"
#include "source/source.hpp"
#include "engine/totals.hpp"
#include "metrics/probes.hpp"
#include "metrics/registry.hpp"
#include "target/http_client.hpp"
#include "pipeline/schedule.hpp"
#include "target/send_driver.hpp"
#include "pipeline/service_graph.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace stampede {

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr std::chrono::milliseconds client_drain_limit{5000};
constexpr std::chrono::milliseconds idle_poll{200};

// Request metrics of a target hang off its runtime's exchange observers.
void add_http_probe(target_runtime& rt, metrics_registry& m, const std::string& target) {
  rt.add_observer(std::make_shared<http_probe>(m, target));
}

// Persists a target's breaker state on every transition and target-level
// failure, so `stampede status` (another process, reading the state dir) can
// show it. Runs on the thread that finished the batch; one small unsynced Put.
class target_health_recorder final : public exchange_observer {
public:
  target_health_recorder(state_store& store, const target_runtime& rt) : store_(store), rt_(rt) {}
  void on_exchange(const exchange_event&) override {}
  void on_target_failure(const target_failure_event&) override { save(); }
  void on_breaker(const breaker_event&) override { save(); }

  /// A new worker starts with a closed breaker: say so, keeping the last failure.
  static void reset(state_store& store, const std::string& target) {
    for (auto t : store.targets())
      if (t.target == target && t.breaker != static_cast<std::uint8_t>(breaker_state::closed)) {
        t.breaker = static_cast<std::uint8_t>(breaker_state::closed);
        t.consecutive_failures = 0;
        t.retry_at_ms = 0;
        t.changed_ms = now_ms();
        store.put_target(t);
      }
  }

private:
  void save() {
    const auto s = rt_.status();
    target_health h;
    h.target = s.target;
    h.breaker = static_cast<std::uint8_t>(s.breaker);
    h.consecutive_failures = s.consecutive_failures;
    h.last_failure = s.last_failure;
    h.changed_ms = now_ms();
    if (s.breaker == breaker_state::open)
      h.retry_at_ms = h.changed_ms +
                      std::chrono::duration_cast<std::chrono::milliseconds>(s.breaker_retry_in).count();
    try {
      store_.put_target(h);
    } catch (const std::exception& e) {
      spdlog::warn("target {}: could not record its health in the state store: {}", h.target, e.what());
    }
  }

  state_store& store_;
  const target_runtime& rt_;
};

} // namespace

struct engine::impl {
  config cfg;
  engine_options opts;
  stop_token own_stop;
  stop_token* stop = nullptr;
  std::unique_ptr<metrics_registry> metrics;
  std::unique_ptr<state_store> store;
  std::unique_ptr<http_client> client;
  std::map<std::string, std::unique_ptr<target_runtime>> runtimes;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<engine_observer> observers;

  // What status() reports about the run loop (any thread).
  mutable std::mutex mx;
  std::uint32_t running = 0;                   // service id, 0 = none
  std::map<std::uint32_t, std::int64_t> next_due;
  std::vector<std::uint32_t> run_now;          // run_now() ids not yet woken
  std::map<std::uint32_t, std::unique_ptr<service_probe>> service_probes;  // metrics on
  std::map<std::uint32_t, source_backlog> backlogs;  // under mx: status()
  // The backlog's source connection: only the running thread uses it.
  std::unique_ptr<source> backlog_src;
  std::string backlog_error;                   // the last one logged (once per cause)
  std::atomic<std::int64_t> heartbeat{0};      // heartbeat_ms()
  std::atomic<int> loops{0};                   // run_* calls running now
  void beat() { heartbeat.store(now_ms(), std::memory_order_relaxed); }
  struct loop_scope {  // looping() while a run_* call is inside it
    impl& p;
    explicit loop_scope(impl& i) : p(i) { ++p.loops; p.beat(); }
    ~loop_scope() { --p.loops; p.beat(); }
  };

  void notify_progress(const cycle_progress& p) const {
    for (const auto& o : observers)
      if (o.progress)
        o.progress(p);
  }
  void notify_done(const cycle_result& r) const {
    for (const auto& o : observers)
      if (o.cycle_done)
        o.cycle_done(r);
  }

  /// The result of `svc` not run because `dep` (which it runs after) failed
  /// with `dep_error` or, `dep_waiting`, was held back itself; recorded in
  /// the service state (status) and passed to the observers (log line).
  cycle_result held_back(const service_config& svc, const service_config& dep,
                         const std::string& dep_error, bool dep_waiting);

  /// Runs each of `svcs` once through `run` (nullopt: nothing to run, e.g.
  /// an initial load already complete), in dependency order, ties by id; a
  /// service after one that failed or was held back is held back too.
  std::vector<cycle_result>
  run_in_order(const std::vector<const service_config*>& svcs,
               const std::function<std::optional<cycle_result>(const service_config&)>& run);

  /// Creates the metric series of each of `svcs` this process runs, at 0 or
  /// from the stored state (once per service), so they exist from the first
  /// scrape after run_* starts. Only the services it runs: a worker must not
  /// export (zero) series for services another worker owns.
  void register_services(const std::vector<const service_config*>& svcs) {
    if (!metrics)
      return;
    for (const auto* svc : svcs) {
      if (service_probes.count(svc->id))
        continue;
      preregister(*metrics, svc->id);
      auto probe = std::make_unique<service_probe>(*metrics, svc->id);
      try {
        const auto st = store->load_state(svc->id);
        probe->records(st.counts);
        probe->initial_load_complete(st.initial_load_complete);
        if (st.last_run_ms)
          probe->cycle_done(st.consecutive_failures == 0, st.last_run_ms / 1000.0, 0);
      } catch (const std::exception&) {
        // The first cycle reports a store that cannot be read; these gauges
        // stay at 0 until then.
      }
      service_probes.emplace(svc->id, std::move(probe));
    }
  }

  /// Measures `svc`'s source backlog unless it was measured (or tried) less
  /// than backlog_interval ago; on the running thread only (it blocks on the
  /// source). A failure is logged once per cause and keeps the last figures
  /// (gauges unchanged; status shows the error).
  void measure_backlog_of(const service_config& svc) {
    const auto t = now_ms();
    source_backlog prev;
    {
      std::lock_guard<std::mutex> lk(mx);
      if (auto it = backlogs.find(svc.id); it != backlogs.end()) {
        if (t - it->second.measured_ms < std::chrono::milliseconds(backlog_interval).count())
          return;
        prev = it->second;
      }
    }
    source_backlog b;
    try {
      const auto st = store->load_state(svc.id);
      if (!backlog_src)
        backlog_src = source::open(cfg.source);
      b = measure_backlog(*backlog_src, cfg, svc, st, t);
    } catch (const std::exception& e) {
      b.measured_ms = t;
      b.error = fmt::format("service {}: source backlog: {}", svc.id, e.what());
    }
    if (!b.error.empty()) {
      backlog_src.reset();  // reopened by the next try
      if (b.error != backlog_error)
        spdlog::warn("{}", b.error);
      backlog_error = b.error;
      b.rows = prev.rows;
      b.capped = prev.capped;
      b.oldest_age_seconds = prev.oldest_age_seconds;
    } else {
      backlog_error.clear();
      if (auto it = service_probes.find(svc.id); it != service_probes.end())
        it->second->source_backlog(b.rows, b.oldest_age_seconds);
    }
    std::lock_guard<std::mutex> lk(mx);
    backlogs[svc.id] = std::move(b);
  }

  /// Continuous mode, idle: the one service of `svcs` whose backlog is the
  /// most out of date, when that is backlog_interval or more.
  void refresh_backlog(const std::vector<const service_config*>& svcs) {
    const service_config* oldest = nullptr;
    std::int64_t at = std::numeric_limits<std::int64_t>::max();
    {
      std::lock_guard<std::mutex> lk(mx);
      for (const auto* s : svcs) {
        const auto it = backlogs.find(s->id);
        const std::int64_t m = it == backlogs.end() ? 0 : it->second.measured_ms;
        if (m < at) {
          at = m;
          oldest = s;
        }
      }
    }
    if (oldest && now_ms() - at >= std::chrono::milliseconds(backlog_interval).count())
      measure_backlog_of(*oldest);
  }

  /// Persists the failures in a row and the last error (the scheduler's
  /// backoff survives a restart; `status` shows the cause). The cycle's
  /// reconciler is gone, so this is the only writer of the state now.
  void record_outcome(const service_config& svc, const cycle_result& r) {
    if (r.skipped)
      return;
    try {
      auto st = store->load_state(svc.id);
      const bool failed = failed_cycle(r);
      if (!failed && r.code != errc::waiting && st.consecutive_failures == 0 &&
          st.last_error.empty())
        return;
      if (failed) {
        ++st.consecutive_failures;
        st.last_error = r.error;
        st.last_error_ms = now_ms();
      } else if (r.code == errc::waiting) {
        // Not run: why, for `status`; the failures in a row stay (no backoff).
        st.last_error = r.error;
        st.last_error_ms = now_ms();
      } else if (r.ok) {
        st.consecutive_failures = 0;
        st.last_error.clear();
        st.last_error_ms = 0;
      } else {
        return;  // stopped / drain timeout: says nothing about the service
      }
      store->commit(svc.id, {}, st, /*sync=*/false);
    } catch (const std::exception&) {
      // The cycle's own result already says what failed; the state write is
      // best effort (the next cycle's commit carries the counts anyway).
    }
  }
};

engine::engine(const config& cfg, engine_options opts) : p_(std::make_unique<impl>()) {
  p_->cfg = cfg;
  p_->opts = std::move(opts);
  p_->stop = p_->opts.stop ? p_->opts.stop : &p_->own_stop;
  try {
    p_->store = state_store::open(cfg.state.dir);
  } catch (const std::exception& e) {
    throw engine_error(errc::store_failed, fmt::format("state store {}: {}", cfg.state.dir, e.what()));
  }
  if (!cfg.metrics.listen.empty()) {
    p_->metrics = std::make_unique<metrics_registry>();
    if (p_->opts.serve_metrics) {
      try {
        p_->metrics->serve(cfg.metrics.listen);
      } catch (const std::exception& e) {
        throw engine_error(errc::bad_config,
                           fmt::format("metrics.listen {}: {} (change [metrics] listen, or set it "
                                       "to \"\" to turn the exporter off)",
                                       cfg.metrics.listen, e.what()));
      }
    }
  }
  try {
    p_->client = std::make_unique<http_client>();
  } catch (const std::exception& e) {
    throw engine_error(errc::internal, fmt::format("HTTP client: {}", e.what()));
  }
  for (const auto& [name, tgt] : p_->cfg.targets) {
    auto rt = std::make_unique<target_runtime>(tgt, *p_->client);
    if (p_->metrics)
      add_http_probe(*rt, *p_->metrics, name);
    try {
      target_health_recorder::reset(*p_->store, name);
    } catch (const std::exception& e) {
      throw engine_error(errc::store_failed, fmt::format("state store {}: {}", cfg.state.dir, e.what()));
    }
    rt->add_observer(std::make_shared<target_health_recorder>(*p_->store, *rt));
    // An unchanged setup that succeeded before is not sent again.
    rt->setup().load = [store = p_->store.get(), target = name] { return store->setup_hash(target); };
    rt->setup().save = [store = p_->store.get(), target = name](const std::string& h) {
      store->put_setup_hash(target, h);
    };
    p_->runtimes.emplace(name, std::move(rt));
  }
  register_errors(p_->sys_cfg);
  p_->sys_cfg.set("logger.console", caf::atom("none"));
  // Only transformers and the sender run on the scheduler (the extractor,
  // reconciler and HTTP have their own threads): as many workers as
  // transformers, and idle workers that sleep instead of spinning.
  const auto hw = std::max(1u, std::thread::hardware_concurrency());
  p_->sys_cfg.set("scheduler.max-threads",
                  static_cast<std::size_t>(std::clamp(cfg.engine.transformers, 1u, hw)));
  p_->sys_cfg.set("work-stealing.moderate-sleep-duration",
                  caf::timespan{std::chrono::microseconds(500)});
  p_->sys = std::make_unique<caf::actor_system>(p_->sys_cfg);
}

engine::~engine() {
  if (!p_)
    return;
  if (p_->client) {
    // Timers and requests still pending (a poll, a retry): bounded by the
    // drain deadline after a stop, else a few seconds.
    auto limit = client_drain_limit;
    if (p_->stop->requested())
      limit = std::chrono::milliseconds(std::clamp<std::int64_t>(
        p_->stop->drain_left_ms(p_->cfg.engine.drain_timeout), 0, limit.count()));
    if (limit.count() > 0)
      p_->client->drain(limit);
    p_->client->stop();
  }
  // Members go in reverse order: the actor system (waits for every actor),
  // then the runtimes, the client, the store, the metrics.
}

const config& engine::cfg() const { return p_->cfg; }
state_store& engine::store() { return *p_->store; }
metrics_registry* engine::metrics() { return p_->metrics.get(); }

std::string engine::metrics_url() const {
  if (!p_->metrics || !p_->metrics->serving())
    return {};
  const auto& l = p_->cfg.metrics.listen;
  return fmt::format("http://{}:{}/metrics", l.substr(0, l.rfind(':')), p_->metrics->port());
}

void engine::subscribe(engine_observer o) { p_->observers.push_back(std::move(o)); }

void engine::stop() { p_->stop->request(); }
bool engine::stopping() const { return p_->stop->requested(); }

target_runtime* engine::runtime(const std::string& target) {
  auto it = p_->runtimes.find(target);
  return it == p_->runtimes.end() ? nullptr : it->second.get();
}

cycle_result engine::run_cycle(const service_config& svc, bool initial_only) {
  if (p_->opts.before_cycle) {
    try {
      p_->opts.before_cycle(*p_->store);
    } catch (const std::exception& e) {
      cycle_result r;
      r.service = svc.id;
      r.code = errc::store_failed;
      r.error = fmt::format("service {}: applying pending requests: {}", svc.id, e.what());
      p_->notify_done(r);
      return r;
    }
  }
  auto* rt = runtime(svc.target);
  if (!rt) {
    cycle_result r;
    r.service = svc.id;
    r.code = errc::bad_config;
    r.error = fmt::format("service {}: no target named '{}'", svc.id, svc.target);
    p_->notify_done(r);
    return r;
  }
  auto driver = std::make_shared<send_driver>(*rt, svc.id, svc.name, svc.envelope);
  batch_starter start = [driver](batch_ptr b, std::function<void(batch_result)> done,
                                 submitted_fn on_submitted) {
    driver->send(std::move(b), std::move(done), std::move(on_submitted));
  };
  cycle_options co;
  co.initial_load_only = initial_only;
  co.stop = p_->stop;
  co.metrics = p_->metrics.get();
  service_probe* probe = nullptr;
  if (auto it = p_->service_probes.find(svc.id); it != p_->service_probes.end())
    probe = it->second.get();
  co.on_progress = [this, probe](const cycle_progress& pr) {  // also the heartbeat during a cycle
    p_->beat();
    if (probe && pr.initial_load && pr.rows_expected > 0 && !pr.done)
      probe->initial_load_progress(static_cast<double>(pr.records_done) / pr.rows_expected);
    if (!pr.done)
      p_->notify_progress(pr);
  };
  {
    std::lock_guard<std::mutex> lk(p_->mx);
    p_->running = svc.id;
  }
  auto r = stampede::run_cycle(*p_->sys, p_->cfg, svc, *p_->store, std::move(start), co);
  {
    std::lock_guard<std::mutex> lk(p_->mx);
    p_->running = 0;
  }
  p_->record_outcome(svc, r);
  if (auto it = p_->service_probes.find(svc.id); it != p_->service_probes.end() && !r.skipped) {
    it->second->cycle_done(r.ok, now_ms() / 1000.0, r.seconds);
    try {
      const auto st = p_->store->load_state(svc.id);
      it->second->records(st.counts);
      it->second->initial_load_complete(st.initial_load_complete);
    } catch (const std::exception&) {
      // The cycle's result already says what failed with the store.
    }
  }
  if (!r.skipped && !p_->stop->requested())  // a stop is not held up by a count
    p_->measure_backlog_of(svc);
  p_->notify_done(r);
  return r;
}

cycle_result engine::impl::held_back(const service_config& svc, const service_config& dep,
                                     const std::string& dep_error, bool dep_waiting) {
  cycle_result r;
  r.service = svc.id;
  r.code = errc::waiting;
  r.error = fmt::format("waits for service {} '{}', {}: {}", dep.id, dep.name,
                        dep_waiting ? "which did not run either" : "whose last cycle failed",
                        dep_error);
  record_outcome(svc, r);
  notify_done(r);
  return r;
}

std::vector<cycle_result>
engine::impl::run_in_order(const std::vector<const service_config*>& svcs,
                           const std::function<std::optional<cycle_result>(const service_config&)>& run) {
  const service_graph g(svcs);
  std::vector<std::uint32_t> ids;
  for (const auto* s : svcs)
    ids.push_back(s->id);
  std::vector<cycle_result> out;
  std::map<std::uint32_t, std::size_t> failed;  // id -> its result in `out`: failed or held back
  for (auto id : g.order(ids)) {
    if (stop->requested())
      break;
    const auto* s = cfg.find_service(id);
    if (!s)
      continue;
    if (auto dep = g.blocker(id, ids, [&](std::uint32_t d) { return failed.count(d) > 0; })) {
      const auto why = out.at(failed.at(*dep));
      out.push_back(held_back(*s, *cfg.find_service(*dep), why.error, why.code == errc::waiting));
      failed[id] = out.size() - 1;
      continue;
    }
    auto r = run(*s);
    if (!r)
      continue;
    out.push_back(std::move(*r));
    if (failed_cycle(out.back()))
      failed[id] = out.size() - 1;
  }
  return out;
}

std::vector<cycle_result> engine::run_once(const std::vector<const service_config*>& svcs,
                                           bool initial_only) {
  impl::loop_scope looping(*p_);
  p_->register_services(svcs);
  return p_->run_in_order(svcs, [&](const service_config& s) -> std::optional<cycle_result> {
    return run_cycle(s, initial_only);
  });
}

std::vector<cycle_result> engine::run_continuous(const std::vector<const service_config*>& svcs) {
  impl::loop_scope looping(*p_);
  p_->register_services(svcs);
  // One summed entry per service, so memory stays flat however many cycles
  // run. Counts add up; the outcome is the last cycle's: an outage the worker
  // rode out (logged when it happened) does not fail the exit at SIGTERM.
  std::vector<cycle_result> sums;
  auto add = [&](const cycle_result& r) {
    for (auto& x : sums)
      if (x.service == r.service) {
        accumulate(x, r);
        if (r.ok) {
          x.ok = true;
          x.code = errc::none;
          x.error.clear();
          x.left = {};
        }
        return;
      }
    sums.push_back(r);
  };
  // A failed state store (e.g. a full disk) ends the worker: nothing more can
  // be made durable, and retrying on it risks RocksDB's own abort. It exits 1
  // with the cause; a restart with space recovers from the WAL.
  auto store_failed = [&] {
    return std::any_of(sums.begin(), sums.end(),
                       [](const cycle_result& r) { return r.code == errc::store_failed; });
  };
  // Initial loads first, in dependency order (ties by id); a load after one
  // that failed waits.
  for (const auto& r : p_->run_in_order(svcs, [&](const service_config& s) -> std::optional<cycle_result> {
         service_state st;
         try {
           st = p_->store->load_state(s.id);
         } catch (const std::exception&) {
           // run_cycle reports the store failure.
         }
         if (st.initial_load_complete)
           return std::nullopt;
         return run_cycle(s, true);
       }))
    add(r);
  if (stopping() || store_failed())
    return sums;
  service_scheduler sched(svcs, p_->cfg.source.utc_offset_minutes);
  std::vector<std::uint32_t> failures;
  for (const auto* s : svcs) {
    std::uint32_t f = 0;
    try {
      f = p_->store->load_state(s->id).consecutive_failures;
    } catch (const std::exception&) {
    }
    failures.push_back(f);
  }
  sched.start(now_ms(), failures);
  auto publish = [&] {
    std::lock_guard<std::mutex> lk(p_->mx);
    for (std::size_t i = 0; i < sched.size(); ++i)
      p_->next_due[sched.service(i).id] = sched.due_at(i);
  };
  publish();
  std::string between_error;
  // Services with work now (run_now, resends and replays applied between
  // cycles) run at once rather than at their next slot.
  auto wake = [&](const std::vector<std::uint32_t>& ids) {
    const auto t = now_ms();
    for (auto id : ids)
      for (std::size_t i = 0; i < sched.size(); ++i)
        if (sched.service(i).id == id)
          sched.wake(i, t);
    if (!ids.empty())
      publish();
  };
  while (!stopping()) {
    p_->beat();
    {
      std::vector<std::uint32_t> asked;
      {
        std::lock_guard<std::mutex> lk(p_->mx);
        asked.swap(p_->run_now);
      }
      wake(asked);
    }
    if (p_->opts.between_cycles) {
      std::vector<std::uint32_t> woken;
      try {
        woken = p_->opts.between_cycles(*p_->store);
      } catch (const std::exception& e) {
        if (between_error != e.what())  // once per distinct cause, not every 200 ms
          spdlog::warn("applying requests between cycles: {}", e.what());
        between_error = e.what();
      }
      wake(woken);
    }
    const auto now = now_ms();
    for (auto i : sched.newly_held(now)) {
      const auto& dep = sched.service(*sched.held_by(i));
      std::string why;
      bool dep_waiting = false;
      try {
        const auto st = p_->store->load_state(dep.id);
        why = st.last_error;
        dep_waiting = st.consecutive_failures == 0;
      } catch (const std::exception& e) {
        why = e.what();
      }
      add(p_->held_back(sched.service(i), dep, why, dep_waiting));
    }
    if (auto i = sched.due(now)) {
      auto r = run_cycle(sched.service(*i), false);
      sched.completed(*i, r, now_ms());
      publish();
      add(r);
      if (r.code == errc::store_failed)
        break;
      continue;
    }
    p_->refresh_backlog(svcs);
    const auto wait = std::clamp<std::int64_t>(sched.next_wake() - now_ms(), 1, idle_poll.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  return sums;
}

std::vector<service_status> engine::status(const std::vector<const service_config*>& svcs) {
  std::vector<service_status> out;
  std::lock_guard<std::mutex> lk(p_->mx);
  for (const auto* s : svcs) {
    service_status st;
    st.id = s->id;
    st.name = s->name;
    st.schedule = describe(s->when);
    try {
      st.state = p_->store->load_state(s->id);
    } catch (const std::exception&) {
    }
    st.running = p_->running == s->id;
    if (auto it = p_->next_due.find(s->id); it != p_->next_due.end())
      st.next_due_ms = it->second;
    if (auto it = p_->backlogs.find(s->id); it != p_->backlogs.end())
      st.backlog = it->second;
    out.push_back(std::move(st));
  }
  return out;
}

std::int64_t engine::heartbeat_ms() const { return p_->heartbeat.load(std::memory_order_relaxed); }

bool engine::looping() const { return p_->loops.load() > 0; }

void engine::run_now(std::uint32_t service) {
  std::lock_guard<std::mutex> lk(p_->mx);
  p_->run_now.push_back(service);
}

std::vector<target_runtime_status> engine::targets() const {
  std::vector<target_runtime_status> out;
  for (const auto& [_, rt] : p_->runtimes)
    out.push_back(rt->status());
  return out;
}

} // namespace stampede
