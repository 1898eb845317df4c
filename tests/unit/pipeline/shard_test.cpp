#include "pipeline/record.hpp"
#include "pipeline/shard.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace stampede;

// The expected values were not computed with this code: "a" and "foobar" are
// the published FNV-1a 64 test vectors (draft-eastlake-fnv, fnv_test.c); the
// others come from a separate Python implementation of the same definition.
// If one of these changes, every sharded deployment would export keys twice.
TEST_CASE("fnv1a64 and shard_of are stable across builds", "[shard]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  CHECK(fnv1a64("1042") == 0x0d74d3f0f882c0e6ULL);
  CHECK(fnv1a64("01|000001") == 0x9b5a7e60860827b5ULL);
  CHECK(shard_of("1042", 4) == 2);
  CHECK(shard_of("01|000001", 4) == 1);
  CHECK(shard_of("12345678", 4) == 1);
  CHECK(shard_of("anything", 1) == 0);
  const std::uint32_t by_key[] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 0, 3, 2};  // keys "1".."12", N = 4
  for (int i = 1; i <= 12; ++i)
    CHECK(shard_of(std::to_string(i), 4) == by_key[i - 1]);
}

TEST_CASE("parse_shard reads k/N with k 0-based, pod names, and rejects the rest", "[shard]") {
  shard_spec s;
  CHECK(parse_shard("2/4", s).empty());
  CHECK(s == shard_spec{2, 4});
  CHECK(parse_shard("0/1", s).empty());
  CHECK_FALSE(s.sharded());
  CHECK(parse_shard("stampede-service-19-sharded-3/4", s).empty());
  CHECK(s == shard_spec{3, 4});
  s = shard_spec{};
  const auto bad = [&](const char* text, const char* says) {
    const auto e = parse_shard(text, s);
    INFO(text << " -> " << e);
    CHECK(e.find(says) != std::string::npos);
    CHECK(e.find("0-based") != std::string::npos);  // every message says which numbering
    CHECK(s == shard_spec{});                       // untouched
  };
  bad("4/4", "k must be 0..3");
  bad("1", "no '/'");
  bad("1/0", "N must be 1..");
  bad("1/x", "N 'x' is not a number");
  bad("/4", "k '' is not a number");
  bad("-1/4", "k '-1' is not a number");  // a pod name needs a name before its '-'
  bad("a/4", "k 'a' is not a number");
  bad("1/99999", "N must be 1..1024");
  bad("pod-x/4", "k 'x' is not a number");
}

TEST_CASE("shard_dir gives each shard its own state directory", "[shard]") {
  CHECK(shard_dir("/var/lib/stampede/state", shard_spec{}) == "/var/lib/stampede/state");
  CHECK(shard_dir("/var/lib/stampede/state/", shard_spec{1, 4}) ==
        "/var/lib/stampede/state/shard-1-of-4");
  CHECK(shard_dir("state", shard_spec{0, 2}) == "state/shard-0-of-2");
}

TEST_CASE("keep_own_rows keeps this shard's rows with their cells and the page's end", "[shard]") {
  row_page p;
  p.columns = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"K", "V"});
  for (int i = 1; i <= 12; ++i) {
    auto& m = p.rows.emplace_back();
    m.key = std::to_string(i);
    m.recno = i;
    const std::string v = "v" + std::to_string(i);
    p.cells.push_back({static_cast<std::uint32_t>(p.arena.size()), static_cast<std::uint32_t>(m.key.size()), false});
    p.arena += m.key;
    p.cells.push_back({static_cast<std::uint32_t>(p.arena.size()), static_cast<std::uint32_t>(v.size()), false});
    p.arena += v;
  }
  p.end = keyset_pos{"2024-01-01 00:00:12", 12};
  p.next = p.end;
  auto q = p;
  CHECK(keep_own_rows(q, shard_spec{}) == 0);  // not sharded: untouched
  CHECK(q.size() == 12);
  CHECK(keep_own_rows(q, shard_spec{3, 4}) == 9);  // keys 4, 8 and 11 (see the table above)
  REQUIRE(q.size() == 3);
  CHECK(q.cells.size() == 6);
  bool null = true;
  CHECK(q.rows[0].key == "4");
  CHECK(q.at(0, 1, null) == "v4");
  CHECK(q.rows[1].key == "8");
  CHECK(q.rows[1].recno == 8);
  CHECK(q.rows[2].key == "11");
  CHECK(q.at(2, 0, null) == "11");
  CHECK(q.at(2, 1, null) == "v11");
  CHECK_FALSE(null);
  CHECK(q.end == p.end);  // the checkpoint still moves past the other shards' rows
  CHECK(q.next == p.next);
  std::size_t total = 0;
  for (std::uint32_t k = 0; k < 4; ++k) {
    auto r = p;
    keep_own_rows(r, shard_spec{k, 4});
    for (const auto& m : r.rows)
      CHECK(shard_of(m.key, 4) == k);
    total += r.size();
  }
  CHECK(total == 12);  // every row in exactly one shard
}
