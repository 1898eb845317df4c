#include "engine/logging.hpp"

#include "actors/cycle.hpp"
#include "pipeline/json_writer.hpp"
#include "pipeline/redact.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace stampede {
namespace {

// Fields of the log_event call in progress on this thread (see the header).
struct field_span {
  const log_field* begin = nullptr;
  const log_field* end = nullptr;
};
thread_local field_span t_fields;

struct fields_scope {
  explicit fields_scope(std::initializer_list<log_field> f) : saved(t_fields) {
    t_fields = {f.begin(), f.end()};
  }
  ~fields_scope() { t_fields = saved; }
  field_span saved;
};

std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void append_field(std::string& out, const log_field& f) {
  out.push_back(',');
  json_quote_append(out, f.key);
  out.push_back(':');
  switch (f.k) {
    case log_field::kind::string: json_quote_append(out, f.s); break;
    case log_field::kind::int64: fmt::format_to(std::back_inserter(out), "{}", f.i); break;
    case log_field::kind::uint64: fmt::format_to(std::back_inserter(out), "{}", f.u); break;
    case log_field::kind::boolean: out += f.b ? "true" : "false"; break;
    case log_field::kind::dbl: {
      char buf[32];
      out.append(buf, static_cast<std::size_t>(json_double_to(buf, f.d) - buf));
      break;
    }
  }
}

std::string_view kind_of(const cycle_result& r) { return r.initial_load ? "initial load" : "incremental"; }

}  // namespace

std::optional<log_format> parse_log_format(std::string_view s) {
  if (s == "auto") return log_format::auto_detect;
  if (s == "human") return log_format::human;
  if (s == "json") return log_format::json;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view s) {
  if (s == "trace") return spdlog::level::trace;
  if (s == "debug") return spdlog::level::debug;
  if (s == "info") return spdlog::level::info;
  if (s == "warn") return spdlog::level::warn;
  if (s == "error") return spdlog::level::err;
  return std::nullopt;
}

void json_line_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string out;
  out.reserve(msg.payload.size() + 96);
  // ts: UTC, milliseconds.
  const auto since = msg.time.time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(std::back_inserter(out), "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ((ms % 1000) + 1000) % 1000);
  out += "\"level\":\"";
  out += level_name(msg.level);
  out += "\",\"msg\":";
  json_quote_append(out, std::string_view(msg.payload.data(), msg.payload.size()));
  for (const log_field* f = t_fields.begin; f != t_fields.end; ++f) append_field(out, *f);
  out += "}\n";
  dest.append(out.data(), out.data() + out.size());
}

std::unique_ptr<spdlog::formatter> json_line_formatter::clone() const {
  return std::make_unique<json_line_formatter>();
}

namespace {
// Every formatted line passes the process's one redactor (pipeline/redact.hpp)
// on its way out: a secret the process knows never reaches a log.
class redacting_formatter final : public spdlog::formatter {
public:
  explicit redacting_formatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    spdlog::memory_buf_t line;
    inner_->format(msg, line);
    std::string text(line.data(), line.size());
    redactor::global().apply_in_place(text);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<redacting_formatter>(inner_->clone());
  }

private:
  std::unique_ptr<spdlog::formatter> inner_;
};
} // namespace

std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink, spdlog::level::level_enum level,
                                            log_format fmt) {
  std::unique_ptr<spdlog::formatter> inner;
  if (fmt == log_format::json)
    inner = std::make_unique<json_line_formatter>();
  else
    inner = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %^%-5!l%$ %v");
  sink->set_formatter(std::make_unique<redacting_formatter>(std::move(inner)));
  auto lg = std::make_shared<spdlog::logger>("stampede", std::move(sink));
  lg->set_level(level);
  lg->flush_on(spdlog::level::trace);  // stderr: every line out at once
  return lg;
}

static spdlog::level::level_enum level_or_throw(std::string_view level) {
  const auto lvl = parse_log_level(level);
  if (!lvl)
    throw std::invalid_argument("log level '" + std::string(level) +
                                "' is not one of trace, debug, info, warn, error");
  return *lvl;
}

void setup_logging(std::string_view level, log_format fmt) {
  const auto lvl = level_or_throw(level);
  if (fmt == log_format::auto_detect) fmt = isatty(fileno(stderr)) ? log_format::human : log_format::json;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();  // colours only on a TTY
  spdlog::set_default_logger(make_logger(std::move(sink), lvl, fmt));
}

void set_log_level(std::string_view level) { spdlog::default_logger_raw()->set_level(level_or_throw(level)); }

void log_event(spdlog::logger& lg, spdlog::level::level_enum lvl, std::string_view msg,
               std::initializer_list<log_field> fields) {
  if (!lg.should_log(lvl)) return;
  fields_scope scope(fields);
  lg.log(lvl, spdlog::string_view_t(msg.data(), msg.size()));
}

void log_event(spdlog::level::level_enum lvl, std::string_view msg,
               std::initializer_list<log_field> fields) {
  log_event(*spdlog::default_logger_raw(), lvl, msg, fields);
}

void log_cycle(spdlog::logger& lg, const cycle_result& r, std::string_view name) {
  if (r.code == errc::waiting) {  // held back by a dependency: it did not run
    log_event(lg, spdlog::level::warn,
              fmt::format("service {} '{}': not run: {}", r.service, name, r.error),
              {{"event", "waiting"}, {"service", r.service}, {"service_name", name},
               {"reason", r.error}});
    return;
  }
  const auto& c = r.counts;
  const bool records_failed = c.failed > 0 || c.cancelled > 0;
  const auto lvl = !r.ok ? spdlog::level::err
                   : (records_failed || r.stopped) ? spdlog::level::warn
                                                   : spdlog::level::info;
  const double rate = r.seconds > 0 ? static_cast<double>(r.rows_read) / r.seconds : 0.0;
  const std::string_view outcome = !r.ok ? "failed" : r.stopped ? "stopped" : "done";
  const std::string who = fmt::format("service {} '{}'", r.service, name);
  log_event(lg, lvl,
            fmt::format("{}: {} cycle {}: {} created, {} updated, {} deleted, {} failed, "
                        "{} cancelled, {} unchanged; {} rows in {:.2f} s ({:.0f} rows/s)",
                        who, kind_of(r), outcome, c.created, c.updated, c.deleted, c.failed,
                        c.cancelled, c.unchanged, r.rows_read, r.seconds, rate),
            {{"event", "cycle"},
             {"service", r.service},
             {"service_name", name},
             {"kind", r.initial_load ? "initial_load" : "incremental"},
             {"outcome", outcome},
             {"created", c.created},
             {"updated", c.updated},
             {"deleted", c.deleted},
             {"failed", c.failed},
             {"cancelled", c.cancelled},
             {"unchanged", c.unchanged},
             {"pending", c.pending},
             {"rows_read", r.rows_read},
             {"seconds", r.seconds},
             {"rows_per_second", rate}});

  if (!r.bounds_note.empty())
    log_event(lg, spdlog::level::info, fmt::format("{}: {}", who, r.bounds_note),
              {{"event", "bounds"}, {"service", r.service}, {"service_name", name},
               {"note", r.bounds_note}});

  // Distinct record failure reasons, most frequent first; the tail in one line.
  if (!c.reasons.empty() && lg.should_log(spdlog::level::warn)) {
    constexpr std::size_t kShown = 10;
    std::vector<std::pair<std::string_view, std::uint64_t>> by_count(c.reasons.begin(), c.reasons.end());
    std::stable_sort(by_count.begin(), by_count.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (std::size_t i = 0; i < by_count.size() && i < kShown; ++i) {
      const auto& [reason, n] = by_count[i];
      log_event(lg, spdlog::level::warn,
                fmt::format("{}: {} record{} failed: {}", who, n, n == 1 ? "" : "s", reason),
                {{"event", "record_failures"},
                 {"service", r.service},
                 {"service_name", name},
                 {"count", n},
                 {"reason", reason}});
    }
    if (by_count.size() > kShown) {
      std::uint64_t rest = 0;
      for (std::size_t i = kShown; i < by_count.size(); ++i) rest += by_count[i].second;
      const std::size_t more = by_count.size() - kShown;
      log_event(lg, spdlog::level::warn,
                fmt::format("{}: {} more records failed for {} other reasons (stampede log "
                            "--service {} --status error)",
                            who, rest, more, r.service),
                {{"event", "record_failures_more"},
                 {"service", r.service},
                 {"service_name", name},
                 {"count", rest},
                 {"reasons", more}});
    }
  }

  // Target-level failure and the cycle's own error (once when they agree).
  if (!c.target_error.empty()) {
    log_event(lg, spdlog::level::err,
              fmt::format("{}: target failure ({} batch{}): {}", who, c.target_failures,
                          c.target_failures == 1 ? "" : "es", c.target_error),
              {{"event", "target_failure"},
               {"service", r.service},
               {"service_name", name},
               {"batches", c.target_failures},
               {"cause", c.target_error}});
  }
  if (!r.ok && !r.error.empty() &&
      (c.target_error.empty() || r.error.find(c.target_error) == std::string::npos)) {
    log_event(lg, spdlog::level::err, fmt::format("{}: cycle failed ({}): {}", who, to_string(r.code), r.error),
              {{"event", "cycle_failed"},
               {"service", r.service},
               {"service_name", name},
               {"code", to_string(r.code)},
               {"cause", r.error}});
  }
  if (r.left.any()) {
    log_event(lg, spdlog::level::warn,
              fmt::format("{}: drain timed out; left {} batches ({} records) at the target, {} "
                          "batches not started, {} pages not durable; the next run re-reads "
                          "and resends them",
                          who, r.left.batches_in_flight, r.left.records_in_flight,
                          r.left.batches_waiting, r.left.pages_unfinished),
              {{"event", "drain_left"},
               {"service", r.service},
               {"service_name", name},
               {"batches_in_flight", r.left.batches_in_flight},
               {"records_in_flight", r.left.records_in_flight},
               {"batches_waiting", r.left.batches_waiting},
               {"pages_unfinished", r.left.pages_unfinished}});
  }
}

void log_cycle(const cycle_result& r, std::string_view service_name) {
  log_cycle(*spdlog::default_logger_raw(), r, service_name);
}

}  // namespace stampede
