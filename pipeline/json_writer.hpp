// Append-only JSON writer into a std::string (no DOM).
//
// Operation: `json_writer w(out)` appends to `out`; begin_object/end_object/
//   begin_array/end_array/key/string/raw_number/integer/uinteger/number/
//   boolean/null insert commas and colons automatically (a small state stack).
//   Several top-level values may be written back to back (no separator), so
//   one writer can fill an arena of independent documents.
//   String escaping: `"` -> \", `\` -> \\, control characters < 0x20 as
//   \b \f \n \r \t or \u00XX, U+2028/U+2029 as \u2028/\u2029 (JavaScript line
//   terminators); DEL (0x7F) and every other valid character are copied as is.
//   Invalid UTF-8 POLICY: input is validated as UTF-8 (RFC 3629 / Unicode
//   Table 3-7); each MAXIMAL INVALID SUBSEQUENCE (the Unicode "maximal subpart"
//   practice, as in the WHATWG decoder) is replaced by one U+FFFD (EF BF BD).
//   Invalid are: stray continuation bytes, C0/C1 and F5..FF lead bytes,
//   overlong encodings, surrogates U+D800..U+DFFF, code points > U+10FFFF and
//   truncated sequences. So the output is always valid UTF-8 JSON.
//   This is the project's ONE JSON string escaper: record data (transform),
//   record keys, idempotency keys, envelope headers and types (request_builder),
//   status/log-monitor output and JSON log lines (engine/logging) all use it;
//   docs/transform.md states the policy for users.
//   Runs of plain ASCII are scanned 8 bytes at a time and appended in bulk.
//   Doubles: shortest round-trip form (std::to_chars); magnitudes >= 1e16 in
//   exponent form ("3.3935263963869905e+19", never a 20-digit integer
//   literal that parsers would read as an overflowing integer); NaN, +-Inf -> null.
//   raw_number() appends caller-validated JSON number text verbatim (exact
//   decimals).
// Concurrency: a writer and its string belong to one thread.
// Limitations: the writer does not check grammar beyond commas (e.g. a value
//   without key inside an object is not detected); keys are escaped like
//   strings. Nesting depth is unlimited (stack grows; no allocation up to 15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stampede {

/// Upper bound of the bytes json_escape_to() writes for `n` input bytes.
constexpr std::size_t json_escape_bound(std::size_t n) { return 6 * n; }

/// Writes the escaped form of `s` (no surrounding quotes) at `dst`, which must
/// have room for json_escape_bound(s.size()) bytes; returns the end pointer.
char* json_escape_to(char* dst, std::string_view s) noexcept;

/// Appends `s` escaped (no surrounding quotes) to `out`.
void json_escape_append(std::string& out, std::string_view s);

/// Appends `"s"` (escaped, quoted) to `out`.
void json_quote_append(std::string& out, std::string_view s);

/// True when `s` is valid UTF-8 (the policy above has nothing to replace).
bool utf8_valid(std::string_view s) noexcept;

/// The string a JSON parser reads back from json_quote_append(s): `s` with
/// each maximal invalid UTF-8 subsequence replaced by U+FFFD (`s` itself when
/// valid). Use it to compare a raw value with what a target echoes (record
/// keys in batch results).
std::string json_string_value(std::string_view s);

/// Writes the shortest round-trip form of `d` (or `null` for NaN/Inf) at
/// `dst` (room for 32 bytes needed); returns the end pointer.
char* json_double_to(char* dst, double d) noexcept;

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  /// Object key (escaped); the next call writes its value.
  void key(std::string_view k);
  /// Object key given as pre-rendered `"name":` text (no escaping, no check).
  void raw_key(std::string_view quoted_key_colon);

  void string(std::string_view s);
  /// Caller-validated JSON number text, appended verbatim ("1234.50").
  void raw_number(std::string_view digits);
  void integer(std::int64_t v);
  void uinteger(std::uint64_t v);
  /// Shortest round-trip; NaN/Inf -> null.
  void number(double v);
  void boolean(bool v);
  void null();
  /// Any pre-rendered JSON value, appended verbatim.
  void raw_value(std::string_view json);

  std::string& out() { return out_; }
  std::size_t depth() const { return stack_.size(); }

private:
  void before_value() {
    if (after_key_) {
      after_key_ = false;
    } else if (!stack_.empty()) {
      if (stack_.back()) out_.push_back(',');
      stack_.back() = 1;
    }
  }
  void open(char c) {
    before_value();
    out_.push_back(c);
    stack_.push_back(0);
  }
  void close(char c) {
    if (!stack_.empty()) stack_.pop_back();
    after_key_ = false;
    out_.push_back(c);
  }

  std::string& out_;
  std::string stack_;  // one byte per open container: 1 once it holds an item
  bool after_key_ = false;
};

} // namespace stampede
