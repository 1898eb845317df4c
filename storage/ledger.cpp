// The RocksDB state store; see ledger.hpp for the contract and
// docs/state-store.md for formats, atomicity and tuning.
#include "storage/ledger.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/key_codec.hpp"
#include "storage/store_options.hpp"
#include "storage/value_codec.hpp"

namespace stampede {

std::string_view to_string(record_status s) {
  switch (s) {
    case record_status::pending: return "pending";
    case record_status::success: return "success";
    case record_status::error: return "error";
    case record_status::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

namespace fs = std::filesystem;
using namespace storage_detail;

constexpr std::string_view schema_key = "schema";
constexpr std::string_view target_prefix = "target/";  // meta: + name -> target_health
constexpr std::string_view setup_prefix = "setup/";    // meta: + name -> setup requests' hash

store_error status_error(const rocksdb::Status& s, const std::string& dir, const std::string& doing) {
  const std::string said = s.ToString();
  if (s.IsIOError() && said.find("LOCK") != std::string::npos)
    return store_error(store_errc::locked,
                       "state dir '" + dir + "' is locked: another `stampede run` probably uses this "
                       "state dir (stop it, or give this run its own state.dir). RocksDB said: " + said);
  if (s.IsCorruption())
    return store_error(store_errc::corruption,
                       doing + " failed: state dir '" + dir + "' is corrupt (" + said +
                       "). Restore a backup, or move the dir away to start over with a full reload.");
  if (s.IsInvalidArgument() || s.IsNotSupported())
    return store_error(store_errc::bad_format,
                       doing + " failed: state dir '" + dir + "' is not a usable stampede state store (" +
                       said + ").");
  return store_error(store_errc::io_error, doing + " failed in state dir '" + dir + "': " + said);
}

void check_service(std::uint32_t service) {
  if (service > 0xFFFF)
    throw std::invalid_argument("service id " + std::to_string(service) +
                                " is out of range: service ids are 1..65535");
}

std::string service_prefix(std::uint32_t service) {
  std::string p;
  key_codec::put_u16(p, static_cast<std::uint16_t>(service));
  return p;
}

class rocksdb_store final : public state_store {
public:
  rocksdb_store(std::string dir, bool read_only) : dir_(std::move(dir)), read_only_(read_only) {}

  ~rocksdb_store() override {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  void open() {
    const store_tuning tuning;
    cache_ = make_block_cache(tuning);
    const rocksdb::DBOptions dbo = make_db_options(tuning, read_only_);

    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(dbo, dir_, &names).ok()) names.clear();  // new DB
    const bool existed = !names.empty();
    for (const char* ours : {cf_ledger, cf_checkpoints, cf_meta, cf_log_items, cf_resend,
                             cf_batches, cf_events}) {
      if (std::find(names.begin(), names.end(), ours) != names.end()) continue;
      // A schema-1 store has no v2 families yet: read-only opens see them empty.
      const bool v2_family = std::string_view(ours) != cf_ledger &&
                             std::string_view(ours) != cf_checkpoints && std::string_view(ours) != cf_meta;
      if (read_only_ && v2_family) continue;
      if (read_only_)
        throw store_error(store_errc::bad_format,
                          "state dir '" + dir_ + "' has no column family '" + ours +
                          "': it is not a stampede state store (or was never opened by `stampede run`)");
      names.emplace_back(ours);
    }
    if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end())
      names.emplace_back(rocksdb::kDefaultColumnFamilyName);

    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& n : names) descs.emplace_back(n, make_cf_options(tuning, n, cache_));

    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = read_only_
        ? rocksdb::DB::OpenForReadOnly(dbo, dir_, descs, &handles_, &raw)
        : rocksdb::DB::Open(dbo, dir_, descs, &handles_, &raw);
    if (!s.ok()) throw status_error(s, dir_, read_only_ ? "opening read-only" : "opening");
    db_.reset(raw);

    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == cf_ledger) ledger_ = handles_[i];
      else if (names[i] == cf_checkpoints) checkpoints_ = handles_[i];
      else if (names[i] == cf_meta) meta_ = handles_[i];
      else if (names[i] == cf_log_items) items_ = handles_[i];
      else if (names[i] == cf_resend) resend_ = handles_[i];
      else if (names[i] == cf_batches) batches_ = handles_[i];
      else if (names[i] == cf_events) events_ = handles_[i];
    }
    check_schema(existed);
  }

  std::vector<std::optional<ledger_entry>>
  get_many(std::uint32_t service, const std::vector<std::string_view>& keys) override {
    check_service(service);
    const std::size_t n = keys.size();
    std::vector<std::optional<ledger_entry>> out(n);
    if (n == 0) return out;

    std::vector<std::string> encoded(n);
    std::vector<rocksdb::Slice> slices(n);
    for (std::size_t i = 0; i < n; ++i) {
      encoded[i] = key_codec::ledger_key(service, keys[i]);
      slices[i] = encoded[i];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), ledger_, n, slices.data(), values.data(),
                  statuses.data(), false);
    for (std::size_t i = 0; i < n; ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) throw status_error(statuses[i], dir_, "reading the ledger");
      out[i] = decode_entry(service, keys[i], values[i].ToStringView());
    }
    return out;
  }

  std::optional<ledger_entry> get(std::uint32_t service, std::string_view key) override {
    check_service(service);
    rocksdb::PinnableSlice value;
    const auto s = db_->Get(rocksdb::ReadOptions(), ledger_, key_codec::ledger_key(service, key), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) throw status_error(s, dir_, "reading the ledger");
    return decode_entry(service, key, value.ToStringView());
  }

  service_state load_state(std::uint32_t service) override {
    check_service(service);
    rocksdb::PinnableSlice value;
    const auto s = db_->Get(rocksdb::ReadOptions(), checkpoints_, service_prefix(service), &value);
    if (s.IsNotFound()) return {};
    if (!s.ok()) throw status_error(s, dir_, "reading the checkpoint");
    std::string why;
    auto st = value_codec::decode_state(value.ToStringView(), &why);
    if (!st)
      throw store_error(store_errc::corruption,
                        "state (checkpoint) of service " + std::to_string(service) + " in state dir '" +
                            dir_ + "' is corrupt: " + why + ". " + start_over_hint);
    return std::move(*st);
  }

  void commit(std::uint32_t service, const std::vector<std::pair<std::string, ledger_entry>>& updates,
              const service_state& state, bool sync) override {
    state_changes c;
    c.ledger = updates;  // copy: commit() is the old, small-batch entry point
    apply(service, c, state, sync);
  }

  void apply(std::uint32_t service, const state_changes& c, const service_state& state,
             bool sync) override {
    check_service(service);
    if (read_only_)
      throw store_error(store_errc::io_error,
                        "state dir '" + dir_ + "' is open read-only: commit is not allowed");
    const auto& updates = c.ledger;
    std::size_t reserve = 64 + state.checkpoint_stamp.size() + state.newest_delivered_stamp.size();
    for (const auto& [k, e] : updates)
      reserve += 64 + k.size() + e.remote_id.size() + e.last_stamp.size() + e.last_error.size() +
                 e.changed_by.size() + e.batch_id.size();

    // Keys go into the batch in key order: the memtable skiplist then reuses
    // its insertion point from one key to the next, which is much cheaper
    // than 1000 independent searches. stable_sort keeps the last of duplicate
    // keys last, so it still wins.
    const std::string prefix = service_prefix(service);
    std::vector<std::string> keys(updates.size());
    std::vector<std::uint32_t> order(updates.size());
    for (std::size_t i = 0; i < updates.size(); ++i) {
      keys[i].reserve(prefix.size() + updates[i].first.size() + 4);
      keys[i].assign(prefix);
      key_codec::put_string(keys[i], updates[i].first);
      order[i] = static_cast<std::uint32_t>(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });

    rocksdb::WriteBatch batch(reserve);
    std::string value;
    for (const std::uint32_t i : order) {
      value.clear();
      value_codec::encode_entry(value, updates[i].second);
      check_write(batch.Put(ledger_, keys[i], value));
    }
    auto record_key = [&](std::string_view k) {
      std::string out = prefix;
      key_codec::put_string(out, k);
      return out;
    };
    for (const auto& it : c.items) {
      std::string k = record_key(it.key);
      key_codec::put_u32(k, it.no);
      value.clear();
      value_codec::encode_item(value, it.value);
      check_write(batch.Put(v2(items_), k, value));
    }
    for (const auto& [key, no] : c.items_erase) {
      std::string k = record_key(key);
      key_codec::put_u32(k, no);
      check_write(batch.Delete(v2(items_), k));
    }
    for (const auto& [key, due] : c.resend) {
      value.clear();
      key_codec::put_i64(value, due);
      check_write(batch.Put(v2(resend_), record_key(key), value));
    }
    for (const auto& key : c.resend_erase) check_write(batch.Delete(v2(resend_), record_key(key)));
    for (const auto& b : c.batches) {
      value.clear();
      value_codec::encode_batch(value, b);
      check_write(batch.Put(v2(batches_), record_key(b.batch_id), value));
    }
    for (const auto& id : c.batches_erase) check_write(batch.Delete(v2(batches_), record_key(id)));
    for (const auto& e : c.events) {
      std::string k = prefix;
      key_codec::put_i64(k, e.time_ms);
      key_codec::put_u32(k, event_seq_.fetch_add(1, std::memory_order_relaxed));
      value.clear();
      value_codec::encode_event(value, e);
      check_write(batch.Put(v2(events_), k, value));
    }
    value.clear();
    value_codec::encode_state(value, state);
    check_write(batch.Put(checkpoints_, prefix, value));

    rocksdb::WriteOptions wo;
    wo.sync = sync;
    check_writable();
    const auto s = db_->Write(wo, &batch);
    if (!s.ok())
      throw write_failed(status_error(s, dir_, "committing " + std::to_string(updates.size()) +
                                                   " ledger entries and the checkpoint of service " +
                                                   std::to_string(service)));
  }

  void scan_items(std::uint32_t service, std::string_view key,
                  const std::function<bool(std::uint32_t, const log_item&)>& fn) override {
    std::string lower = service_prefix(service);
    key_codec::put_string(lower, key);
    scan_prefix(items_, lower, "log items", [&](std::string_view rest, std::string_view value) {
      auto no = key_codec::get_u32(rest);
      if (!no || !rest.empty()) return corrupt_key("log items", service);
      std::string why;
      auto it = value_codec::decode_item(value, &why);
      if (!it) return corrupt_value("log item", service, key, why);
      return fn(*no, *it);
    });
  }

  void scan_resend(std::uint32_t service,
                   const std::function<bool(std::string_view, std::int64_t)>& fn) override {
    scan_prefix(resend_, service_prefix(service), "resend queue",
                [&](std::string_view rest, std::string_view value) {
                  auto key = key_codec::get_string(rest);
                  auto due = key_codec::get_i64(value);
                  if (!key || !rest.empty()) return corrupt_key("resend queue", service);
                  if (!due || !value.empty())
                    return corrupt_value("resend queue entry", service, *key, "bad due time");
                  return fn(*key, *due);
                });
  }

  std::vector<pending_batch> pending_batches(std::uint32_t service) override {
    std::vector<pending_batch> out;
    scan_prefix(batches_, service_prefix(service), "pending batches",
                [&](std::string_view rest, std::string_view value) {
                  auto id = key_codec::get_string(rest);
                  if (!id || !rest.empty()) return corrupt_key("pending batches", service);
                  std::string why;
                  auto b = value_codec::decode_batch(value, &why);
                  if (!b) return corrupt_value("pending batch", service, *id, why);
                  out.push_back(std::move(*b));
                  return true;
                });
    return out;
  }

  void scan_events(std::uint32_t service,
                   const std::function<bool(const service_event&)>& fn) override {
    scan_prefix(events_, service_prefix(service), "events",
                [&](std::string_view rest, std::string_view value) {
                  std::string why;
                  auto e = value_codec::decode_event(value, &why);
                  if (!e) return corrupt_value("event", service, value_codec::printable(rest), why);
                  return fn(*e);
                });
  }

  void scan(std::uint32_t service,
            const std::function<bool(std::string_view, const ledger_entry&)>& fn) override {
    check_service(service);
    const std::string lower = service_prefix(service);
    const std::string upper = service < 0xFFFF ? service_prefix(service + 1) : std::string();
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;            // a full scan must not evict the hot working set
    ro.readahead_size = 1u << 20;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;

    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, ledger_));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      std::string_view k = it->key().ToStringView();
      if (!k.starts_with(lower)) break;  // only reachable for service 65535
      k.remove_prefix(lower.size());
      std::string_view rest = k;
      auto record_key = key_codec::get_string(rest);
      if (!record_key || !rest.empty())
        throw store_error(store_errc::corruption,
                          "ledger of service " + std::to_string(service) + " in state dir '" + dir_ +
                              "' has a malformed key '" + value_codec::printable(k) + "'. " +
                              start_over_hint);
      const ledger_entry e = decode_entry(service, *record_key, it->value().ToStringView());
      if (!fn(*record_key, e)) return;
    }
    if (!it->status().ok()) throw status_error(it->status(), dir_, "scanning the ledger");
  }

  std::vector<std::uint32_t> services() override {
    std::vector<std::uint32_t> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = it->key().ToStringView();
      auto id = key_codec::get_u16(k);
      if (!id || !k.empty())
        throw store_error(store_errc::corruption,
                          "checkpoints of state dir '" + dir_ + "' hold a malformed key '" +
                              value_codec::printable(it->key().ToStringView()) + "'. " + start_over_hint);
      out.push_back(*id);
    }
    if (!it->status().ok()) throw status_error(it->status(), dir_, "listing services");
    return out;
  }

  void put_target(const target_health& t) override {
    if (read_only_) throw store_error(store_errc::io_error, "state dir '" + dir_ + "' is open read-only");
    std::string value;
    value_codec::encode_target(value, t);
    check_writable();
    const auto s = db_->Put(rocksdb::WriteOptions(), meta_, std::string(target_prefix) + t.target, value);
    if (!s.ok()) throw write_failed(status_error(s, dir_, "writing the health of target " + t.target));
  }

  std::optional<std::string> setup_hash(const std::string& target) override {
    std::string v;
    const auto s = db_->Get(rocksdb::ReadOptions(), meta_, std::string(setup_prefix) + target, &v);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) throw status_error(s, dir_, "reading the setup hash of target " + target);
    return v;
  }

  void put_setup_hash(const std::string& target, const std::string& hash) override {
    if (read_only_) throw store_error(store_errc::io_error, "state dir '" + dir_ + "' is open read-only");
    check_writable();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const auto s = db_->Put(wo, meta_, std::string(setup_prefix) + target, hash);
    if (!s.ok()) throw write_failed(status_error(s, dir_, "writing the setup hash of target " + target));
  }

  std::vector<target_health> targets() override {
    std::vector<target_health> out;
    scan_prefix(meta_, std::string(target_prefix), "targets",
                [&](std::string_view name, std::string_view value) {
                  std::string why;
                  auto t = value_codec::decode_target(value, &why);
                  if (!t)
                    throw store_error(store_errc::corruption,
                                      "target health '" + value_codec::printable(name) + "' in state dir '" +
                                          dir_ + "' is corrupt: " + why + ". " + start_over_hint);
                  out.push_back(std::move(*t));
                  return true;
                });
    return out;
  }

private:
  /// A v2 family for writing (always present on read-write opens).
  rocksdb::ColumnFamilyHandle* v2(rocksdb::ColumnFamilyHandle* h) const {
    if (!h) throw store_error(store_errc::bad_format, "state dir '" + dir_ + "' lacks a v2 column family");
    return h;
  }

  /// fn(key after `lower`, value) for every key starting with `lower`; a
  /// missing family (schema-1 store opened read-only) is empty.
  void scan_prefix(rocksdb::ColumnFamilyHandle* cf, const std::string& lower, const char* what,
                   const std::function<bool(std::string_view, std::string_view)>& fn) {
    if (!cf) return;
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      std::string_view k = it->key().ToStringView();
      if (!k.starts_with(lower)) break;
      k.remove_prefix(lower.size());
      if (!fn(k, it->value().ToStringView())) return;
    }
    if (!it->status().ok()) throw status_error(it->status(), dir_, std::string("scanning the ") + what);
  }

  bool corrupt_key(const char* what, std::uint32_t service) const {
    throw store_error(store_errc::corruption, std::string(what) + " of service " + std::to_string(service) +
                                                  " in state dir '" + dir_ + "' hold a malformed key. " +
                                                  start_over_hint);
  }

  bool corrupt_value(const char* what, std::uint32_t service, std::string_view key,
                     const std::string& why) const {
    throw store_error(store_errc::corruption, std::string(what) + " of service " + std::to_string(service) +
                                                  " key '" + value_codec::printable(key) + "' in state dir '" +
                                                  dir_ + "' is corrupt: " + why + ". " + start_over_hint);
  }

  static constexpr const char* start_over_hint =
      "Restore a backup of the state dir, or move it away to start over (a full reload follows).";

  ledger_entry decode_entry(std::uint32_t service, std::string_view key, std::string_view value) const {
    std::string why;
    auto e = value_codec::decode_entry(value, &why);
    if (!e)
      throw store_error(store_errc::corruption,
                        "ledger entry of service " + std::to_string(service) + " key '" +
                            value_codec::printable(key) + "' in state dir '" + dir_ +
                            "' is corrupt: " + why + ". " + start_over_hint);
    return std::move(*e);
  }

  // After a failed write (a full disk: "No space left on device") RocksDB's
  // WAL writer keeps an error state, and a later write -- a synced one in
  // particular -- trips an assertion inside RocksDB (SIGABRT). So the first
  // failed write poisons this store: every later write throws that same
  // error at once without touching RocksDB. Reopening (the next run)
  // recovers from the WAL.
  void check_writable() const {
    std::lock_guard lk(poison_mu_);
    if (poisoned_)
      throw store_error(poisoned_->code, std::string(poisoned_->what()) +
                                             " (an earlier write failed; nothing more is written "
                                             "until the state store is reopened)");
  }
  store_error write_failed(store_error e) {
    std::lock_guard lk(poison_mu_);
    if (!poisoned_ && e.code == store_errc::io_error) poisoned_ = e;
    return e;
  }

  void check_write(const rocksdb::Status& s) const {
    if (!s.ok()) throw status_error(s, dir_, "building the commit batch");
  }

  void check_schema(bool existed) {
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), meta_, schema_key, &value);
    if (s.IsNotFound()) {
      // A brand-new store (or one killed right after creation): stamp it.
      if (read_only_) return;
      rocksdb::WriteOptions wo;
      wo.sync = true;
      const auto w = db_->Put(wo, meta_, schema_key, std::to_string(state_schema_version));
      if (!w.ok()) throw status_error(w, dir_, existed ? "writing the schema version" : "creating the store");
      return;
    }
    if (!s.ok()) throw status_error(s, dir_, "reading the schema version");
    std::uint32_t version = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
    if (ec != std::errc() || end != value.data() + value.size() || version == 0)
      throw store_error(store_errc::bad_format,
                        "state dir '" + dir_ + "' has an unreadable schema version '" +
                            value_codec::printable(value) + "' in meta/schema: it is not a stampede state store");
    if (version > state_schema_version)
      throw store_error(store_errc::bad_format,
                        "state dir '" + dir_ + "' was written by a newer stampede (schema version " +
                            std::to_string(version) + "; this build understands up to " +
                            std::to_string(state_schema_version) +
                            "). Upgrade stampede, or use another state.dir.");
    if (version < state_schema_version && !read_only_) {
      // Upgrade in place: the v2 families were created by open(); v1 values
      // stay readable. An older stampede refuses the store from now on.
      rocksdb::WriteOptions wo;
      wo.sync = true;
      const auto w = db_->Put(wo, meta_, schema_key, std::to_string(state_schema_version));
      if (!w.ok()) throw status_error(w, dir_, "upgrading the schema version");
    }
  }

  std::string dir_;
  bool read_only_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* ledger_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* items_ = nullptr;
  rocksdb::ColumnFamilyHandle* resend_ = nullptr;
  rocksdb::ColumnFamilyHandle* batches_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  std::atomic<std::uint32_t> event_seq_{0};
  mutable std::mutex poison_mu_;
  std::optional<store_error> poisoned_;
};

} // namespace

namespace {

std::unique_ptr<state_store> open_once(const std::string& dir, bool read_only);

} // namespace

std::unique_ptr<state_store> state_store::open(const std::string& dir, bool read_only) {
  if (!read_only)
    return open_once(dir, false);
  // A reader (`status`, `log`, the web monitor's neighbours) may arrive while
  // a worker is creating the store: the directory and its LOCK exist, CURRENT
  // or the column families not yet. Give the writer a moment instead of
  // failing (a first `stampede status` right after starting a worker did).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (;;) {
    try {
      return open_once(dir, true);
    } catch (const store_error&) {
      std::error_code ec;
      if (!fs::exists(fs::path(dir) / "LOCK", ec) || std::chrono::steady_clock::now() >= deadline)
        throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

namespace {

std::unique_ptr<state_store> open_once(const std::string& dir, bool read_only) {
  std::error_code ec;
  if (read_only) {
    if (!fs::exists(dir, ec))
      throw store_error(store_errc::io_error,
                        "state dir '" + dir + "' does not exist: nothing has been stored yet (run "
                        "`stampede run` first) or state.dir points elsewhere");
    if (!fs::exists(fs::path(dir) / "CURRENT", ec))
      throw store_error(store_errc::bad_format,
                        "'" + dir + "' is not a stampede state store (no RocksDB CURRENT file); "
                        "check state.dir");
  } else {
    fs::create_directories(dir, ec);
    if (ec)
      throw store_error(store_errc::io_error,
                        "cannot create state dir '" + dir + "': " + ec.message() +
                            ". Check state.dir and the directory permissions.");
  }
  auto store = std::make_unique<rocksdb_store>(dir, read_only);
  store->open();
  return store;
}

} // namespace

} // namespace stampede
