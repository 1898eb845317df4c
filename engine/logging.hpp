// Logging: spdlog on stderr, human or JSON lines, and the engine's log lines.
//
// Operation: `setup_logging(level, fmt)` replaces spdlog's default logger with
//   one stderr logger named "stampede" (so plain `spdlog::info(...)` anywhere
//   goes there), filtered at `level` (engine.log_level: trace|debug|info|warn|
//   error). Format `human`: "2024-05-01 12:00:00.123 info  <msg>" in local
//   time, the level coloured when stderr is a terminal. Format `json`: one
//   JSON object per line, {"ts":"2024-05-01T12:00:00.123Z","level":"info",
//   "msg":"...", <fields>}, ts in UTC; every string goes through the project's
//   one JSON escaper (pipeline/json_writer.hpp: control characters escaped,
//   invalid UTF-8 -> U+FFFD), so a line is always valid JSON and a message
//   can never forge a second line. `auto` = json when stderr is not a TTY,
//   human otherwise.
//   `log_event(lvl, msg, fields)` logs `msg` with structured fields: the JSON
//   format writes them as members after "msg"; the human format shows only
//   `msg`, so messages are written to be complete on their own.
//   `log_cycle(result, name)` writes ONE line per service cycle (id and name,
//   initial/incremental, created/updated/deleted/failed/cancelled/unchanged,
//   seconds, rows/s), then one line per distinct record failure reason with
//   its count (the 10 most frequent, then one line summing the rest), then
//   the cycle's failure (target-level cause, drain timeout) when there is one.
//   A cycle whose bounds were not the usual ones (`bounds_note`: an open
//   transaction holding the upper bound back, a checkpoint set by hand) adds
//   an info line with event "bounds" after the summary.
//   Level: info when everything was delivered, warn when records failed or
//   the cycle was stopped, error when the cycle failed.
// Concurrency: setup_logging is called once at startup before other threads
//   log. Loggers are spdlog `_mt` (a mutex per sink); log_event/log_cycle may
//   be called from any thread. Structured fields reach the formatter through a
//   thread-local pointer, set for the duration of one synchronous log call.
// Limitations: loggers are synchronous (stderr writes block the caller);
//   fields are only attached by log_event/log_cycle, not by plain spdlog
//   calls. Every formatted line (both formats, make_logger included) passes
//   redactor::global() (pipeline/redact.hpp) before it is written: a secret
//   the process knows never reaches a log, whoever logged it.
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace stampede {

struct cycle_result;

enum class log_format { auto_detect, human, json };

/// "auto" | "human" | "json" -> format; nullopt otherwise.
std::optional<log_format> parse_log_format(std::string_view s);

/// "trace" | "debug" | "info" | "warn" | "error" -> level; nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view s);

/// Installs the default logger (stderr). Throws std::invalid_argument for an
/// unknown level. `auto_detect` picks json unless stderr is a terminal.
void setup_logging(std::string_view level, log_format fmt);

/// Changes the default logger's level (engine.log_level once the config is
/// read; the CLI sets up logging at "info" before). Throws
/// std::invalid_argument for an unknown level.
void set_log_level(std::string_view level);

/// The logger setup_logging installs, writing to `sink` instead of stderr
/// (tests, or a second destination); `fmt` must be human or json.
std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink, spdlog::level::level_enum level,
                                            log_format fmt);

/// One structured field of a log line: a key and a string, integer, double or
/// boolean value. Holds views: only for the duration of one log call.
struct log_field {
  enum class kind : std::uint8_t { string, int64, uint64, dbl, boolean };
  std::string_view key;
  kind k = kind::string;
  std::string_view s;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;

  log_field(std::string_view key_, std::string_view v) : key(key_), s(v) {}
  log_field(std::string_view key_, const char* v) : key(key_), s(v) {}
  log_field(std::string_view key_, const std::string& v) : key(key_), s(v) {}
  log_field(std::string_view key_, bool v) : key(key_), k(kind::boolean), b(v) {}
  log_field(std::string_view key_, double v) : key(key_), k(kind::dbl), d(v) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  log_field(std::string_view key_, T v) : key(key_) {
    if constexpr (std::is_signed_v<T>) {
      k = kind::int64;
      i = static_cast<std::int64_t>(v);
    } else {
      k = kind::uint64;
      u = static_cast<std::uint64_t>(v);
    }
  }
};

/// The JSON-lines formatter (see Operation). Fields of the current log_event
/// call on this thread are appended after "msg".
class json_line_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

/// Logs `msg` with `fields` on `lg` (default: spdlog's default logger).
void log_event(spdlog::level::level_enum lvl, std::string_view msg,
               std::initializer_list<log_field> fields = {});
void log_event(spdlog::logger& lg, spdlog::level::level_enum lvl, std::string_view msg,
               std::initializer_list<log_field> fields = {});

/// The lines of one finished cycle of service `r.service` named `service_name`.
void log_cycle(const cycle_result& r, std::string_view service_name);
void log_cycle(spdlog::logger& lg, const cycle_result& r, std::string_view service_name);

}  // namespace stampede
