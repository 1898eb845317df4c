// A strict RFC 8259 JSON grammar check for the fuzz targets, independent of
// the code under test (simdjson rejects valid numbers beyond 64 bits, so it
// cannot be the judge of exact decimals).
//
// Operation: json_valid(text) is true when `text` is exactly one JSON value
//   (surrounding whitespace allowed). Strings: no raw control characters,
//   only the escapes of RFC 8259 section 7. UTF-8 validity is checked
//   separately (simdjson::validate_utf8 in the harness).
// Concurrency: pure function.
// Limitations: nesting deeper than 512 is reported invalid (the harnesses
//   never produce that much).
#pragma once

#include <cstddef>
#include <string_view>

namespace stampede::fuzz {

class json_checker {
public:
  explicit json_checker(std::string_view s) : s_(s) {}

  bool valid() {
    ws();
    if (!value(0)) return false;
    ws();
    return i_ == s_.size();
  }

private:
  bool more() const { return i_ < s_.size(); }
  char peek() const { return more() ? s_[i_] : '\0'; }
  void ws() {
    while (more() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  static bool hex(char c) {
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool value(int depth) {
    if (depth > 512) return false;
    switch (peek()) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string();
      case 't': return lit("true");
      case 'f': return lit("false");
      case 'n': return lit("null");
      default: return number();
    }
  }
  bool object(int depth) {
    ++i_;
    ws();
    if (peek() == '}') return ++i_, true;
    for (;;) {
      ws();
      if (!string()) return false;
      ws();
      if (peek() != ':') return false;
      ++i_;
      ws();
      if (!value(depth + 1)) return false;
      ws();
      if (peek() == '}') return ++i_, true;
      if (peek() != ',') return false;
      ++i_;
    }
  }
  bool array(int depth) {
    ++i_;
    ws();
    if (peek() == ']') return ++i_, true;
    for (;;) {
      ws();
      if (!value(depth + 1)) return false;
      ws();
      if (peek() == ']') return ++i_, true;
      if (peek() != ',') return false;
      ++i_;
    }
  }
  bool string() {
    if (peek() != '"') return false;
    ++i_;
    while (more()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (!more()) return false;
      const char e = s_[i_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k)
          if (!more() || !hex(s_[i_++])) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (digit(peek())) {
      while (digit(peek())) ++i_;
    } else {
      return false;
    }
    if (peek() == '.') {
      ++i_;
      if (!digit(peek())) return false;
      while (digit(peek())) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digit(peek())) return false;
      while (digit(peek())) ++i_;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

inline bool json_valid(std::string_view s) { return json_checker(s).valid(); }

}  // namespace stampede::fuzz
