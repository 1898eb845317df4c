#include "tools/stampede/runner.hpp"

#include "pipeline/schedule.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace stampede::cli {

std::atomic<bool> g_stop{false};

namespace {

std::atomic<std::int64_t> g_first_signal_ms{0};

std::int64_t monotonic_ms() {  // async-signal-safe
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void on_signal(int) {
  const auto now = monotonic_ms();
  if (!g_stop.exchange(true)) {
    g_first_signal_ms.store(now);
    return;
  }
  // The same stop often arrives twice at once (to the process and to its
  // process group, e.g. from `timeout` or a supervisor): only a second
  // signal at least 2 s after the first means "exit now".
  if (now - g_first_signal_ms.load() >= 2000) {
    const char msg[] = "\nstampede: second signal, exiting without draining\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof(msg) - 1);
    ::_exit(1);
  }
}

std::string human(double v) {
  if (v >= 1e6)
    return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e3)
    return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

progress_display::progress_display(const std::string& mode) {
  tty_ = ::isatty(2) != 0;
  enabled_ = mode == "always" || (mode == "auto");
  if (mode == "auto" && !tty_)
    enabled_ = true;  // non-tty: a line every few seconds (logs)
  if (mode == "never")
    enabled_ = false;
}

void progress_display::update(const cycle_progress& p, const std::string& name) {
  if (!enabled_)
    return;
  if (!tty_ && p.seconds - last_print_ < 5.0)
    return;
  last_print_ = p.seconds;
  double rate = p.seconds > 0 ? p.rows_read / p.seconds : 0;
  std::string eta;
  if (p.rows_expected > 0 && rate > 0 && p.rows_read <= p.rows_expected)
    eta = fmt::format("  ETA {:.0f}s", (p.rows_expected - p.rows_read) / rate);
  std::string of = p.rows_expected ? fmt::format("/{}", human(static_cast<double>(p.rows_expected))) : "";
  auto line = fmt::format("service {:>2} {:<22} {:<12} {:>8}{} rows  {:>7} rows/s  {:>3} in flight{}",
                          p.service, name.substr(0, 22), p.initial_load ? "initial load" : "incremental",
                          human(static_cast<double>(p.rows_read)), of, human(rate), p.in_flight, eta);
  if (tty_)
    std::cerr << "\r\033[K" << line << std::flush;
  else
    std::cerr << line << "\n";
}

void progress_display::done(const cycle_result& r, const std::string& name) {
  if (!enabled_)
    return;
  if (tty_)
    std::cerr << "\r\033[K";
  double rate = r.seconds > 0 ? r.rows_read / r.seconds : 0;
  if (!r.ok) {
    std::cerr << fmt::format("service {:>2} {:<22} FAILED: {}\n", r.service, name.substr(0, 22), r.error);
    return;
  }
  std::cerr << fmt::format(
    "service {:>2} {:<22} {:<12} {:>8} rows in {:.2f}s ({} rows/s): {} created, {} updated, "
    "{} deleted, {} failed, {} unchanged{}\n",
    r.service, name.substr(0, 22), r.initial_load ? "initial load" : "incremental",
    human(static_cast<double>(r.rows_read)), r.seconds, human(rate), r.counts.created,
    r.counts.updated, r.counts.deleted, r.counts.failed, r.counts.unchanged,
    r.stopped ? " (stopped)" : "");
}

struct runner::impl {
  const config& cfg;
  run_options opts;
  std::unique_ptr<state_store> store;
  std::unique_ptr<http_client> client;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<metrics_registry> metrics;
  progress_display progress;

  impl(const config& c, const run_options& o) : cfg(c), opts(o), progress(o.progress) {
  }
};

runner::runner(const config& cfg, const run_options& opts)
  : p_(std::make_unique<impl>(cfg, opts)) {
  try {
    p_->store = state_store::open(cfg.state.dir);
  } catch (const store_error& e) {
    throw std::runtime_error(fmt::format("state store {}: {}", cfg.state.dir, e.what()));
  }
  p_->client = std::make_unique<http_client>();
  if (!cfg.metrics.listen.empty()) {
    p_->metrics = std::make_unique<metrics_registry>();
    try {
      p_->metrics->serve(cfg.metrics.listen);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("metrics.listen {}: {} (change [metrics] listen, or "
                                           "set it to \"\" to turn the exporter off)",
                                           cfg.metrics.listen, e.what()));
    }
    auto host = cfg.metrics.listen.substr(0, cfg.metrics.listen.rfind(':'));
    std::cerr << fmt::format("stampede: Prometheus metrics on http://{}:{}/metrics\n", host,
                             p_->metrics->port());
  }
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

runner::~runner() {
  if (p_ && p_->client)
    p_->client->drain(std::chrono::seconds(5));
}

cycle_result runner::cycle(const service_config& svc, bool initial_only) {
  cycle_options co;
  co.initial_load_only = initial_only;
  co.stop = &g_stop;
  co.metrics = p_->metrics.get();
  co.on_progress = [this, &svc](const cycle_progress& p) {
    if (!p.done)
      p_->progress.update(p, svc.name);
  };
  auto r = run_cycle(*p_->sys, p_->cfg, svc, *p_->store, *p_->client, co);
  const bool skipped = initial_only && r.ok && !r.initial_load;
  const bool quiet = aggregate_ && r.ok && r.counts.sent() == 0;  // continuous, nothing sent
  if (!skipped && !quiet)
    p_->progress.done(r, svc.name);
  record(r);
  return r;
}

void runner::record(const cycle_result& r) {
  if (!aggregate_) {
    results_.push_back(r);
    return;
  }
  // Continuous mode: one entry per service, summed, so memory stays flat
  // however many cycles run.
  for (auto& x : results_) {
    if (x.service != r.service)
      continue;
    x.counts.created += r.counts.created;
    x.counts.updated += r.counts.updated;
    x.counts.deleted += r.counts.deleted;
    x.counts.failed += r.counts.failed;
    x.counts.unchanged += r.counts.unchanged;
    x.rows_read += r.rows_read;
    x.seconds += r.seconds;
    x.ok = x.ok && r.ok;
    if (!r.ok)
      x.error = r.error;
    return;
  }
  results_.push_back(r);
}

int runner::run_once(const std::vector<const service_config*>& svcs) {
  int rc = ok;
  for (const auto* s : svcs) {
    if (g_stop.load())
      break;
    auto r = cycle(*s, p_->opts.initial_load);
    if (!r.ok)
      rc = failed;
    if (p_->opts.initial_load && r.ok && !r.initial_load)
      std::cerr << fmt::format("service {:>2} {:<22} initial load already complete, skipped\n",
                               s->id, s->name);
  }
  return rc;
}

int runner::run_continuous(const std::vector<const service_config*>& svcs) {
  aggregate_ = true;
  // Initial loads first, in numeric order.
  int rc = ok;
  for (const auto* s : svcs) {
    if (g_stop.load())
      return rc;
    auto st = p_->store->load_state(s->id);
    if (!st.initial_load_complete) {
      auto r = cycle(*s, true);
      if (!r.ok)
        rc = failed;
    }
  }
  std::vector<std::int64_t> due(svcs.size());
  for (std::size_t i = 0; i < svcs.size(); ++i)
    due[i] = next_due(svcs[i]->when, now_ms(), p_->cfg.source.utc_offset_minutes);
  std::cerr << "stampede: running on schedules; SIGTERM or Ctrl-C stops after draining\n";
  while (!g_stop.load()) {
    auto now = now_ms();
    bool ran = false;
    for (std::size_t i = 0; i < svcs.size() && !g_stop.load(); ++i) {
      if (due[i] > now)
        continue;
      auto r = cycle(*svcs[i], false);
      if (!r.ok)
        rc = failed;
      ran = true;
      auto after = now_ms();
      due[i] = next_due(svcs[i]->when, after, p_->cfg.source.utc_offset_minutes);
      // "always" services idle a second when a cycle found nothing to send.
      if (svcs[i]->when.k == schedule::kind::always && r.counts.sent() == 0)
        due[i] = after + 1000;
    }
    if (!ran)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return rc;
}

void runner::print_summary(const std::vector<cycle_result>& rs, const config& cfg) {
  std::cout << fmt::format("\n{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>10} {:>10} {:>9} {:>9}\n", "svc",
                           "name", "created", "updated", "deleted", "failed", "unchanged", "rows read",
                           "seconds", "rows/s");
  cycle_counts total;
  for (const auto& r : rs) {
    const auto* s = cfg.find_service(r.service);
    double rate = r.seconds > 0 ? r.rows_read / r.seconds : 0;
    std::cout << fmt::format("{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>10} {:>10} {:>9.3f} {:>9}{}\n",
                             r.service, s ? s->name.substr(0, 24) : "?", r.counts.created,
                             r.counts.updated, r.counts.deleted, r.counts.failed, r.counts.unchanged,
                             r.rows_read, r.seconds, human(rate),
                             r.ok ? "" : "  FAILED: " + r.error);
    total.created += r.counts.created;
    total.updated += r.counts.updated;
    total.deleted += r.counts.deleted;
    total.failed += r.counts.failed;
    total.unchanged += r.counts.unchanged;
  }
  std::cout << fmt::format("{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>10}\n", "", "total",
                           total.created, total.updated, total.deleted, total.failed,
                           total.unchanged);
}

} // namespace stampede::cli
