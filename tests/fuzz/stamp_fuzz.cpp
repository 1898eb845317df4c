// libFuzzer target: stamp parsing (pipeline/stamp: parse_stamp, layout_of,
// format_stamp, text, + and - of durations).
//
// Input: two 0x00-terminated texts a and b, then 8 bytes of a duration in
//   milliseconds (taken modulo max_duration, either sign: every duration a
//   config or plan_bounds can produce).
// Checks beyond "no crash, no sanitizer report": a parsed stamp lies within
//   [stamp::min, stamp::max]; its canonical text() parses back to it; a text
//   that parses has a layout and the stamp written in that layout parses back
//   to the same instant; two stamps written in one layout compare as text the
//   way they compare in time; (s + d) - d == s whenever s + d stays in range,
//   and out of range throws std::out_of_range only.
// Build and run: FUZZING.md.
#include "tests/fuzz/fuzz_target.hpp"
#include "pipeline/stamp.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace stampede;

std::optional<stamp> checked(std::string_view text) {
  const std::optional<stamp> s = parse_stamp(text);
  if (s.has_value() != layout_of(text).has_value()) __builtin_trap();
  if (!s) return s;
  if (*s < stamp::min || *s > stamp::max) __builtin_trap();
  if (parse_stamp(s->text()) != s) __builtin_trap();
  if (parse_stamp(format_stamp(*s, *layout_of(text))) != s) __builtin_trap();
  return s;
}

}  // namespace

STAMPEDE_FUZZ_TARGET(stamp)(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in(data, size);
  const std::string_view ta = in.piece(), tb = in.piece();
  std::uint64_t raw = 0;
  for (int i = 0; i < 8; ++i) raw = raw << 8 | in.byte();
  const auto span = static_cast<std::uint64_t>(max_duration.count());
  const std::int64_t ms = static_cast<std::int64_t>(raw % (2 * span + 1)) - max_duration.count();
  const duration d{ms};

  const std::optional<stamp> a = checked(ta), b = checked(tb);
  if (a && b) {
    const stamp_layout l = *layout_of(ta);
    const std::string fa = format_stamp(*a, l), fb = format_stamp(*b, l);
    if (parse_stamp(fa) == a && parse_stamp(fb) == b) {  // both exact in this layout
      if ((fa < fb) != (*a < *b) || (fa == fb) != (*a == *b)) __builtin_trap();
    }
  }
  if (a) {
    try {
      const stamp moved = *a + d;
      if (moved < stamp::min || moved > stamp::max) __builtin_trap();
      if (moved - d != *a) __builtin_trap();
      (void)moved.text();
    } catch (const std::out_of_range&) {
    }
  }
  return 0;
}
