#include "target/response_map.hpp"
#include "target_support.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace stampede;
using stampede::test::batch_of;

TEST_CASE("results matched by key, in record order", "[response_map]") {
  auto b = batch_of({"a", "b", "c"});
  response_mapping m;
  auto r = map_batch_response(
      R"({"results":[{"key":"c","id":"3"},{"key":"a","id":1},{"key":"b","error":{"code":"E1","message":"bad cnpj"}}]})",
      m, b);
  REQUIRE(r.err == map_errc::ok);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[0].ok);
  CHECK(r.outcomes[0].remote_id == "1");
  CHECK_FALSE(r.outcomes[1].ok);
  CHECK(r.outcomes[1].error == "bad cnpj");
  CHECK_FALSE(r.outcomes[1].retryable);
  CHECK(r.outcomes[2].ok);
  CHECK(r.outcomes[2].remote_id == "3");
}

TEST_CASE("missing result for a record", "[response_map]") {
  auto b = batch_of({"a", "b"});
  auto r = map_batch_response(R"({"results":[{"key":"a","id":"1"},{"key":"zzz","id":"2"}]})",
                              response_mapping{}, b);
  REQUIRE(r.err == map_errc::ok);
  CHECK(r.outcomes[0].ok);
  CHECK_FALSE(r.outcomes[1].ok);
  CHECK(r.outcomes[1].error == "no result for key b");
}

TEST_CASE("duplicate keys take results in order", "[response_map]") {
  auto b = batch_of({"a", "a"});
  auto r = map_batch_response(R"({"results":[{"key":"a","id":"1"},{"key":"a","id":"2"}]})",
                              response_mapping{}, b);
  CHECK(r.outcomes[0].remote_id == "1");
  CHECK(r.outcomes[1].remote_id == "2");
}

TEST_CASE("positional mapping and nested pointers", "[response_map]") {
  auto b = batch_of({"x", "y", "z"});
  response_mapping m;
  m.results = "/data/items";
  m.key_field = "";
  m.id_field = "/meta/uuid";
  m.error_fields = {"/problem/detail"};
  auto r = map_batch_response(
      R"({"data":{"items":[{"meta":{"uuid":"u1"}},{"problem":{"detail":"nope"}}]}})", m, b);
  REQUIRE(r.err == map_errc::ok);
  CHECK(r.outcomes[0].ok);
  CHECK(r.outcomes[0].remote_id == "u1");
  CHECK(r.outcomes[1].error == "nope");
  CHECK(r.outcomes[2].error == "no result for key z");

  m.results = "";  // the root is the array
  auto r2 = map_batch_response(R"([{"meta":{"uuid":7}}])", m, batch_of({"x"}));
  CHECK(r2.outcomes[0].remote_id == "7");
}

TEST_CASE("the first present non-null error field decides", "[response_map]") {
  auto b = batch_of({"a", "b", "c", "d"});
  response_mapping m;
  m.error_fields = {"/errors/0", "/error/message", "/error/code", "/error"};
  auto r = map_batch_response(
      R"({"results":[)"
      R"({"key":"a","errors":null,"error":{"message":null,"code":42}},)"
      R"({"key":"b","errors":["first"],"error":{"message":"second"}},)"
      R"({"key":"c","error":{"detail":{"f":[1, 2]}}},)"
      R"({"key":"d","id":"ok","error":null}]})",
      m, b);
  CHECK(r.outcomes[0].error == "42");
  CHECK(r.outcomes[1].error == "first");
  CHECK(r.outcomes[2].error == R"({"detail":{"f":[1,2]}})");
  CHECK(r.outcomes[3].ok);
  CHECK(r.outcomes[3].remote_id == "ok");
}

TEST_CASE("malformed bodies: every record retryable", "[response_map]") {
  auto b = batch_of({"a", "b"});
  for (const char* body : {"", "not json", R"({"results":[)", R"({"other":[]})", R"({"results":{}})"}) {
    INFO(body);
    auto r = map_batch_response(body, response_mapping{}, b);
    CHECK(r.err == map_errc::malformed);
    REQUIRE(r.outcomes.size() == 2);
    for (const auto& o : r.outcomes) {
      CHECK_FALSE(o.ok);
      CHECK(o.retryable);
      CHECK(o.error.rfind("malformed response: ", 0) == 0);
    }
  }
}

TEST_CASE("single responses", "[response_map]") {
  response_mapping m;
  auto o = map_single_response(R"({"id":"r-1"})", m);
  CHECK(o.ok);
  CHECK(o.remote_id == "r-1");
  CHECK(map_single_response("", m).ok);
  auto e = map_single_response(R"({"error":{"code":"X","message":"boom"}})", m);
  CHECK_FALSE(e.ok);
  CHECK(e.error == "boom");
  auto bad = map_single_response("{", m);
  CHECK_FALSE(bad.ok);
  CHECK(bad.retryable);
  CHECK(error_text(R"({"error":{"code":"E"}})", m) == std::optional<std::string>("E"));
  CHECK_FALSE(error_text("<html>", m));
  CHECK(json_value_at(R"({"batchId":"b1"})", "batchId") == std::optional<std::string>("b1"));
  CHECK_FALSE(json_value_at(R"({"batchId":null})", "/batchId"));
}

TEST_CASE("random and mutated inputs never crash", "[response_map]") {
  std::mt19937_64 rng(20240601);
  const std::vector<std::string> seeds = {
      R"({"results":[{"key":"a","id":"1"},{"key":"b","error":{"code":"E","message":"m"}}]})",
      R"({"status":"done","results":[{"key":"a","id":1}]})",
      R"([{"id":{"deep":[[[[]]]]}},null,true,1e308,"x"])",
      R"({"results":[{"key":["a"],"id":{"x":1},"error":false}]})"};
  const std::string alphabet = "{}[]\":,0123456789.eE+-truefalsnl\\/ \x00\xff\xc3key";
  auto b = batch_of({"a", "b", "c"});
  response_mapping pos;
  pos.key_field = "";
  int malformed = 0, ok = 0;
  for (int i = 0; i < 600; ++i) {
    std::string s = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      if (i % 5 == 4) break;  // some unmutated, some fully random below
      const std::size_t at = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 3) {
        case 0: if (!s.empty()) s.erase(at, 1 + rng() % 3); break;
        case 1: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: if (!s.empty()) s[at] = static_cast<char>(rng() & 0xff);
      }
    }
    if (i % 7 == 6) {
      s.clear();
      for (std::size_t n = rng() % 64; n > 0; --n) s.push_back(alphabet[rng() % alphabet.size()]);
    }
    auto r1 = map_batch_response(s, response_mapping{}, b);
    auto r2 = map_batch_response(s, pos, b);
    REQUIRE(r1.outcomes.size() == 3);
    REQUIRE(r2.outcomes.size() == 3);
    (r1.err == map_errc::malformed ? malformed : ok)++;
    (void)map_single_response(s, response_mapping{});
    (void)json_value_at(s, "/results/0/key");
  }
  // the corpus exercised both paths
  CHECK(malformed > 0);
  CHECK(ok > 0);
}

TEST_CASE("each outcome keeps the record's own result object, capped", "[response_map]") {
  auto b = batch_of({"a", "b"});
  response_mapping m;
  // By default only failed results are kept (the journal keeps payloads of
  // failed attempts); a success's answer too with [journal] payloads = "all".
  {
    auto d = map_batch_response(R"({"results":[{"key":"a","id":"7"},{"key":"b","error":"x"}]})", m, b);
    CHECK(d.outcomes[0].received.empty());
    CHECK(d.outcomes[1].received == R"({"key":"b","error":"x"})");
  }
  m.keep_success_answers = true;
  auto r = map_batch_response(
      R"({"results":[ {"key":"b", "error": {"code":"validation","message":"bad"}},
                      {"key":"a","id":"7", "extra":[1, 2]} ]})",
      m, b);
  REQUIRE(r.err == map_errc::ok);
  CHECK(r.outcomes[0].received == R"({"key":"a","id":"7","extra":[1,2]})");
  CHECK(r.outcomes[1].received == R"({"key":"b","error":{"code":"validation","message":"bad"}})");

  auto single = map_single_response(R"({"id":"19-1"})", m);
  CHECK(single.received == R"({"id":"19-1"})");

  // capped at max_received_bytes, never inside a UTF-8 character
  std::string big = "{\"id\":\"1\",\"note\":\"";
  while (big.size() < max_received_bytes - 1) big += 'x';
  big += "\xC3\xA9\xC3\xA9\"}";  // "éé" straddles the cap
  auto capped = map_single_response(big, m);
  REQUIRE(capped.ok);
  CHECK(capped.received.size() <= max_received_bytes);
  CHECK(capped.received.size() >= max_received_bytes - 1);
  CHECK((static_cast<unsigned char>(capped.received.back()) & 0xC0) != 0xC0);  // no dangling lead byte
  CHECK(cap_received(std::string(10, 'a')) == std::string(10, 'a'));
}
