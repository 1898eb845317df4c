#include "tools/stampede/runner.hpp"

#include "metrics/probes.hpp"
#include "pipeline/redact.hpp"

#include "engine/logging.hpp"
#include "engine/requests.hpp"
#include "engine/totals.hpp"
#include "pipeline/schedule.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

namespace stampede::cli {

stop_token g_stop;

namespace {

void on_signal(int) {
  const auto now = stop_token::monotonic_ms();
  if (!g_stop.requested()) {
    g_stop.request();
    const char msg[] = "\nstampede: stop requested: finishing the work in flight (at most "
                       "engine.drain_timeout); a second signal 2 s or more later exits at once\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof(msg) - 1);
    return;
  }
  // The same stop often arrives twice at once (to the process and to its
  // process group, e.g. from `timeout` or a supervisor): only a second
  // signal at least 2 s after the first means "exit now".
  if (now - g_stop.requested_at_ms() >= 2000) {
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

} // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

progress_display::progress_display(const std::string& mode, const config& cfg) : cfg_(cfg) {
  tty_ = ::isatty(2) != 0;
  enabled_ = mode == "always" || (mode == "auto");
  if (mode == "auto" && !tty_)
    enabled_ = true;  // non-tty: a line every few seconds (logs)
  if (mode == "never")
    enabled_ = false;
}

static std::string service_name(const config& cfg, std::uint32_t id) {
  const auto* s = cfg.find_service(id);
  return s ? s->name : std::string("?");
}

void progress_display::update(const cycle_progress& p) {
  if (g_stop.requested()) {
    // Draining: say what is left about once a second, whatever --progress says.
    const auto now = stop_token::monotonic_ms();
    if (now - last_drain_print_ms_ >= 1000) {
      last_drain_print_ms_ = now;
      std::cerr << fmt::format("{}stampede: draining service {} {}: {} batch(es) still at the "
                               "target; {:.1f}s of engine.drain_timeout left\n",
                               tty_ ? "\r\033[K" : "", p.service, service_name(cfg_, p.service),
                               p.in_flight,
                               g_stop.drain_left_ms(cfg_.engine.drain_timeout) / 1000.0);
    }
    return;
  }
  if (!enabled_)
    return;
  const auto name = service_name(cfg_, p.service);
  if (!tty_ && p.seconds - last_print_ < 5.0)
    return;
  last_print_ = p.seconds;
  // Progress and ETA count rows with a durable outcome, not rows read (the
  // extractor runs up to queue_batches pages ahead of delivery).
  double rate = p.seconds > 0 ? p.records_done / p.seconds : 0;
  std::string eta;
  if (p.rows_expected > 0 && rate > 0 && p.records_done <= p.rows_expected)
    eta = fmt::format("  ETA {:.0f}s", (p.rows_expected - p.records_done) / rate);
  std::string of = p.rows_expected ? fmt::format("/{}", human(static_cast<double>(p.rows_expected))) : "";
  auto line = fmt::format("service {:>2} {:<22} {:<12} {:>8}{} done  {:>7}/s  {} read  {:>3} in flight{}",
                          p.service, name.substr(0, 22), p.initial_load ? "initial load" : "incremental",
                          human(static_cast<double>(p.records_done)), of, human(rate),
                          human(static_cast<double>(p.rows_read)), p.in_flight, eta);
  if (tty_)
    std::cerr << "\r\033[K" << line << std::flush;
  else
    std::cerr << line << "\n";
}

void progress_display::done(const cycle_result& r) {
  if (!enabled_ || r.skipped)
    return;
  if (quiet_idle_ && r.ok && r.counts.sent() == 0)
    return;
  const auto name = service_name(cfg_, r.service);
  if (tty_)
    std::cerr << "\r\033[K";
  double rate = r.seconds > 0 ? r.rows_read / r.seconds : 0;
  if (!r.ok) {
    std::cerr << fmt::format("service {:>2} {:<22} {}: {}\n", r.service, name.substr(0, 22),
                             r.code == errc::waiting ? "NOT RUN" : "FAILED", r.error);
    return;
  }
  std::cerr << fmt::format(
    "service {:>2} {:<22} {:<12} {:>8} rows in {:.2f}s ({} rows/s): {} created, {} updated, "
    "{} deleted, {} failed, {} unchanged{}{}\n",
    r.service, name.substr(0, 22), r.initial_load ? "initial load" : "incremental",
    human(static_cast<double>(r.rows_read)), r.seconds, human(rate), r.counts.created,
    r.counts.updated, r.counts.deleted, r.counts.failed, r.counts.unchanged,
    r.counts.cancelled ? fmt::format(" ({} cancelled)", r.counts.cancelled) : "",
    r.stopped ? " (stopped)" : "");
}

void print_summary(const std::vector<cycle_result>& rs, const config& cfg) {
  std::cout << fmt::format("\n{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>9} {:>10} {:>10} {:>9} {:>9}\n",
                           "svc", "name", "created", "updated", "deleted", "failed", "cancelled",
                           "unchanged", "rows read", "seconds", "rows/s");
  cycle_counts total;
  for (const auto& r : rs) {
    const auto* s = cfg.find_service(r.service);
    double rate = r.seconds > 0 ? r.rows_read / r.seconds : 0;
    std::cout << fmt::format(
      "{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>9} {:>10} {:>10} {:>9.3f} {:>9}{}\n", r.service,
      s ? s->name.substr(0, 24) : "?", r.counts.created, r.counts.updated, r.counts.deleted,
      r.counts.failed, r.counts.cancelled, r.counts.unchanged, r.rows_read, r.seconds, human(rate),
      r.ok ? "" : (r.code == errc::waiting ? "  NOT RUN: " : "  FAILED: ") + r.error);
    cycle_counts c = r.counts;
    c.reasons.clear();
    add_counts(total, c);
  }
  std::cout << fmt::format("{:>3} {:<24} {:>9} {:>9} {:>9} {:>7} {:>9} {:>10}\n", "", "total",
                           total.created, total.updated, total.deleted, total.failed,
                           total.cancelled, total.unchanged);
}

namespace {
std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
} // namespace

worker::~worker() {
  web.reset();  // its request threads read the engine
  eng.reset();
}

worker make_engine(const config& cfg, const std::vector<const service_config*>& svcs,
                   progress_display& progress, bool log_cycles) {
  set_log_level(cfg.engine.log_level);
  engine_options eo;
  eo.stop = &g_stop;
  eo.serve_metrics = false;  // the web server serves /metrics
  // Before every cycle, and in continuous mode also between cycles: the inbox
  // (resend / checkpoint / replay asked while this worker runs), and each
  // service's resend_schedule as it falls due (every record in Error is
  // queued for resend at once). Between cycles, a service that got work (a
  // resend or replay that queued records) runs now, not at its next slot.
  auto resends = std::make_shared<resend_scheduler>(cfg);
  auto apply = [&cfg, resends](state_store& s) {
    std::vector<std::uint32_t> woken;
    for (const auto& a : resends->tick(s, unix_now_ms())) {
      spdlog::info("service {}: resend_schedule: {}", a.req.service, a.summary);
      if (a.changed > 0)
        woken.push_back(a.req.service);
    }
    for (const auto& a : apply_pending_requests(s, cfg.state.dir, cfg))
      if (!a.rejected && (a.req.kind == request_kind::replay ||
                          (a.req.kind == request_kind::resend && a.changed > 0)))
        woken.push_back(a.req.service);
    return woken;
  };
  eo.before_cycle = [apply](state_store& s) { apply(s); };
  eo.between_cycles = apply;
  worker w;
  w.eng = std::make_unique<engine>(cfg, std::move(eo));
  auto& e = w.eng;
  if (auto* m = e->metrics()) {
    build_info(*m, version_number());
    shard_info(*m, cfg.shard.index, cfg.shard.count);
  }
  if (cfg.shard.sharded())
    std::cerr << fmt::format("stampede: shard {}: only rows whose key hashes to {} of {}; state "
                             "in {}\n",
                             to_string(cfg.shard), cfg.shard.index, cfg.shard.count, cfg.state.dir);
  if (!cfg.metrics.listen.empty()) {
    web_site site;
    site.eng = e.get();
    site.services = svcs;
    w.cycles = std::make_shared<cycle_history>();
    site.cycles = w.cycles.get();
    e->subscribe({[h = w.cycles](const cycle_progress& p) { h->progress(p); },
                  [h = w.cycles](const cycle_result& r) { h->add(r, unix_now_ms()); }});
    site.show_payloads = cfg.web.show_payloads;
    site.admin_token = cfg.web.admin_token;
    if (!site.admin_token.empty())
      redactor::global().add_token(site.admin_token);  // never printed, logged or served
    site.version = version_text().substr(0, version_text().find('\n'));
    if (cfg.shard.sharded())
      site.version += ", shard " + to_string(cfg.shard);
    try {
      w.web = std::make_unique<web_server>(std::move(site), cfg.metrics.listen);
    } catch (const web_error& x) {
      throw engine_error(errc::bad_config, x.what());
    }
    const auto& l = cfg.metrics.listen;
    const auto base = fmt::format("http://{}:{}", l.substr(0, l.rfind(':')), w.web->port());
    std::cerr << fmt::format("stampede: web monitor on {}/ (health: /healthz, /readyz)\n", base);
    std::cerr << fmt::format("stampede: Prometheus metrics on {}/metrics\n", base);
  }
  engine_observer o;
  o.progress = [&progress](const cycle_progress& p) { progress.update(p); };
  // The last bounds note logged per service: an idle cycle held back by the
  // same open transaction is logged once, not every cycle.
  auto notes = std::make_shared<std::map<std::uint32_t, std::string>>();
  o.cycle_done = [&progress, &cfg, log_cycles, notes](const cycle_result& r) {
    progress.done(r);
    if (!log_cycles)
      return;
    // One log line per service per cycle (reasons, target-level cause); an
    // idle continuous cycle that found nothing says nothing, unless its
    // bounds note is new (a transaction left open holds the service back).
    auto& last = (*notes)[r.service];
    const bool new_note = r.bounds_note != last;
    last = r.bounds_note;
    const bool quiet =
        r.ok && r.counts.sent() == 0 && r.counts.pending == 0 && progress.idle_quiet();
    if (!r.skipped && (new_note || !quiet)) {
      if (const auto* s = cfg.find_service(r.service))
        log_cycle(r, s->name);
    } else if (!r.skipped) {  // a quiet cycle: only at engine.log_level = "debug"
      spdlog::debug("service {}: quiet cycle: {} rows read, nothing to send ({:.3f} s)", r.service,
                    r.rows_read, r.seconds);
    }
  };
  e->subscribe(std::move(o));
  return w;
}

int run_report(const std::vector<cycle_result>& rs, engine& e,
               const std::vector<const service_config*>& svcs) {
  const auto& cfg = e.cfg();
  int rc = ok;
  std::map<std::string, std::uint64_t> reasons;
  for (const auto& r : rs) {
    merge_reasons(reasons, r.counts.reasons);
    if (r.ok)
      continue;
    rc = failed;
    std::cerr << fmt::format("stampede: {} ({}): {}\n",
                             r.code == errc::waiting ? "NOT RUN" : "FAILED",
                             service_name(cfg, r.service), r.error);
  }
  if (g_stop.requested()) {
    const bool timed_out = std::any_of(rs.begin(), rs.end(), [](const cycle_result& r) {
      return r.code == errc::drain_timeout;
    });
    if (timed_out) {
      drain_left left;
      for (const auto& r : rs) {
        left.batches_in_flight += r.left.batches_in_flight;
        left.records_in_flight += r.left.records_in_flight;
        left.batches_waiting += r.left.batches_waiting;
        left.pages_unfinished += r.left.pages_unfinished;
      }
      std::cerr << fmt::format(
        "stampede: stopped; the drain timed out (engine.drain_timeout {:.1f}s): {} batch(es) "
        "({} records) were still at the target and {} page(s) not durable; the next run "
        "re-reads and resends them\n",
        cfg.engine.drain_timeout.count() / 1000.0, left.batches_in_flight,
        left.records_in_flight, left.pages_unfinished);
    } else {
      std::cerr << "stampede: stopped; in-flight work was drained and persisted\n";
    }
  }
  if (rc != ok)
    return rc;
  // Every cycle completed: did every record of these services get delivered?
  std::uint64_t errors = 0, cancelled = 0;
  std::string lines;
  for (const auto& st : e.status(svcs)) {
    const auto err = st.state.counts[static_cast<std::size_t>(record_status::error)];
    const auto can = st.state.counts[static_cast<std::size_t>(record_status::cancelled)];
    if (err + can == 0)
      continue;
    errors += err;
    cancelled += can;
    lines += fmt::format("  service {} {}: {} in Error, {} Cancelled\n", st.id, st.name, err, can);
  }
  if (errors + cancelled == 0)
    return ok;
  std::cerr << fmt::format("stampede: {} record(s) in Error and {} Cancelled were not delivered:\n{}",
                           errors, cancelled, lines);
  const auto top = top_reasons(reasons, 5);
  if (!top.empty()) {
    std::cerr << "most frequent reasons this run:\n";
    for (const auto& [text, n] : top)
      std::cerr << fmt::format("  {:>7}  {}\n", n, text);
  }
  std::cerr << "see `stampede log --status error`; `stampede resend` sends them again\n";
  return records_failed;
}

} // namespace stampede::cli
