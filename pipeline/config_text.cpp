// Text-level helpers of the configuration: ${VAR} interpolation, durations,
// schedules, UTC offsets and "did you mean" suggestions. See config.hpp.
#include "pipeline/config.hpp"
#include "pipeline/placeholders.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace stampede {

namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Index of the '}' closing a "${" whose body starts at `from`; npos if none.
std::size_t matching_brace(std::string_view s, std::size_t from) {
  int depth = 1;
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (s[i] == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

} // namespace

namespace {

// Deepest `${...}` nesting of `s` (a "${" opens, a "}" closes an open one).
int interpolation_depth(std::string_view s) {
  int depth = 0, deepest = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      deepest = std::max(deepest, ++depth);
      ++i;
    } else if (s[i] == '}' && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// The recursive step of interpolate(); `in` nests at most max_interpolation_depth.
bool interpolate_into(std::string_view in, interpolation& r, std::string& out) {
  for (std::size_t i = 0; i < in.size();) {
    char c = in[i];
    if (c != '$' || i + 1 >= in.size()) {
      out += c;
      ++i;
      continue;
    }
    if (in[i + 1] == '$') {  // "$$" -> "$"
      out += '$';
      i += 2;
      continue;
    }
    if (in[i + 1] != '{') {  // a lone '$' is literal
      out += '$';
      ++i;
      continue;
    }
    std::size_t close = matching_brace(in, i + 2);
    if (close == std::string_view::npos) {
      r.problem = "malformed ${...} reference: no closing }";
      return false;
    }
    std::string_view body = in.substr(i + 2, close - (i + 2));
    std::size_t dflt = body.find(":-");
    std::string_view name = body.substr(0, dflt);
    if (name.empty() || !is_name_start(name[0]) ||
        !std::all_of(name.begin(), name.end(), is_name_char)) {
      r.problem = "malformed ${...} reference";
      return false;
    }
    std::string var(name);
    const std::size_t before = out.size();
    const char* env = std::getenv(var.c_str());
    if (env != nullptr && (dflt == std::string_view::npos || *env != '\0')) {
      out += env;
    } else if (dflt != std::string_view::npos) {
      if (!interpolate_into(body.substr(dflt + 2), r, out)) return false;
    } else {
      r.missing = var;
      return false;
    }
    if (out.size() == before) r.empty.push_back(var);
    if (out.size() > max_interpolated_bytes) {
      r.problem = "longer than " + std::to_string(max_interpolated_bytes >> 20) +
                  " MiB after ${...} interpolation";
      return false;
    }
    i = close + 1;
  }
  return true;
}

} // namespace

interpolation interpolate(std::string_view in) {
  interpolation r;
  if (interpolation_depth(in) > max_interpolation_depth) {
    r.problem = "${...} references nested deeper than " +
                std::to_string(max_interpolation_depth) + " levels";
    return r;
  }
  std::string out;
  out.reserve(in.size());
  if (interpolate_into(in, r, out)) r.value = std::move(out);
  return r;
}

std::optional<std::string> interpolate_env(std::string_view in, std::string& missing) {
  interpolation r = interpolate(in);
  missing = r.missing;
  return std::move(r.value);
}

std::string format_duration(duration d) {
  auto ms = d.count();
  if (ms % 86400000 == 0 && ms) return std::to_string(ms / 86400000) + "d";
  if (ms % 3600000 == 0 && ms) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0 && ms) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0 && ms) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

duration_syntax parse_duration(std::string_view s, duration& out) {
  if (s.empty()) return duration_syntax::malformed;
  using rep = duration::rep;
  constexpr rep max = max_duration.count();
  rep total = 0;
  bool too_long = false;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) return duration_syntax::malformed;
    rep n = 0;
    while (i < s.size() && is_digit(s[i])) {
      if (n > max) too_long = true;  // keep reading: the rest may still be malformed
      else n = n * 10 + (s[i] - '0');
      ++i;
    }
    rep unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60'000; break;
        case 'h': unit = 3'600'000; break;
        case 'd': unit = 86'400'000; break;
        default: return duration_syntax::malformed;
      }
      ++i;
    } else {
      return duration_syntax::malformed;  // a number without a unit
    }
    if (too_long || n > (max - total) / unit) {
      too_long = true;
      continue;
    }
    total += n * unit;
  }
  if (too_long) return duration_syntax::too_long;
  out = duration{total};
  return duration_syntax::ok;
}

std::optional<duration> parse_duration(std::string_view s) {
  duration d{0};
  if (parse_duration(s, d) != duration_syntax::ok) return std::nullopt;
  return d;
}

std::optional<schedule> parse_schedule(std::string_view s) {
  auto w = words(trim(s));
  schedule out;
  if (w.size() == 1 && w[0] == "always") {
    out.k = schedule::kind::always;
    out.every = duration{0};
    return out;
  }
  if ((w.size() == 2 || w.size() == 4) && w[0] == "every") {
    auto every = parse_duration(w[1]);
    if (!every || every->count() <= 0) return std::nullopt;
    out.k = schedule::kind::interval;
    out.every = *every;
    if (w.size() == 4) {
      if (w[2] != "offset") return std::nullopt;
      auto off = parse_duration(w[3]);
      if (!off || *off >= *every) return std::nullopt;
      out.offset = *off;
    }
    return out;
  }
  if (w.size() == 2 && w[0] == "daily") {
    std::string_view t = w[1];
    if (t.size() != 5 || t[2] != ':' || !is_digit(t[0]) || !is_digit(t[1]) ||
        !is_digit(t[3]) || !is_digit(t[4]))
      return std::nullopt;
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    out.k = schedule::kind::daily;
    out.every = duration{86'400'000};
    out.daily_minutes = h * 60 + m;
    return out;
  }
  return std::nullopt;
}

std::optional<int> parse_utc_offset(std::string_view s) {
  if (s == "UTC" || s == "utc" || s == "Z" || s == "z") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !is_digit(s[1]) ||
      !is_digit(s[2]) || !is_digit(s[4]) || !is_digit(s[5]))
    return std::nullopt;
  int h = (s[1] - '0') * 10 + (s[2] - '0');
  int m = (s[4] - '0') * 10 + (s[5] - '0');
  if (h > 14 || m > 59 || (h == 14 && m != 0)) return std::nullopt;
  int total = h * 60 + m;
  return s[0] == '-' ? -total : total;
}

std::string closest_name(std::string_view word, const std::vector<std::string>& candidates) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  auto distance = [&](std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  // Plausible typo: at most a third of the word (min 2) differs.
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    // The distance is at least the length difference: a candidate that far
    // off can never be suggested (nor hide a better one), so a long hostile
    // word costs O(candidates), not O(|word| x |candidate|) each.
    const std::size_t diff = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (diff > limit)
      continue;
    std::size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  if (best_d > limit || best_d >= std::max(word.size(), best.size())) return {};
  return best;
}

std::string basic_credentials(const oauth2_auth& a) {
  // RFC 6749 2.3.1: id and secret form-encoded first, then RFC 7617 base64.
  const std::string raw = form_encode(a.client_id) + ":" + form_encode(a.client_secret);
  static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(raw[i]) << 16) |
                            (i + 1 < raw.size() ? static_cast<unsigned char>(raw[i + 1]) << 8 : 0) |
                            (i + 2 < raw.size() ? static_cast<unsigned char>(raw[i + 2]) : 0);
    out.push_back(b64[(n >> 18) & 63]);
    out.push_back(b64[(n >> 12) & 63]);
    out.push_back(i + 1 < raw.size() ? b64[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < raw.size() ? b64[n & 63] : '=');
  }
  return out;
}

} // namespace stampede
