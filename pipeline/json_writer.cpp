#include "pipeline/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace stampede {
namespace {

// 1 for bytes copied verbatim: printable ASCII except '"' and '\\' (DEL included).
constexpr std::array<std::uint8_t, 256> make_plain() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = 1;
  t['"'] = 0;
  t['\\'] = 0;
  return t;
}
constexpr std::array<std::uint8_t, 256> kPlain = make_plain();

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;

// True when none of the 8 bytes needs attention (>= 0x80, < 0x20, '"', '\\').
// The zero-byte tests are exact as "any" predicates (no false negatives).
inline bool plain8(std::uint64_t x) {
  const std::uint64_t lt20 = (x - 0x20 * kOnes) & ~x;
  const std::uint64_t q = x ^ (0x22 * kOnes);
  const std::uint64_t b = x ^ (0x5C * kOnes);
  const std::uint64_t hit = x | lt20 | ((q - kOnes) & ~q) | ((b - kOnes) & ~b);
  return (hit & kHigh) == 0;
}

// Length of the UTF-8 step at s[0] (n >= 1 bytes available). Sets `valid`.
// Invalid steps are maximal subparts: the lead byte plus the continuation
// bytes that were still acceptable before the failure (Unicode Table 3-7).
inline std::size_t utf8_step(const unsigned char* s, std::size_t n, bool& valid) {
  const unsigned char c = s[0];
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c == 0xE0) {
    need = 2; lo = 0xA0;
  } else if (c >= 0xE1 && c <= 0xEC) {
    need = 2;
  } else if (c == 0xED) {
    need = 2; hi = 0x9F;
  } else if (c == 0xEE || c == 0xEF) {
    need = 2;
  } else if (c == 0xF0) {
    need = 3; lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 3;
  } else if (c == 0xF4) {
    need = 3; hi = 0x8F;
  } else {
    valid = false;  // 80..C1 (stray continuation, overlong 2-byte lead), F5..FF
    return 1;
  }
  if (n < 2 || s[1] < lo || s[1] > hi) {
    valid = false;
    return 1;
  }
  for (std::size_t k = 2; k <= need; ++k) {
    if (k >= n || (s[k] & 0xC0) != 0x80) {
      valid = false;
      return k;
    }
  }
  valid = true;
  return need + 1;
}

constexpr char kHex[] = "0123456789abcdef";

inline char* escape_ascii(char* d, unsigned char c) {
  *d++ = '\\';
  switch (c) {
    case '"': *d++ = '"'; break;
    case '\\': *d++ = '\\'; break;
    case '\b': *d++ = 'b'; break;
    case '\f': *d++ = 'f'; break;
    case '\n': *d++ = 'n'; break;
    case '\r': *d++ = 'r'; break;
    case '\t': *d++ = 't'; break;
    default:
      std::memcpy(d, "u00", 3);
      d[3] = kHex[c >> 4];
      d[4] = kHex[c & 0xF];
      d += 5;
  }
  return d;
}

} // namespace

char* json_escape_to(char* d, std::string_view sv) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const std::size_t n = sv.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = i;
    while (i + 8 <= n) {
      std::uint64_t x;
      std::memcpy(&x, s + i, 8);
      if (!plain8(x)) break;
      i += 8;
    }
    while (i < n && kPlain[s[i]]) ++i;
    if (i > run) {
      std::memcpy(d, s + run, i - run);
      d += i - run;
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      d = escape_ascii(d, c);
      ++i;
      continue;
    }
    bool valid;
    const std::size_t len = utf8_step(s + i, n - i, valid);
    if (!valid) {
      std::memcpy(d, "\xEF\xBF\xBD", 3);
      d += 3;
    } else if (len == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
      std::memcpy(d, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
      d += 6;
    } else {
      std::memcpy(d, s + i, len);
      d += len;
    }
    i += len;
  }
  return d;
}

void json_escape_append(std::string& out, std::string_view s) {
  // Escape through a stack buffer in chunks. A chunk never ends inside a
  // UTF-8 sequence that starts with a lead byte, so chunking cannot change
  // how invalid subsequences are grouped.
  constexpr std::size_t chunk = 512;
  char buf[json_escape_bound(chunk)];
  while (!s.empty()) {
    std::size_t k = s.size();
    if (k > chunk) {
      k = chunk;
      const auto at = [&](std::size_t j) { return static_cast<unsigned char>(s[j]); };
      if ((at(k) & 0xC0) == 0x80) {
        for (std::size_t j = k - 1; j + 3 >= k; --j) {
          if ((at(j) & 0xC0) != 0x80) {
            if (at(j) >= 0xC0) k = j;
            break;
          }
        }
      }
    }
    char* e = json_escape_to(buf, s.substr(0, k));
    out.append(buf, static_cast<std::size_t>(e - buf));
    s.remove_prefix(k);
  }
}

void json_quote_append(std::string& out, std::string_view s) {
  out.push_back('"');
  json_escape_append(out, s);
  out.push_back('"');
}

bool utf8_valid(std::string_view sv) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const std::size_t n = sv.size();
  std::size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    bool valid;
    const std::size_t len = utf8_step(s + i, n - i, valid);
    if (!valid) return false;
    i += len;
  }
  return true;
}

std::string json_string_value(std::string_view sv) {
  if (utf8_valid(sv)) return std::string(sv);
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const std::size_t n = sv.size();
  std::string out;
  out.reserve(n + 8);
  std::size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      out.push_back(static_cast<char>(s[i++]));
      continue;
    }
    bool valid;
    const std::size_t len = utf8_step(s + i, n - i, valid);
    if (valid)
      out.append(sv.substr(i, len));
    else
      out.append("\xEF\xBF\xBD");
    i += len;
  }
  return out;
}

char* json_double_to(char* dst, double d) noexcept {
  if (!std::isfinite(d)) {
    std::memcpy(dst, "null", 4);
    return dst + 4;
  }
  // Integral magnitudes >= 1e16 go out in exponent form: the plain form would be
  // a 17+ digit integer literal, which many JSON parsers read as an
  // (overflowing) integer instead of a double.
  if (std::fabs(d) >= 1e16) return std::to_chars(dst, dst + 32, d, std::chars_format::scientific).ptr;
  return std::to_chars(dst, dst + 32, d).ptr;
}

void json_writer::key(std::string_view k) {
  before_value();
  json_quote_append(out_, k);
  out_.push_back(':');
  after_key_ = true;
}

void json_writer::raw_key(std::string_view quoted_key_colon) {
  before_value();
  out_.append(quoted_key_colon);
  after_key_ = true;
}

void json_writer::string(std::string_view s) {
  before_value();
  json_quote_append(out_, s);
}

void json_writer::raw_number(std::string_view digits) {
  before_value();
  out_.append(digits);
}

void json_writer::integer(std::int64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
}

void json_writer::uinteger(std::uint64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
}

void json_writer::number(double v) {
  before_value();
  char buf[32];
  out_.append(buf, static_cast<std::size_t>(json_double_to(buf, v) - buf));
}

void json_writer::boolean(bool v) {
  before_value();
  out_.append(v ? "true" : "false");
}

void json_writer::null() {
  before_value();
  out_.append("null");
}

void json_writer::raw_value(std::string_view json) {
  before_value();
  out_.append(json);
}

} // namespace stampede
