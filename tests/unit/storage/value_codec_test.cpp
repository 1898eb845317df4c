// Unit tests of storage/value_codec: round trip and rejection of corrupt values.
#include <catch2/catch.hpp>

#include <iostream>
#include <limits>
#include <random>

#include "storage/value_codec.hpp"

using namespace stampede;
namespace vc = stampede::value_codec;

namespace {

std::string random_bytes(std::mt19937_64& rng, std::size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

template <typename T>
T pick_int(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return std::numeric_limits<T>::min();
    case 1: return std::numeric_limits<T>::max();
    case 2: return static_cast<T>(rng() % 300);
    default: return static_cast<T>(rng());
  }
}

ledger_entry random_entry(std::mt19937_64& rng) {
  ledger_entry e;
  e.content_hash = pick_int<std::uint64_t>(rng);
  e.remote_id = random_bytes(rng, 40);
  e.status = static_cast<record_status>(rng() % 4);
  e.attempts = pick_int<std::uint32_t>(rng);
  e.last_stamp = random_bytes(rng, 23);
  e.last_op = static_cast<std::uint8_t>(rng() % 3);
  e.updated_ms = pick_int<std::int64_t>(rng);
  e.last_error = random_bytes(rng, 200);
  e.created_ms = pick_int<std::int64_t>(rng);
  e.changed_by = random_bytes(rng, 12);
  e.generation = pick_int<std::uint32_t>(rng);
  e.batch_id = random_bytes(rng, 12);
  e.items = pick_int<std::uint32_t>(rng);
  for (std::uint64_t i = 0, n = rng() % 3; i < n; ++i)
    e.returned.emplace_back(random_bytes(rng, 8), random_bytes(rng, 40));
  return e;
}

service_state random_state(std::mt19937_64& rng) {
  service_state s;
  s.checkpoint_stamp = random_bytes(rng, 23);
  s.checkpoint_recno = pick_int<std::int64_t>(rng);
  s.initial_load_complete = rng() % 2;
  s.newest_delivered_stamp = random_bytes(rng, 23);
  s.last_run_ms = pick_int<std::int64_t>(rng);
  for (auto& c : s.counts) c = pick_int<std::uint64_t>(rng);
  s.created = pick_int<std::uint64_t>(rng);
  s.updated = pick_int<std::uint64_t>(rng);
  s.deleted = pick_int<std::uint64_t>(rng);
  s.failed = pick_int<std::uint64_t>(rng);
  for (std::uint64_t i = 0, n = rng() % 3; i < n; ++i)
    s.replays.push_back({random_bytes(rng, 23), random_bytes(rng, 23), pick_int<std::uint32_t>(rng),
                         random_bytes(rng, 8)});
  s.last_error = random_bytes(rng, 50);
  s.last_error_ms = pick_int<std::int64_t>(rng);
  s.consecutive_failures = pick_int<std::uint32_t>(rng);
  return s;
}

} // namespace

TEST_CASE("value codec: ledger entries round trip, truncated or extended values are corrupt",
          "[value_codec]") {
  const std::uint64_t seed = 77;
  std::cout << "value codec entry test seed: " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    const ledger_entry e = random_entry(rng);
    std::string v;
    vc::encode_entry(v, e);
    // v2 unless it has returned values (a store without them stays readable by v2 builds).
    REQUIRE(static_cast<unsigned char>(v[0]) ==
            (e.returned.empty() ? vc::value_format_version : vc::entry_format_v3));
    const auto back = vc::decode_entry(v);
    REQUIRE(back.has_value());
    REQUIRE(*back == e);
    for (std::size_t cut = 0; cut < v.size(); ++cut)
      REQUIRE_FALSE(vc::decode_entry(std::string_view(v).substr(0, cut)).has_value());
    std::string why;
    REQUIRE_FALSE(vc::decode_entry(v + "x", &why).has_value());
    REQUIRE(why.find("trailing") != std::string::npos);
  }
}

TEST_CASE("value codec: service states round trip, truncated or extended values are corrupt",
          "[value_codec]") {
  std::mt19937_64 rng(78);
  for (int i = 0; i < 2000; ++i) {
    const service_state s = random_state(rng);
    std::string v;
    vc::encode_state(v, s);
    const auto back = vc::decode_state(v);
    REQUIRE(back.has_value());
    REQUIRE(*back == s);
    for (std::size_t cut = 0; cut < v.size(); ++cut)
      REQUIRE_FALSE(vc::decode_state(std::string_view(v).substr(0, cut)).has_value());
    REQUIRE_FALSE(vc::decode_state(v + '\0').has_value());
  }
  std::string v;
  vc::encode_state(v, service_state{});
  REQUIRE(vc::decode_state(v) == service_state{});
}

TEST_CASE("value codec: a default entry is compact and field checks reject bad values",
          "[value_codec]") {
  ledger_entry e;
  e.content_hash = 0x1122334455667788ULL;
  e.status = record_status::success;
  e.attempts = 1;
  e.last_stamp = "2024-06-11 10:00:00.000";
  e.last_op = 1;
  e.updated_ms = 1718100000000;
  std::string v;
  vc::encode_entry(v, e);
  // version + hash + 3 lengths + status + attempts + stamp + op + ~6-byte varint
  // + v2: created_ms, changed_by, generation, batch_id, items (one byte each when unset)
  REQUIRE(v.size() <= 1 + 8 + 1 + 1 + 1 + 1 + 23 + 1 + 7 + 1 + 5);

  std::string why;
  std::string bad_version = v;
  bad_version[0] = 4;
  REQUIRE_FALSE(vc::decode_entry(bad_version, &why).has_value());
  REQUIRE(why.find("version 4") != std::string::npos);
  // A v2 body labelled v3 lacks the returned values: corrupt, not defaulted.
  std::string v3_without = v;
  v3_without[0] = 3;
  REQUIRE_FALSE(vc::decode_entry(v3_without, &why).has_value());
  REQUIRE(why.find("returned") != std::string::npos);
  // ...and a v3 entry holds at least one (a count of 0 is corrupt).
  REQUIRE_FALSE(vc::decode_entry(v3_without + std::string(1, '\0'), &why).has_value());
  REQUIRE(why.find("count out of range") != std::string::npos);

  std::string bad_status = v;
  bad_status[1 + 8 + 1] = 9;  // after version, hash, empty remote_id
  REQUIRE_FALSE(vc::decode_entry(bad_status, &why).has_value());
  REQUIRE(why.find("status") != std::string::npos);

  std::string bad_op = v;
  bad_op[1 + 8 + 1 + 1 + 1 + 1 + 23] = 3;  // ... status, attempts, stamp length + stamp
  REQUIRE_FALSE(vc::decode_entry(bad_op, &why).has_value());
  REQUIRE(why.find("last_op") != std::string::npos);

  REQUIRE_FALSE(vc::decode_entry("", &why).has_value());
  REQUIRE(why == "empty value");

  // A string length larger than the value.
  std::string bad_len = v;
  bad_len[1 + 8] = 0x7F;
  REQUIRE_FALSE(vc::decode_entry(bad_len, &why).has_value());
  REQUIRE(why.find("remote_id") != std::string::npos);

  std::string st;
  vc::encode_state(st, service_state{});
  st[1 + 1 + 1] = 4;  // flags: after version, empty stamp, recno 0
  REQUIRE_FALSE(vc::decode_state(st, &why).has_value());
  REQUIRE(why.find("flags") != std::string::npos);
}

TEST_CASE("value codec: printable escapes binary key bytes", "[value_codec]") {
  REQUIRE(vc::printable("abc") == "abc");
  REQUIRE(vc::printable(std::string("a\0\xff\\", 4)) == "a\\x00\\xff\\x5c");
  REQUIRE(vc::printable(std::string(200, 'k')).size() == 83);
}

TEST_CASE("value codec: version-1 entries and states decode with the v2 fields defaulted",
          "[value_codec]") {
  // Bytes as stampede 0.1 wrote them (value format 1).
  const std::string entry_v1{1,   7, 0, 0, 0, 0, 0, 0, 0, 2, 'r', '1', 2 /*error*/, 3 /*attempts*/,
                             1,   's', 1 /*update*/, 4 /*zigzag 2*/, 1, 'e'};
  const auto e = vc::decode_entry(entry_v1);
  REQUIRE(e.has_value());
  REQUIRE(e->content_hash == 7);
  REQUIRE(e->remote_id == "r1");
  REQUIRE(e->status == record_status::error);
  REQUIRE(e->attempts == 3);
  REQUIRE(e->last_stamp == "s");
  REQUIRE(e->last_op == 1);
  REQUIRE(e->updated_ms == 2);
  REQUIRE(e->last_error == "e");
  REQUIRE(e->generation == 0);
  REQUIRE(e->items == 0);
  const std::string state_v1{1, 1, 'c', 4 /*zigzag 2*/, 1 /*loaded*/, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  const auto s = vc::decode_state(state_v1);
  REQUIRE(s.has_value());
  REQUIRE(s->checkpoint_stamp == "c");
  REQUIRE(s->checkpoint_recno == 2);
  REQUIRE(s->initial_load_complete);
  REQUIRE(s->counts == std::array<std::uint64_t, 4>{1, 2, 3, 4});
  REQUIRE(s->failed == 8);
  REQUIRE(s->replays.empty());
  // Version 4 is from the future (3 is an entry with returned values).
  std::string why;
  REQUIRE_FALSE(vc::decode_entry(std::string("\x04", 1) + entry_v1.substr(1), &why).has_value());
  REQUIRE(why.find("version 4") != std::string::npos);
  // A state never has a version 3.
  REQUIRE_FALSE(vc::decode_state(std::string("\x03", 1) + state_v1.substr(1), &why).has_value());
  REQUIRE(why.find("version 3") != std::string::npos);
}

TEST_CASE("value codec: log items, pending batches and events round trip, truncations are corrupt",
          "[value_codec]") {
  std::mt19937_64 rng(79);
  for (int i = 0; i < 500; ++i) {
    log_item it;
    it.time_ms = pick_int<std::int64_t>(rng);
    it.status = static_cast<record_status>(rng() % 4);
    it.op = static_cast<std::uint8_t>(rng() % 3);
    it.attempt = pick_int<std::uint32_t>(rng);
    it.http_status = static_cast<int>(rng() % 600);
    it.message = random_bytes(rng, 60);
    it.sent = random_bytes(rng, 100);
    it.received = random_bytes(rng, 100);
    it.by = random_bytes(rng, 8);
    pending_batch b;
    b.batch_id = random_bytes(rng, 10);
    b.submitted_ms = pick_int<std::int64_t>(rng);
    for (std::uint64_t k = 0, n = rng() % 4; k < n; ++k) {
      pending_record p;
      p.key = random_bytes(rng, 10);
      p.op = static_cast<std::uint8_t>(rng() % 3);
      p.content_hash = pick_int<std::uint64_t>(rng);
      p.remote_id = random_bytes(rng, 10);
      p.stamp = random_bytes(rng, 23);
      p.recno = pick_int<std::int64_t>(rng);
      p.attempts = pick_int<std::uint32_t>(rng);
      p.prior_status = static_cast<std::int8_t>(static_cast<int>(rng() % 5) - 1);
      p.generation = pick_int<std::uint32_t>(rng);
      p.idempotency_key = random_bytes(rng, 16);
      b.records.push_back(p);
    }
    service_event ev{pick_int<std::int64_t>(rng), random_bytes(rng, 8), random_bytes(rng, 80)};
    std::string vi, vb, ve;
    vc::encode_item(vi, it);
    vc::encode_batch(vb, b);
    vc::encode_event(ve, ev);
    REQUIRE(vc::decode_item(vi) == it);
    REQUIRE(vc::decode_batch(vb) == b);
    REQUIRE(vc::decode_event(ve) == ev);
    for (std::size_t cut = 0; cut < vi.size(); ++cut)
      REQUIRE_FALSE(vc::decode_item(std::string_view(vi).substr(0, cut)).has_value());
    for (std::size_t cut = 0; cut < vb.size(); ++cut)
      REQUIRE_FALSE(vc::decode_batch(std::string_view(vb).substr(0, cut)).has_value());
    REQUIRE_FALSE(vc::decode_event(ve + "x").has_value());
  }
}

TEST_CASE("value codec: target health round trips, truncated or extended values are corrupt",
          "[value_codec]") {
  std::mt19937_64 rng(83);
  for (int i = 0; i < 300; ++i) {
    target_health t;
    t.target = random_bytes(rng, 12);
    t.breaker = static_cast<std::uint8_t>(rng() % 3);
    t.consecutive_failures = pick_int<std::uint32_t>(rng);
    t.last_failure = random_bytes(rng, 120);
    t.changed_ms = pick_int<std::int64_t>(rng);
    t.retry_at_ms = pick_int<std::int64_t>(rng);
    std::string v;
    vc::encode_target(v, t);
    REQUIRE(vc::decode_target(v) == t);
    for (std::size_t cut = 0; cut < v.size(); ++cut)
      REQUIRE_FALSE(vc::decode_target(std::string_view(v).substr(0, cut)).has_value());
    REQUIRE_FALSE(vc::decode_target(v + "x").has_value());
  }
}
