// plan_bounds. See cycle_bounds.hpp.
#include "pipeline/cycle_bounds.hpp"

#include <stdexcept>

namespace stampede {

namespace {

// s - d, clamped to the years stamps can hold (a huge lookback reads all).
stamp minus_clamped(stamp s, duration d) {
  try {
    return s - d;
  } catch (const std::out_of_range&) {
    return d.count() >= 0 ? stamp::min : stamp::max;
  }
}

} // namespace

cycle_bounds plan_bounds(const bounds_input& in) {
  cycle_bounds b;
  b.upper = minus_clamped(in.source_now, in.safety_delay);
  if (in.oldest_open && *in.oldest_open <= b.upper) {
    b.upper = stamp::from_unix_us(in.oldest_open->unix_us() - 1);
    b.note = "upper bound held below the oldest open transaction (started " +
             in.oldest_open->text() + " UTC)";
  }
  if (in.checkpoint.stamp.empty()) return b;  // from the start
  if (in.initial_load) {
    b.after = in.checkpoint;
    return b;
  }
  auto cp = parse_stamp(in.checkpoint.stamp);
  if (!cp) {
    b.after = in.checkpoint;
    if (!b.note.empty()) b.note += "; ";
    b.note += "the checkpoint \"" + in.checkpoint.stamp +
              "\" is not a date-time: reading on from it without the lookback";
    return b;
  }
  b.from = minus_clamped(*cp, in.lookback);
  return b;
}

} // namespace stampede
