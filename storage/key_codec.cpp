// Order-preserving key encoding; see key_codec.hpp for the format.
#include "storage/key_codec.hpp"

namespace stampede::key_codec {
namespace {

template <typename U>
void put_be(std::string& out, U v) {
  char buf[sizeof(U)];
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    buf[sizeof(U) - 1 - i] = static_cast<char>(static_cast<unsigned char>(v & 0xFFu));
    v = static_cast<U>(v >> 8);
  }
  out.append(buf, sizeof(U));
}

template <typename U>
std::optional<U> get_be(std::string_view& in) {
  if (in.size() < sizeof(U)) return std::nullopt;
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i)
    v = static_cast<U>((v << 8) | static_cast<unsigned char>(in[i]));
  in.remove_prefix(sizeof(U));
  return v;
}

constexpr std::uint64_t sign_bit = std::uint64_t{1} << 63;

} // namespace

void put_u16(std::string& out, std::uint16_t v) { put_be(out, v); }
void put_u32(std::string& out, std::uint32_t v) { put_be(out, v); }
void put_u64(std::string& out, std::uint64_t v) { put_be(out, v); }

void put_i64(std::string& out, std::int64_t v) {
  put_be(out, static_cast<std::uint64_t>(v) ^ sign_bit);
}

void put_string(std::string& out, std::string_view s) {
  // Fast path: copy runs without 0x00 in one append.
  std::size_t start = 0;
  while (true) {
    const std::size_t z = s.find('\0', start);
    if (z == std::string_view::npos) {
      out.append(s.data() + start, s.size() - start);
      break;
    }
    out.append(s.data() + start, z - start);
    out.push_back('\0');
    out.push_back('\xFF');
    start = z + 1;
  }
  out.push_back('\0');
  out.push_back('\x01');
}

std::optional<std::uint16_t> get_u16(std::string_view& in) { return get_be<std::uint16_t>(in); }
std::optional<std::uint32_t> get_u32(std::string_view& in) { return get_be<std::uint32_t>(in); }
std::optional<std::uint64_t> get_u64(std::string_view& in) { return get_be<std::uint64_t>(in); }

std::optional<std::int64_t> get_i64(std::string_view& in) {
  auto u = get_be<std::uint64_t>(in);
  if (!u) return std::nullopt;
  return static_cast<std::int64_t>(*u ^ sign_bit);
}

std::optional<std::string> get_string(std::string_view& in) {
  std::string out;
  std::size_t i = 0;
  while (true) {
    const std::size_t z = in.find('\0', i);
    if (z == std::string_view::npos || z + 1 >= in.size()) return std::nullopt;  // no terminator
    out.append(in.data() + i, z - i);
    const auto next = static_cast<unsigned char>(in[z + 1]);
    if (next == 0x01) {  // terminator
      in.remove_prefix(z + 2);
      return out;
    }
    if (next != 0xFF) return std::nullopt;  // bad escape
    out.push_back('\0');
    i = z + 2;
  }
}

std::string ledger_key(std::uint32_t service, std::string_view record_key) {
  std::string out;
  out.reserve(2 + record_key.size() + 2);
  put_u16(out, static_cast<std::uint16_t>(service));
  put_string(out, record_key);
  return out;
}

} // namespace stampede::key_codec
