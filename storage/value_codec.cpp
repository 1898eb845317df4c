// Binary value encoding; see value_codec.hpp for the layout.
#include "storage/value_codec.hpp"

#include <cstdint>

namespace stampede::value_codec {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  std::size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(static_cast<unsigned char>(v | 0x80));
    v >>= 7;
  }
  buf[n++] = static_cast<char>(static_cast<unsigned char>(v));
  out.append(buf, n);
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

void put_fixed64(std::string& out, std::uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
  out.append(buf, 8);
}

/// Cursor over a value; the first failure sticks and records what failed.
class reader {
public:
  explicit reader(std::string_view in) : in_(in) {}

  bool ok() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  bool at_end() const { return in_.empty(); }
  std::size_t remaining() const { return in_.size(); }

  std::uint64_t varint(const char* field) {
    if (!ok()) return 0;
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return fail(field, "truncated varint");
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      if (shift == 63 && b > 1) return fail(field, "varint overflows 64 bits");
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    return fail(field, "varint longer than 10 bytes");
  }

  std::uint8_t byte(const char* field) {
    if (!ok()) return 0;
    if (in_.empty()) return static_cast<std::uint8_t>(fail(field, "missing byte"));
    const auto b = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    return b;
  }

  std::uint64_t fixed64(const char* field) {
    if (!ok()) return 0;
    if (in_.size() < 8) return fail(field, "truncated 8-byte field");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return v;
  }

  std::string str(const char* field) {
    const std::uint64_t n = varint(field);
    if (!ok()) return {};
    if (n > in_.size()) {
      fail(field, "string length exceeds value size");
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }

  std::uint64_t fail(const char* field, const char* what) {
    if (ok()) why_ = std::string(what) + " in field '" + field + "'";
    return 0;
  }

private:
  std::string_view in_;
  std::string why_;
};

bool check_version(std::string_view in, std::string* why) {
  if (in.empty()) {
    if (why) *why = "empty value";
    return false;
  }
  const auto v = static_cast<unsigned char>(in.front());
  if (v != value_format_version) {
    if (why) *why = "unknown value format version " + std::to_string(v) +
                    " (this build reads version " + std::to_string(value_format_version) + ")";
    return false;
  }
  return true;
}

template <typename T>
std::optional<T> finish(reader& r, T&& value, std::string* why) {
  if (r.ok() && !r.at_end())
    r.fail("<end>", "trailing bytes after the last field");
  if (!r.ok()) {
    if (why) *why = r.why();
    return std::nullopt;
  }
  return std::move(value);
}

} // namespace

void encode_entry(std::string& out, const ledger_entry& e) {
  out.push_back(static_cast<char>(value_format_version));
  put_fixed64(out, e.content_hash);
  put_str(out, e.remote_id);
  out.push_back(static_cast<char>(e.status));
  put_varint(out, e.attempts);
  put_str(out, e.last_stamp);
  out.push_back(static_cast<char>(e.last_op));
  put_varint(out, zigzag(e.updated_ms));
  put_str(out, e.last_error);
}

std::optional<ledger_entry> decode_entry(std::string_view in, std::string* why) {
  if (!check_version(in, why)) return std::nullopt;
  reader r(in.substr(1));
  ledger_entry e;
  e.content_hash = r.fixed64("content_hash");
  e.remote_id = r.str("remote_id");
  const std::uint8_t status = r.byte("status");
  if (r.ok() && status > static_cast<std::uint8_t>(record_status::cancelled))
    r.fail("status", "record status out of range");
  e.status = static_cast<record_status>(status);
  const std::uint64_t attempts = r.varint("attempts");
  if (r.ok() && attempts > UINT32_MAX) r.fail("attempts", "value exceeds 32 bits");
  e.attempts = static_cast<std::uint32_t>(attempts);
  e.last_stamp = r.str("last_stamp");
  e.last_op = r.byte("last_op");
  if (r.ok() && e.last_op > 2) r.fail("last_op", "record op out of range");
  e.updated_ms = unzigzag(r.varint("updated_ms"));
  e.last_error = r.str("last_error");
  return finish(r, std::move(e), why);
}

void encode_state(std::string& out, const service_state& s) {
  out.push_back(static_cast<char>(value_format_version));
  put_str(out, s.checkpoint_stamp);
  put_varint(out, zigzag(s.checkpoint_recno));
  out.push_back(static_cast<char>(s.initial_load_complete ? 1 : 0));
  put_str(out, s.newest_delivered_stamp);
  put_varint(out, zigzag(s.last_run_ms));
  for (std::uint64_t c : s.counts) put_varint(out, c);
  put_varint(out, s.created);
  put_varint(out, s.updated);
  put_varint(out, s.deleted);
  put_varint(out, s.failed);
}

std::optional<service_state> decode_state(std::string_view in, std::string* why) {
  if (!check_version(in, why)) return std::nullopt;
  reader r(in.substr(1));
  service_state s;
  s.checkpoint_stamp = r.str("checkpoint_stamp");
  s.checkpoint_recno = unzigzag(r.varint("checkpoint_recno"));
  const std::uint8_t flags = r.byte("flags");
  if (r.ok() && (flags & ~1u) != 0) r.fail("flags", "unknown flag bits set");
  s.initial_load_complete = (flags & 1u) != 0;
  s.newest_delivered_stamp = r.str("newest_delivered_stamp");
  s.last_run_ms = unzigzag(r.varint("last_run_ms"));
  for (auto& c : s.counts) c = r.varint("counts");
  s.created = r.varint("created");
  s.updated = r.varint("updated");
  s.deleted = r.varint("deleted");
  s.failed = r.varint("failed");
  return finish(r, std::move(s), why);
}

std::string printable(std::string_view key) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (char ch : key) {
    if (out.size() >= 80) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

} // namespace stampede::value_codec
