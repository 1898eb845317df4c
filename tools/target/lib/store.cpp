#include "tools/target/lib/store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

namespace stampede::target {

std::string_view errc_code(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::not_found: return "not_found";
    case errc::validation: return "validation";
    case errc::bad_request: return "bad_request";
  }
  return "unknown";
}

std::string remote_id(std::uint32_t service, std::uint64_t n) {
  return std::to_string(service) + "-" + std::to_string(n);
}

bool parse_remote_id(std::string_view s, std::uint32_t& service, std::uint64_t& n) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  auto a = std::from_chars(s.data(), s.data() + dash, service);
  if (a.ec != std::errc{} || a.ptr != s.data() + dash || dash == 0) return false;
  auto b = std::from_chars(s.data() + dash + 1, s.data() + s.size(), n);
  return b.ec == std::errc{} && b.ptr == s.data() + s.size() && dash + 1 < s.size();
}

namespace {

// 4-byte big-endian service id followed by the key, in a per-thread buffer.
const std::string& composite(std::uint32_t service, std::string_view key, int slot = 0) {
  thread_local std::string buf[2];
  auto& b = buf[slot];
  b.resize(4 + key.size());
  b[0] = static_cast<char>(service >> 24);
  b[1] = static_cast<char>(service >> 16);
  b[2] = static_cast<char>(service >> 8);
  b[3] = static_cast<char>(service);
  if (!key.empty()) std::memcpy(b.data() + 4, key.data(), key.size());
  return b;
}

std::uint32_t service_of(std::string_view c) {
  return (std::uint32_t(static_cast<unsigned char>(c[0])) << 24) |
         (std::uint32_t(static_cast<unsigned char>(c[1])) << 16) |
         (std::uint32_t(static_cast<unsigned char>(c[2])) << 8) |
         std::uint32_t(static_cast<unsigned char>(c[3]));
}

std::uint64_t hash_of(std::string_view c) { return std::hash<std::string_view>{}(c); }
// High bits pick the shard, low bits the slot inside the shard's index.
std::size_t shard_of(std::uint64_t h, std::size_t shards) { return (h >> 52) % shards; }

}  // namespace

store::store() = default;

void store::set_data(record& r, std::string_view data, arena& mem) {
  if (data.size() > r.data_cap) {
    const std::size_t cap = data.size() + data.size() / 8;  // room for slightly larger updates
    r.data = static_cast<char*>(mem.alloc(cap ? cap : 1, 1));
    r.data_cap = static_cast<std::uint32_t>(cap);
  }
  if (!data.empty()) std::memcpy(r.data, data.data(), data.size());
  r.data_len = static_cast<std::uint32_t>(data.size());
}

store::record* store::insert_record(record_shard& sh, std::uint64_t h, std::string_view composite,
                                    std::uint64_t n, std::uint32_t version, bool deleted,
                                    std::string_view data) {
  auto* r = static_cast<record*>(sh.mem.alloc(sizeof(record), alignof(record)));
  r->composite = sh.mem.copy(composite);
  r->composite_len = static_cast<std::uint32_t>(composite.size());
  r->data = nullptr;
  r->data_len = r->data_cap = 0;
  r->n = n;
  r->version = version;
  r->deleted = deleted;
  set_data(*r, data, sh.mem);
  sh.index.insert(h, r);
  index_id(r);
  return r;
}

void store::prefetch(std::uint32_t service, std::string_view key) const {
  const std::string& ck = composite(service, key, 0);
  const std::uint64_t h = hash_of(ck);
  records_[shard_of(h, record_shards)].index.prefetch(h);
}

void store::index_id(const record* r) {
  auto& ids = ids_[r->n % aux_shards];
  const std::size_t pos = r->n / aux_shards;
  std::lock_guard lk(ids.mu);
  if (ids.by_n.size() <= pos) ids.by_n.resize(std::max(pos + 1, ids.by_n.size() * 2), nullptr);
  ids.by_n[pos] = r;
}

record_result store::apply(std::uint32_t service, const record_op& op,
                           const std::vector<rule>& rules, simdjson::dom::parser& parser,
                           stats_delta& d) {
  ++d.records;
  if (op.idempotency_key.empty()) return apply_unlocked_idem(service, op, rules, parser, d);
  const std::string& ik = composite(service, op.idempotency_key, 1);
  const std::uint64_t h = hash_of(ik);
  auto& sh = idem_[shard_of(h, aux_shards)];
  std::lock_guard lk(sh.mu);
  const stored_result* prev = sh.index.find(h, [&](const stored_result& r) { return r.key() == ik; });
  if (prev) {
    ++d.replays;
    return record_result{prev->code, prev->n, std::string(prev->message, prev->message_len), true};
  }
  auto res = apply_unlocked_idem(service, op, rules, parser, d);  // uses buffer slot 0 only
  auto* sr = static_cast<stored_result*>(sh.mem.alloc(sizeof(stored_result), alignof(stored_result)));
  *sr = stored_result{sh.mem.copy(ik), sh.mem.copy(res.message), res.n,
                      static_cast<std::uint32_t>(ik.size()),
                      static_cast<std::uint32_t>(res.message.size()), res.code};
  sh.index.insert(h, sr);
  return res;
}

record_result store::apply_unlocked_idem(std::uint32_t service, const record_op& op,
                                         const std::vector<rule>& rules,
                                         simdjson::dom::parser& parser, stats_delta& d) {
  std::string_view data = op.data.empty() ? std::string_view("{}") : op.data;
  if (op.op != op_kind::del && !rules.empty()) {
    std::string msg = check_rules(rules, data, parser);
    if (!msg.empty()) {
      ++d.record_errors;
      return record_result{errc::validation, 0, std::move(msg), false};
    }
  }
  const std::string& ck = composite(service, op.key, 0);
  const std::uint64_t h = hash_of(ck);
  auto& sh = records_[shard_of(h, record_shards)];
  std::lock_guard lk(sh.mu);
  record* r = sh.index.find(h, [&](const record& x) { return x.key() == ck; });
  switch (op.op) {
    case op_kind::create: {
      if (!r) {
        const record* ins = insert_record(sh, h, ck, next_n_.fetch_add(1, std::memory_order_relaxed),
                                          1, false, data);
        ++d.creates;
        ++d.live_keys;
        return record_result{errc::ok, ins->n, {}, false};
      }
      if (!r->deleted) {
        ++d.duplicates;
        return record_result{errc::ok, r->n, {}, false};
      }
      r->deleted = false;  // revive a deleted key under its old id
      ++r->version;
      set_data(*r, data, sh.mem);
      ++d.creates;
      ++d.live_keys;
      return record_result{errc::ok, r->n, {}, false};
    }
    case op_kind::update: {
      if (!r || r->deleted) {
        ++d.record_errors;
        return record_result{errc::not_found, 0,
                             "update of unknown or deleted key '" + std::string(op.key) + "'",
                             false};
      }
      if (r->json() == data) ++d.unchanged_updates;  // a repeat under a new idempotency key
      ++r->version;
      set_data(*r, data, sh.mem);
      ++d.updates;
      return record_result{errc::ok, r->n, {}, false};
    }
    case op_kind::del: {
      if (!r) {
        ++d.record_errors;
        return record_result{errc::not_found, 0,
                             "delete of unknown key '" + std::string(op.key) + "'", false};
      }
      if (r->deleted) {
        ++d.duplicates;
        return record_result{errc::ok, r->n, {}, false};
      }
      r->deleted = true;
      ++r->version;
      ++d.deletes;
      --d.live_keys;
      return record_result{errc::ok, r->n, {}, false};
    }
  }
  return record_result{errc::bad_request, 0, "unknown operation", false};
}

std::optional<record_snapshot> store::get(std::uint32_t service, std::string_view key) const {
  const std::string& ck = composite(service, key, 0);
  const std::uint64_t h = hash_of(ck);
  auto& sh = records_[shard_of(h, record_shards)];
  std::lock_guard lk(sh.mu);
  const record* r = sh.index.find(h, [&](const record& x) { return x.key() == ck; });
  if (!r) return std::nullopt;
  return record_snapshot{std::string(key), r->n, r->version, r->deleted, std::string(r->json())};
}

std::vector<record_snapshot> store::all(std::uint32_t service) const {
  std::vector<record_snapshot> out;
  for (const auto& sh : records_) {
    std::lock_guard lk(sh.mu);
    sh.index.for_each([&](const record& r) {
      if (service_of(r.key()) == service)
        out.push_back(record_snapshot{std::string(r.key().substr(4)), r.n, r.version, r.deleted,
                                      std::string(r.json())});
    });
  }
  std::sort(out.begin(), out.end(),
            [](const record_snapshot& a, const record_snapshot& b) { return a.key < b.key; });
  return out;
}

std::optional<std::string> store::key_of(std::uint32_t service, std::uint64_t n) const {
  auto& ids = ids_[n % aux_shards];
  const std::size_t pos = n / aux_shards;
  std::lock_guard lk(ids.mu);
  if (pos >= ids.by_n.size() || !ids.by_n[pos]) return std::nullopt;
  const record* r = ids.by_n[pos];
  // The record's composite key never changes once inserted; only clear() frees it,
  // and clear() takes this shard's mutex before freeing.
  if (service_of(r->key()) != service) return std::nullopt;
  return std::string(r->key().substr(4));
}

void store::clear() {
  // Same lock order as apply(): idempotency, records, ids. The id index is
  // emptied before the records it points at are freed.
  std::array<std::unique_lock<std::mutex>, aux_shards> idem_locks;
  for (std::size_t i = 0; i < aux_shards; ++i) idem_locks[i] = std::unique_lock(idem_[i].mu);
  std::array<std::unique_lock<std::mutex>, record_shards> rec_locks;
  for (std::size_t i = 0; i < record_shards; ++i) rec_locks[i] = std::unique_lock(records_[i].mu);
  for (auto& s : ids_) {
    std::lock_guard lk(s.mu);
    std::vector<const record*>().swap(s.by_n);
  }
  for (auto& s : records_) {
    s.index.clear();
    s.mem.clear();
  }
  for (auto& s : idem_) {
    s.index.clear();
    s.mem.clear();
  }
  next_n_.store(1);
}

// ---- persistence ------------------------------------------------------------
namespace {

constexpr char magic[8] = {'S', 'T', 'P', 'T', 'G', 'T', '1', '\n'};

struct writer {
  std::FILE* f;
  void bytes(const void* p, std::size_t n) {
    if (n && std::fwrite(p, 1, n, f) != n) throw std::runtime_error("write failed");
  }
  void u8(std::uint8_t v) { bytes(&v, 1); }
  void u32(std::uint32_t v) { bytes(&v, 4); }
  void u64(std::uint64_t v) { bytes(&v, 8); }
  void str(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
};

struct reader {
  std::FILE* f;
  void bytes(void* p, std::size_t n) {
    if (n && std::fread(p, 1, n, f) != n) throw std::runtime_error("truncated file");
  }
  std::uint8_t u8() { std::uint8_t v; bytes(&v, 1); return v; }
  std::uint32_t u32() { std::uint32_t v; bytes(&v, 4); return v; }
  std::uint64_t u64() { std::uint64_t v; bytes(&v, 8); return v; }
  std::string str() {
    auto n = u64();
    if (n > (1ull << 32)) throw std::runtime_error("implausible string length");
    std::string s(n, '\0');
    bytes(s.data(), n);
    return s;
  }
};

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

void store::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(tmp.c_str(), "wb"));
  if (!f) {
    throw std::runtime_error("cannot write state file '" + tmp + "': " + std::strerror(errno) +
                             " (check the directory exists and is writable)");
  }
  try {
    writer w{f.get()};
    w.bytes(magic, sizeof magic);
    w.u64(next_n_.load());
    for (const auto& s : records_) {
      std::lock_guard lk(s.mu);
      s.index.for_each([&](const record& r) {
        w.u8('R');
        w.str(r.key());
        w.u64(r.n);
        w.u32(r.version);
        w.u8(r.deleted ? 1 : 0);
        w.str(r.json());
      });
    }
    for (const auto& s : idem_) {
      std::lock_guard lk(s.mu);
      s.index.for_each([&](const stored_result& r) {
        w.u8('I');
        w.str(r.key());
        w.u8(static_cast<std::uint8_t>(r.code));
        w.u64(r.n);
        w.str(std::string_view(r.message, r.message_len));
      });
    }
    w.u8('E');
    if (std::fflush(f.get()) != 0) throw std::runtime_error("flush failed");
  } catch (const std::runtime_error& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write state file '" + tmp + "': " + e.what());
  }
  f.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " +
                             std::strerror(errno));
  }
}

bool store::load(const std::string& path, stats& st) {
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    if (errno == ENOENT) return false;
    throw std::runtime_error("cannot read state file '" + path + "': " + std::strerror(errno));
  }
  clear();
  std::map<std::uint32_t, std::int64_t> live;
  try {
    reader r{f.get()};
    char m[sizeof magic];
    r.bytes(m, sizeof m);
    if (std::memcmp(m, magic, sizeof magic) != 0) throw std::runtime_error("not a state file");
    next_n_.store(r.u64());
    while (true) {
      const auto tag = r.u8();
      if (tag == 'E') break;
      if (tag == 'R') {
        const std::string k = r.str();
        if (k.size() < 4) throw std::runtime_error("bad record key");
        const std::uint64_t n = r.u64();
        const std::uint32_t version = r.u32();
        const bool deleted = r.u8() != 0;
        const std::string data = r.str();
        if (!deleted) ++live[service_of(k)];
        const std::uint64_t h = hash_of(k);
        auto& sh = records_[shard_of(h, record_shards)];
        std::lock_guard lk(sh.mu);
        if (sh.index.find(h, [&](const record& x) { return x.key() == k; })) {
          throw std::runtime_error("duplicate record key");
        }
        insert_record(sh, h, k, n, version, deleted, data);
      } else if (tag == 'I') {
        const std::string k = r.str();
        const auto code = r.u8();
        if (code > static_cast<std::uint8_t>(errc::bad_request)) throw std::runtime_error("bad result code");
        const std::uint64_t n = r.u64();
        const std::string msg = r.str();
        const std::uint64_t h = hash_of(k);
        auto& sh = idem_[shard_of(h, aux_shards)];
        std::lock_guard lk(sh.mu);
        auto* sr = static_cast<stored_result*>(sh.mem.alloc(sizeof(stored_result), alignof(stored_result)));
        *sr = stored_result{sh.mem.copy(k), sh.mem.copy(msg), n, static_cast<std::uint32_t>(k.size()),
                            static_cast<std::uint32_t>(msg.size()), static_cast<errc>(code)};
        sh.index.insert(h, sr);
      } else {
        throw std::runtime_error("unknown entry tag");
      }
    }
  } catch (const std::runtime_error& e) {
    clear();
    throw std::runtime_error("state file '" + path + "' is corrupt (" + e.what() +
                             "); delete it or point --state-file elsewhere");
  }
  for (const auto& [svc, n] : live) st.set_live(svc, n);
  return true;
}

}  // namespace stampede::target
