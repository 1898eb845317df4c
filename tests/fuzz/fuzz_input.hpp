// Splits one libFuzzer input into the parts a harness needs.
//
// Operation: `fuzz_input in(data, size)` reads from the front: byte() (0 when
//   exhausted), small(n) (a byte mod n), piece() (bytes up to the next 0x00
//   separator, or the rest), rest(). A harness decides its layout once; the
//   seed corpora in tests/fuzz/corpus/<target>/ follow it.
// Concurrency: one object per input, one thread.
// Limitations: plain byte slicing, no structure-aware mutation (libFuzzer's
//   comparison tracing finds the separators and magic values by itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stampede::fuzz {

class fuzz_input {
public:
  fuzz_input(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  /// A byte mod n (n > 0).
  unsigned small(unsigned n) { return byte() % n; }

  /// Bytes up to the next 0x00 (consumed, not returned), or everything left.
  std::string_view piece() {
    std::size_t n = rest_.find('\0');
    std::string_view p = rest_.substr(0, n);
    rest_.remove_prefix(n == std::string_view::npos ? rest_.size() : n + 1);
    return p;
  }

  std::string_view rest() {
    std::string_view r = rest_;
    rest_ = {};
    return r;
  }

private:
  std::string_view rest_;
};

}  // namespace stampede::fuzz
