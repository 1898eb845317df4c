// Integration tests of the RocksDB state store (real RocksDB in a temp dir).
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <rocksdb/db.h>

#include "storage/key_codec.hpp"
#include "storage/ledger.hpp"
#include "tests/integration/storage/temp_dir.hpp"

using namespace stampede;
using stampede::test::temp_dir;

namespace {

ledger_entry entry(std::uint64_t hash, std::string remote = "", record_status st = record_status::success) {
  ledger_entry e;
  e.content_hash = hash;
  e.remote_id = std::move(remote);
  e.status = st;
  e.attempts = 1;
  e.last_stamp = "2024-06-11 10:00:00.000";
  e.last_op = 0;
  e.updated_ms = 1718100000000;
  return e;
}

service_state state(std::int64_t recno, std::string stamp = "2024-06-11 10:00:00.000") {
  service_state s;
  s.checkpoint_stamp = std::move(stamp);
  s.checkpoint_recno = recno;
  s.newest_delivered_stamp = s.checkpoint_stamp;
  s.last_run_ms = 1718100000123;
  s.counts = {1, 2, 3, 4};
  s.created = 10;
  return s;
}

using updates = std::vector<std::pair<std::string, ledger_entry>>;

/// Writes raw bytes into a column family, bypassing the store (to fake damage).
void raw_put(const std::string& dir, const std::string& cf, const std::string& key, const std::string& value) {
  rocksdb::DBOptions o;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(o, dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names)
    descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(o, dir, descs, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle* target = nullptr;
  for (auto* h : handles)
    if (h->GetName() == cf) target = h;
  REQUIRE(target != nullptr);
  REQUIRE(db->Put(rocksdb::WriteOptions(), target, key, value).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

pending_batch pb_copy(const pending_batch& b) { return b; }

template <typename F>
store_error expect_store_error(F&& f) {
  try {
    f();
  } catch (const store_error& e) {
    return e;
  }
  FAIL("expected a store_error");
  return store_error(store_errc::ok, "");
}

} // namespace

TEST_CASE("state store: entries and states round trip", "[state_store]") {
  temp_dir tmp;
  auto store = state_store::open(tmp.sub("state"));

  REQUIRE(store->load_state(7) == service_state{});
  REQUIRE_FALSE(store->get(7, "1").has_value());

  ledger_entry failed = entry(99, "", record_status::error);
  failed.attempts = 3;
  failed.last_error = "HTTP 422: field 'cnpj' invalid";
  const updates u{{"1", entry(11, "r-1")}, {"2", entry(22, "r-2")}, {std::string("b\0in", 4), failed}};
  store->commit(7, u, state(2), false);

  REQUIRE(store->get(7, "1") == entry(11, "r-1"));
  REQUIRE(store->get(7, "2") == entry(22, "r-2"));
  REQUIRE(store->get(7, std::string("b\0in", 4)) == failed);
  REQUIRE_FALSE(store->get(7, "b").has_value());
  REQUIRE(store->load_state(7) == state(2));

  // Same keys in another service are independent.
  REQUIRE_FALSE(store->get(8, "1").has_value());
  store->commit(8, {{"1", entry(5)}}, state(1), true);
  REQUIRE(store->get(8, "1") == entry(5));
  REQUIRE(store->get(7, "1") == entry(11, "r-1"));

  // Overwrite.
  store->commit(7, {{"1", entry(12, "r-1")}}, state(3), false);
  REQUIRE(store->get(7, "1") == entry(12, "r-1"));
  REQUIRE(store->load_state(7) == state(3));

  // A commit with no ledger updates still moves the checkpoint.
  store->commit(7, {}, state(4), false);
  REQUIRE(store->load_state(7).checkpoint_recno == 4);
}

TEST_CASE("state store: get_many keeps the key order and returns nullopt for unknown keys",
          "[state_store]") {
  temp_dir tmp;
  auto store = state_store::open(tmp.sub("state"));
  updates u;
  for (int i = 0; i < 500; ++i) u.emplace_back(std::to_string(i * 2), entry(static_cast<std::uint64_t>(i)));
  store->commit(3, u, state(1), false);

  std::vector<std::string> owned;
  for (int i = 999; i >= 0; --i) owned.push_back(std::to_string(i));  // reverse, half unknown
  const std::vector<std::string_view> keys(owned.begin(), owned.end());
  const auto got = store->get_many(3, keys);
  REQUIRE(got.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const int k = std::stoi(owned[i]);
    INFO("key " << k);
    if (k % 2 == 0) {
      REQUIRE(got[i].has_value());
      REQUIRE(got[i]->content_hash == static_cast<std::uint64_t>(k / 2));
    } else {
      REQUIRE_FALSE(got[i].has_value());
    }
  }
  REQUIRE(store->get_many(3, {}).empty());
  // Duplicates are answered at each position; another service sees nothing.
  const auto dup = store->get_many(3, {"0", "x", "0"});
  REQUIRE(dup.size() == 3);
  REQUIRE(dup[0] == entry(0));
  REQUIRE_FALSE(dup[1].has_value());
  REQUIRE(dup[2] == entry(0));
  const auto other = store->get_many(4, {"0", "2"});
  REQUIRE_FALSE(other[0].has_value());
  REQUIRE_FALSE(other[1].has_value());
}

TEST_CASE("state store: data persists across reopen (including memtable-only data)", "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("a/b/state");  // nested dirs are created
  {
    auto store = state_store::open(dir);
    updates u;
    for (int i = 0; i < 3000; ++i) u.emplace_back("k" + std::to_string(i), entry(static_cast<std::uint64_t>(i)));
    store->commit(1, u, state(3000), false);
  }
  auto store = state_store::open(dir);
  REQUIRE(store->load_state(1) == state(3000));
  REQUIRE(store->get(1, "k0") == entry(0));
  REQUIRE(store->get(1, "k2999") == entry(2999));
  std::size_t n = 0;
  store->scan(1, [&](std::string_view, const ledger_entry&) { return ++n, true; });
  REQUIRE(n == 3000);
}

TEST_CASE("state store: scan visits one service in key order and can stop early", "[state_store]") {
  temp_dir tmp;
  auto store = state_store::open(tmp.sub("state"));
  store->commit(2, {{"b", entry(2)}, {"a", entry(1)}, {"ab", entry(3)}, {std::string("a\0", 2), entry(4)}},
                state(1), false);
  store->commit(1, {{"z", entry(9)}}, state(1), false);
  store->commit(3, {{"0", entry(9)}}, state(1), false);
  store->commit(65535, {{"last", entry(7)}, {"also", entry(8)}}, state(1), false);

  std::vector<std::string> seen;
  std::vector<std::uint64_t> hashes;
  store->scan(2, [&](std::string_view k, const ledger_entry& e) {
    seen.emplace_back(k);
    hashes.push_back(e.content_hash);
    return true;
  });
  REQUIRE(seen == std::vector<std::string>{"a", std::string("a\0", 2), "ab", "b"});
  REQUIRE(hashes == std::vector<std::uint64_t>{1, 4, 3, 2});

  seen.clear();
  store->scan(2, [&](std::string_view k, const ledger_entry&) { return seen.emplace_back(k), seen.size() < 2; });
  REQUIRE(seen.size() == 2);

  seen.clear();
  store->scan(65535, [&](std::string_view k, const ledger_entry&) { return seen.emplace_back(k), true; });
  REQUIRE(seen == std::vector<std::string>{"also", "last"});

  seen.clear();
  store->scan(4, [&](std::string_view k, const ledger_entry&) { return seen.emplace_back(k), true; });
  REQUIRE(seen.empty());

  REQUIRE_THROWS_AS(store->scan(65536, [](std::string_view, const ledger_entry&) { return true; }),
                    std::invalid_argument);
}

TEST_CASE("state store: services() lists services with a stored state, ascending", "[state_store]") {
  temp_dir tmp;
  auto store = state_store::open(tmp.sub("state"));
  REQUIRE(store->services().empty());
  store->commit(300, {}, state(1), false);
  store->commit(2, {{"x", entry(1)}}, state(1), false);
  store->commit(65535, {}, state(1), false);
  store->commit(2, {}, state(2), false);
  REQUIRE(store->services() == std::vector<std::uint32_t>{2, 300, 65535});
}

TEST_CASE("state store: read-only open sees committed data and does not block the writer",
          "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  auto writer = state_store::open(dir);
  writer->commit(5, {{"1", entry(1)}}, state(1), false);

  auto reader = state_store::open(dir, true);
  REQUIRE(reader->get(5, "1") == entry(1));
  REQUIRE(reader->load_state(5) == state(1));
  REQUIRE(reader->services() == std::vector<std::uint32_t>{5});

  // The writer keeps working while the reader is open.
  writer->commit(5, {{"2", entry(2)}}, state(2), true);
  REQUIRE(writer->get(5, "2") == entry(2));
  // A reader cannot write.
  const auto err = expect_store_error([&] { reader->commit(5, {}, state(9), false); });
  REQUIRE(err.code == store_errc::io_error);
  reader.reset();

  // A fresh read-only open sees the newer commit.
  auto reader2 = state_store::open(dir, true);
  REQUIRE(reader2->get(5, "2") == entry(2));
  REQUIRE(reader2->load_state(5) == state(2));
}

TEST_CASE("state store: read-only open of a missing or foreign dir fails clearly", "[state_store]") {
  temp_dir tmp;
  auto missing = expect_store_error([&] { state_store::open(tmp.sub("nope"), true); });
  REQUIRE(missing.code == store_errc::io_error);
  REQUIRE(std::string(missing.what()).find("does not exist") != std::string::npos);
  REQUIRE(std::string(missing.what()).find(tmp.sub("nope")) != std::string::npos);

  auto foreign = expect_store_error([&] { state_store::open(tmp.path(), true); });
  REQUIRE(foreign.code == store_errc::bad_format);
}

TEST_CASE("state store: a second read-write open is refused as locked", "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  auto first = state_store::open(dir);
  const auto err = expect_store_error([&] { state_store::open(dir); });
  REQUIRE(err.code == store_errc::locked);
  REQUIRE(std::string(err.what()).find("another `stampede run` probably uses this state dir") !=
          std::string::npos);
  first.reset();
  REQUIRE_NOTHROW(state_store::open(dir));
}

TEST_CASE("state store: corrupt values are reported with service and key", "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  state_store::open(dir)->commit(4, {{"good", entry(1)}}, state(1), true);
  raw_put(dir, "ledger", key_codec::ledger_key(4, "bad-key"), std::string("\x01\x02", 2));

  auto store = state_store::open(dir);
  REQUIRE(store->get(4, "good") == entry(1));
  auto e1 = expect_store_error([&] { store->get(4, "bad-key"); });
  REQUIRE(e1.code == store_errc::corruption);
  const std::string msg = e1.what();
  REQUIRE(msg.find("service 4") != std::string::npos);
  REQUIRE(msg.find("'bad-key'") != std::string::npos);

  auto e2 = expect_store_error([&] { store->get_many(4, {"good", "bad-key"}); });
  REQUIRE(e2.code == store_errc::corruption);
  auto e3 = expect_store_error([&] { store->scan(4, [](std::string_view, const ledger_entry&) { return true; }); });
  REQUIRE(e3.code == store_errc::corruption);
  store.reset();

  std::string ck;
  key_codec::put_u16(ck, 4);
  raw_put(dir, "checkpoints", ck, "\x01garbage");
  auto e4 = expect_store_error([&] { state_store::open(dir)->load_state(4); });
  REQUIRE(e4.code == store_errc::corruption);
  REQUIRE(std::string(e4.what()).find("service 4") != std::string::npos);
}

TEST_CASE("state store: writes the schema version and refuses a newer one", "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  state_store::open(dir).reset();
  {
    // The version is readable by RocksDB tools as decimal text.
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* n : {"default", "ledger", "checkpoints", "meta"})
      descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::OpenForReadOnly(o, dir, descs, &h, &db).ok());
    std::string v;
    REQUIRE(db->Get(rocksdb::ReadOptions(), h[3], "schema", &v).ok());
    REQUIRE(v == std::to_string(state_schema_version));
    for (auto* x : h) db->DestroyColumnFamilyHandle(x);
    delete db;
  }
  raw_put(dir, "meta", "schema", std::to_string(state_schema_version + 1));
  for (bool ro : {false, true}) {
    const auto err = expect_store_error([&] { state_store::open(dir, ro); });
    REQUIRE(err.code == store_errc::bad_format);
    REQUIRE(std::string(err.what()).find("newer stampede") != std::string::npos);
  }
  raw_put(dir, "meta", "schema", "v1");
  REQUIRE(expect_store_error([&] { state_store::open(dir); }).code == store_errc::bad_format);
}

TEST_CASE("state store: record_status names", "[state_store]") {
  REQUIRE(to_string(record_status::pending) == "pending");
  REQUIRE(to_string(record_status::success) == "success");
  REQUIRE(to_string(record_status::error) == "error");
  REQUIRE(to_string(record_status::cancelled) == "cancelled");
}

TEST_CASE("state store: apply writes ledger, log items, resend queue, batches and events atomically",
          "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  {
    auto st = state_store::open(dir);
    state_changes c;
    ledger_entry e = entry(7, "r-1", record_status::error);
    e.items = 2;
    e.generation = 3;
    e.changed_by = "ana";
    c.ledger.emplace_back("k1", e);
    log_item a;
    a.time_ms = 1;
    a.status = record_status::error;
    a.attempt = 1;
    a.http_status = 422;
    a.message = "field 'cnpj' breaks rule 'digits'";
    a.sent = R"({"cnpj":"x"})";
    a.received = R"({"key":"k1","error":{}})";
    log_item b = a;
    b.attempt = 2;
    c.items.push_back({"k1", 0, a});
    c.items.push_back({"k1", 1, b});
    c.items.push_back({"k10", 0, a});  // another key sharing the prefix "k1"
    c.resend.emplace_back("k1", 5000);
    c.resend.emplace_back("k2", 6000);
    pending_batch pb;
    pb.batch_id = "b-9";
    pb.submitted_ms = 42;
    pending_record pr;
    pr.key = "k3";
    pr.idempotency_key = "abc";
    pb.records.push_back(pr);
    c.batches.push_back(pb);
    c.events.push_back({10, "ana", "checkpoint set"});
    c.events.push_back({11, "", "second"});
    service_state s = state(5);
    s.replays.push_back({"2024-01-01 00:00:00.000", "2024-01-02 00:00:00.000", 4, "ana"});
    st->apply(3, c, s, true);

    // A step that erases what was done.
    state_changes d;
    d.items_erase.emplace_back("k1", 0);
    d.resend_erase.push_back("k2");
    st->apply(3, d, s, false);
  }
  for (bool ro : {false, true}) {
    auto st = state_store::open(dir, ro);
    REQUIRE(st->get(3, "k1")->generation == 3);
    REQUIRE(st->load_state(3).replays.size() == 1);
    std::vector<std::uint32_t> nos;
    st->scan_items(3, "k1", [&](std::uint32_t no, const log_item& it) {
      nos.push_back(no);
      REQUIRE(it.attempt == 2);
      REQUIRE(it.http_status == 422);
      return true;
    });
    REQUIRE(nos == std::vector<std::uint32_t>{1});
    std::vector<std::pair<std::string, std::int64_t>> q;
    st->scan_resend(3, [&](std::string_view k, std::int64_t due) {
      q.emplace_back(k, due);
      return true;
    });
    REQUIRE(q == std::vector<std::pair<std::string, std::int64_t>>{{"k1", 5000}});
    auto batches = st->pending_batches(3);
    REQUIRE(batches.size() == 1);
    REQUIRE(batches[0] == pb_copy(batches[0]));
    REQUIRE(batches[0].records.at(0).key == "k3");
    std::vector<std::string> texts;
    st->scan_events(3, [&](const service_event& e) {
      texts.push_back(e.text);
      return true;
    });
    REQUIRE(texts == std::vector<std::string>{"checkpoint set", "second"});
    // Other services see none of it.
    REQUIRE(st->pending_batches(4).empty());
  }
}

TEST_CASE("state store: a schema-1 store opens read-only, then upgrades on a read-write open",
          "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  {
    // What stampede 0.1 wrote: three families, schema "1", a v1 entry.
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* n : {"default", "ledger", "checkpoints", "meta"})
      descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(o, dir, descs, &h, &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), h[3], "schema", "1").ok());
    // v1 entry: version, hash, remote id, status, attempts, stamp, op, updated, error.
    const std::string v1{1, 7, 0, 0, 0, 0, 0, 0, 0, 2, 'r', '1', 1, 1, 0, 0, 0, 0};
    REQUIRE(db->Put(rocksdb::WriteOptions(), h[1], key_codec::ledger_key(2, "k"), v1).ok());
    for (auto* x : h) db->DestroyColumnFamilyHandle(x);
    delete db;
  }
  {
    auto ro = state_store::open(dir, true);
    auto e = ro->get(2, "k");
    REQUIRE(e.has_value());
    REQUIRE(e->remote_id == "r1");
    REQUIRE(e->content_hash == 7);
    REQUIRE(e->items == 0);
    bool any = false;
    ro->scan_resend(2, [&](std::string_view, std::int64_t) { return any = true; });
    REQUIRE_FALSE(any);
  }
  {
    auto rw = state_store::open(dir);
    state_changes c;
    c.resend.emplace_back("k", 1);
    rw->apply(2, c, service_state{}, true);
  }
  auto ro = state_store::open(dir, true);
  int n = 0;
  ro->scan_resend(2, [&](std::string_view, std::int64_t) { return ++n, true; });
  REQUIRE(n == 1);
}

TEST_CASE("state store: target health is stored by name, replaced, seen by a read-only open",
          "[state_store]") {
  temp_dir tmp;
  const std::string dir = tmp.sub("state");
  auto store = state_store::open(dir);
  REQUIRE(store->targets().empty());
  target_health a{"portal", 1, 3, "credentials: HTTP 401", 1000, 31000};
  target_health b{"crm", 0, 0, "", 2000, 0};
  store->put_target(a);
  store->put_target(b);
  a.breaker = 2;
  store->put_target(a);  // replaces, never duplicates
  auto got = store->targets();
  REQUIRE(got.size() == 2);
  CHECK(got[0] == b);  // by name
  CHECK(got[1] == a);
  // The schema key shares the meta family and is not a target.
  store.reset();
  auto reader = state_store::open(dir, true);
  CHECK(reader->targets().size() == 2);
  const auto err = expect_store_error([&] { reader->put_target(b); });
  CHECK(err.code == store_errc::io_error);
}

TEST_CASE("a read-only open while a worker is still creating the store waits for it", "[store]") {
  // A worker's first start: the directory and RocksDB's LOCK exist before
  // CURRENT and the column families. `stampede status` arriving then failed
  // with "not a stampede state store" (seen in the e2e suite).
  temp_dir t;
  const auto dir = t.sub("state");
  std::filesystem::create_directories(dir);
  { std::ofstream lock(dir + "/LOCK"); }
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto w = state_store::open(dir);
    w->commit(1, {{"k", entry(1)}}, state(1), /*sync=*/true);
  });
  std::unique_ptr<state_store> r;
  REQUIRE_NOTHROW(r = state_store::open(dir, /*read_only=*/true));
  writer.join();
  REQUIRE(r);
  // Without the LOCK (no writer anywhere) a directory that is not a store
  // fails at once, with the reason.
  const auto other = t.sub("other");
  std::filesystem::create_directories(other);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(state_store::open(other, true), Catch::Contains("no RocksDB CURRENT file"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
}
