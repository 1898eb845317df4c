// libFuzzer target: the config loader with environment interpolation
// (pipeline/config: parse_config, interpolate, durations, schedules, offsets).
//
// Input: the whole input is a TOML config text; short inputs (< 256 bytes)
//   are also fed to the text helpers. The environment holds a few fixed
//   variables (FUZZ_A, FUZZ_EMPTY, FUZZ_DOLLAR, FUZZ_BRACE, FUZZ_BIG = 64 KiB)
//   so ${...}, ${...:-...}, empty values and the size bound are reachable.
// Checks beyond "no crash, no sanitizer report": parse_config throws nothing
//   but config_error, and every diagnostic says what is wrong; interpolate()
//   gives a value or a reason, never both; a duration parses inside
//   [0, max_duration] and format_duration() reads back to the same value; a
//   schedule or UTC offset parsed is in range (offsets within +-14:00).
// Build and run: FUZZING.md.
#include "tests/fuzz/fuzz_target.hpp"
#include "pipeline/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace stampede;

void set_env_once() {
  static const bool done = [] {
    ::setenv("FUZZ_A", "alpha", 1);
    ::setenv("FUZZ_EMPTY", "", 1);
    ::setenv("FUZZ_DOLLAR", "$${FUZZ_A}", 1);  // not interpolated again
    ::setenv("FUZZ_BRACE", "}{\"\n", 1);
    ::setenv("FUZZ_BIG", std::string(64 * 1024, 'x').c_str(), 1);
    return true;
  }();
  (void)done;
}

void text_helpers(std::string_view s) {
  const interpolation i = interpolate(s);
  if (i.value && (!i.missing.empty() || !i.problem.empty())) __builtin_trap();
  if (!i.value && i.missing.empty() && i.problem.empty()) __builtin_trap();

  duration d{};
  if (parse_duration(s, d) == duration_syntax::ok) {
    if (d.count() < 0 || d > max_duration) __builtin_trap();
    duration back{};
    if (parse_duration(format_duration(d), back) != duration_syntax::ok || back != d) __builtin_trap();
  }
  if (auto sc = parse_schedule(s)) {
    if (sc->every.count() < 0 || sc->offset.count() < 0) __builtin_trap();
    if (sc->k == schedule::kind::interval && (sc->every.count() == 0 || sc->offset >= sc->every))
      __builtin_trap();
    if (sc->daily_minutes < 0 || sc->daily_minutes >= 24 * 60) __builtin_trap();
  }
  if (auto off = parse_utc_offset(s)) {
    if (*off < -14 * 60 || *off > 14 * 60) __builtin_trap();
  }
  (void)closest_name(s, {"source", "state", "engine", "journal", "metrics", "targets", "services"});
}

}  // namespace

STAMPEDE_FUZZ_TARGET(config)(const std::uint8_t* data, std::size_t size) {
  set_env_once();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size < 256) text_helpers(text);
  try {
    const config c = parse_config(text, "fuzz.toml");
    for (std::size_t i = 1; i < c.services.size(); ++i)
      if (c.services[i - 1].id >= c.services[i].id) __builtin_trap();  // sorted, unique ids
  } catch (const config_error& e) {
    if (e.diagnostics.empty()) __builtin_trap();
    for (const config_diagnostic& d : e.diagnostics) {
      if (d.message.empty()) __builtin_trap();
      (void)d.to_string();
    }
  }
  return 0;
}
