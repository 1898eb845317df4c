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

/// The value's format version (1 or 2), or 0 with `why` set.
unsigned check_version(std::string_view in, std::string* why, unsigned oldest = 1,
                       unsigned newest = value_format_version) {
  if (in.empty()) {
    if (why) *why = "empty value";
    return 0;
  }
  const auto v = static_cast<unsigned char>(in.front());
  if (v < oldest || v > newest) {
    if (why) *why = "unknown value format version " + std::to_string(v) +
                    " (this build reads versions " + std::to_string(oldest) + " to " +
                    std::to_string(newest) + ")";
    return 0;
  }
  return v;
}

std::uint32_t u32(reader& r, const char* field) {
  const std::uint64_t v = r.varint(field);
  if (r.ok() && v > UINT32_MAX) r.fail(field, "value exceeds 32 bits");
  return static_cast<std::uint32_t>(v);
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
  // v3 only when there is something v3 adds: a store without returned
  // values stays readable by a build that knows v2.
  out.push_back(static_cast<char>(e.returned.empty() ? value_format_version : entry_format_v3));
  put_fixed64(out, e.content_hash);
  put_str(out, e.remote_id);
  out.push_back(static_cast<char>(e.status));
  put_varint(out, e.attempts);
  put_str(out, e.last_stamp);
  out.push_back(static_cast<char>(e.last_op));
  put_varint(out, zigzag(e.updated_ms));
  put_str(out, e.last_error);
  put_varint(out, zigzag(e.created_ms));
  put_str(out, e.changed_by);
  put_varint(out, e.generation);
  put_str(out, e.batch_id);
  put_varint(out, e.items);
  if (e.returned.empty()) return;
  put_varint(out, e.returned.size());
  for (const auto& [name, value] : e.returned) {
    put_str(out, name);
    put_str(out, value);
  }
}

std::optional<ledger_entry> decode_entry(std::string_view in, std::string* why) {
  const unsigned version = check_version(in, why, 1, entry_format_v3);
  if (!version) return std::nullopt;
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
  if (version >= 2) {
    e.created_ms = unzigzag(r.varint("created_ms"));
    e.changed_by = r.str("changed_by");
    e.generation = u32(r, "generation");
    e.batch_id = r.str("batch_id");
    e.items = u32(r, "items");
  }
  if (version >= 3) {
    const std::uint64_t n = r.varint("returned");
    if (r.ok() && (n == 0 || n > max_returned_values))
      r.fail("returned", "count out of range (v3 entries hold 1..64 returned values)");
    for (std::uint64_t i = 0; r.ok() && i < n; ++i) {
      std::string name = r.str("returned name");
      std::string value = r.str("returned value");
      e.returned.emplace_back(std::move(name), std::move(value));
    }
  }
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
  put_varint(out, s.replays.size());
  for (const auto& rr : s.replays) {
    put_str(out, rr.from);
    put_str(out, rr.to);
    put_varint(out, rr.generation);
    put_str(out, rr.by);
  }
  put_str(out, s.last_error);
  put_varint(out, zigzag(s.last_error_ms));
  put_varint(out, s.consecutive_failures);
}

std::optional<service_state> decode_state(std::string_view in, std::string* why) {
  const unsigned version = check_version(in, why);
  if (!version) return std::nullopt;
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
  if (version >= 2) {
    const std::uint64_t n = r.varint("replays");
    if (r.ok() && n > r.remaining()) r.fail("replays", "count exceeds value size");
    for (std::uint64_t i = 0; r.ok() && i < n; ++i) {
      replay_range rr;
      rr.from = r.str("replays.from");
      rr.to = r.str("replays.to");
      rr.generation = u32(r, "replays.generation");
      rr.by = r.str("replays.by");
      s.replays.push_back(std::move(rr));
    }
    s.last_error = r.str("last_error");
    s.last_error_ms = unzigzag(r.varint("last_error_ms"));
    s.consecutive_failures = u32(r, "consecutive_failures");
  }
  return finish(r, std::move(s), why);
}

void encode_item(std::string& out, const log_item& it) {
  out.push_back(static_cast<char>(value_format_version));
  put_varint(out, zigzag(it.time_ms));
  out.push_back(static_cast<char>(it.status));
  out.push_back(static_cast<char>(it.op));
  put_varint(out, it.attempt);
  put_varint(out, zigzag(it.http_status));
  put_str(out, it.message);
  put_str(out, it.sent);
  put_str(out, it.received);
  put_str(out, it.by);
}

std::optional<log_item> decode_item(std::string_view in, std::string* why) {
  if (!check_version(in, why, 2)) return std::nullopt;
  reader r(in.substr(1));
  log_item it;
  it.time_ms = unzigzag(r.varint("time_ms"));
  const std::uint8_t status = r.byte("status");
  if (r.ok() && status > static_cast<std::uint8_t>(record_status::cancelled))
    r.fail("status", "record status out of range");
  it.status = static_cast<record_status>(status);
  it.op = r.byte("op");
  if (r.ok() && it.op > 2) r.fail("op", "record op out of range");
  it.attempt = u32(r, "attempt");
  it.http_status = static_cast<int>(unzigzag(r.varint("http_status")));
  it.message = r.str("message");
  it.sent = r.str("sent");
  it.received = r.str("received");
  it.by = r.str("by");
  return finish(r, std::move(it), why);
}

void encode_batch(std::string& out, const pending_batch& b) {
  out.push_back(static_cast<char>(value_format_version));
  put_str(out, b.batch_id);
  put_varint(out, zigzag(b.submitted_ms));
  put_varint(out, b.records.size());
  for (const auto& p : b.records) {
    put_str(out, p.key);
    out.push_back(static_cast<char>(p.op));
    put_fixed64(out, p.content_hash);
    put_str(out, p.remote_id);
    put_str(out, p.stamp);
    put_varint(out, zigzag(p.recno));
    put_varint(out, p.attempts);
    put_varint(out, zigzag(p.prior_status));
    put_varint(out, p.generation);
    put_str(out, p.idempotency_key);
  }
}

std::optional<pending_batch> decode_batch(std::string_view in, std::string* why) {
  if (!check_version(in, why, 2)) return std::nullopt;
  reader r(in.substr(1));
  pending_batch b;
  b.batch_id = r.str("batch_id");
  b.submitted_ms = unzigzag(r.varint("submitted_ms"));
  const std::uint64_t n = r.varint("records");
  if (r.ok() && n > r.remaining()) r.fail("records", "count exceeds value size");
  for (std::uint64_t i = 0; r.ok() && i < n; ++i) {
    pending_record p;
    p.key = r.str("key");
    p.op = r.byte("op");
    if (r.ok() && p.op > 2) r.fail("op", "record op out of range");
    p.content_hash = r.fixed64("content_hash");
    p.remote_id = r.str("remote_id");
    p.stamp = r.str("stamp");
    p.recno = unzigzag(r.varint("recno"));
    p.attempts = u32(r, "attempts");
    const std::int64_t ps = unzigzag(r.varint("prior_status"));
    if (r.ok() && (ps < -1 || ps > 3)) r.fail("prior_status", "record status out of range");
    p.prior_status = static_cast<std::int8_t>(ps);
    p.generation = u32(r, "generation");
    p.idempotency_key = r.str("idempotency_key");
    b.records.push_back(std::move(p));
  }
  return finish(r, std::move(b), why);
}

void encode_event(std::string& out, const service_event& e) {
  out.push_back(static_cast<char>(value_format_version));
  put_varint(out, zigzag(e.time_ms));
  put_str(out, e.by);
  put_str(out, e.text);
}

std::optional<service_event> decode_event(std::string_view in, std::string* why) {
  if (!check_version(in, why, 2)) return std::nullopt;
  reader r(in.substr(1));
  service_event e;
  e.time_ms = unzigzag(r.varint("time_ms"));
  e.by = r.str("by");
  e.text = r.str("text");
  return finish(r, std::move(e), why);
}

void encode_target(std::string& out, const target_health& t) {
  out.push_back(static_cast<char>(value_format_version));
  put_str(out, t.target);
  out.push_back(static_cast<char>(t.breaker));
  put_varint(out, t.consecutive_failures);
  put_str(out, t.last_failure);
  put_varint(out, zigzag(t.changed_ms));
  put_varint(out, zigzag(t.retry_at_ms));
}

std::optional<target_health> decode_target(std::string_view in, std::string* why) {
  if (!check_version(in, why, 2)) return std::nullopt;
  reader r(in.substr(1));
  target_health t;
  t.target = r.str("target");
  t.breaker = r.byte("breaker");
  t.consecutive_failures = u32(r, "consecutive_failures");
  t.last_failure = r.str("last_failure");
  t.changed_ms = unzigzag(r.varint("changed_ms"));
  t.retry_at_ms = unzigzag(r.varint("retry_at_ms"));
  return finish(r, std::move(t), why);
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
