#include "target/retry.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

TEST_CASE("retry table: status classes", "[retry]") {
  for (int s : {200, 201, 202, 204, 299}) CHECK(decide(s, false, false).kind == retry_kind::success);
  for (int s : {408, 429, 500, 502, 503, 504, 599}) {
    INFO("status " << s);
    CHECK(decide(s, false, false).kind == retry_kind::retry);
  }
  for (int s : {400, 401, 403, 404, 409, 413, 422, 499, 501}) {
    INFO("status " << s);
    CHECK(decide(s, false, false).kind == retry_kind::final);
  }
  CHECK(decide(301, false, false).kind == retry_kind::final);
  CHECK(decide(600, false, false).kind == retry_kind::final);
  CHECK(decide(429, false, false).reason == "rate limited");
}

TEST_CASE("retry table: transport errors and timeouts retry", "[retry]") {
  CHECK(decide(0, true, false).retry());
  CHECK(decide(0, true, false).reason == "connection error");
  CHECK(decide(0, true, true).retry());
  CHECK(decide(0, false, true).reason == "timed out connecting");
  // status is ignored when the transport failed
  CHECK(decide(400, true, false).retry());
}

TEST_CASE("backoff: full jitter within capped exponential bounds", "[retry]") {
  std::mt19937_64 rng(42);
  const duration base{100}, max{2000};
  for (std::uint32_t attempt = 1; attempt <= 10; ++attempt) {
    const duration::rep cap = std::min<duration::rep>(2000, 100LL << (attempt - 1));
    duration lo{cap}, hi{0};
    for (int i = 0; i < 2000; ++i) {
      auto d = backoff(attempt, base, max, rng);
      REQUIRE(d.count() >= 0);
      REQUIRE(d.count() <= cap);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    INFO("attempt " << attempt << " cap " << cap);
    // full jitter: the draws spread over (nearly) the whole [0, cap] range
    CHECK(lo.count() <= cap / 10);
    CHECK(hi.count() >= cap * 9 / 10);
  }
}

TEST_CASE("backoff: degenerate inputs", "[retry]") {
  std::mt19937_64 rng(1);
  CHECK(backoff(0, duration{100}, duration{1000}, rng).count() <= 100);  // 0 treated as 1
  CHECK(backoff(5, duration{0}, duration{1000}, rng).count() == 0);
  CHECK(backoff(4000000000u, duration{100}, duration{1000}, rng).count() <= 1000);
  CHECK(backoff(3, duration{500}, duration{0}, rng).count() == 0);
}

TEST_CASE("retry_delay honours Retry-After over the backoff cap, up to 5 minutes", "[retry]") {
  std::mt19937_64 rng(7);
  CHECK(retry_delay(1, duration{100}, duration{10000}, duration{3000}, rng) == duration{3000});
  // A 5 ms backoff cap does not cut a server's "Retry-After: 1" (the 429 storm).
  CHECK(retry_delay(1, duration{1}, duration{5}, duration{1000}, rng) == duration{1000});
  CHECK(retry_delay(1, duration{100}, duration{2000}, duration{60000}, rng) == duration{60000});
  CHECK(retry_delay(1, duration{100}, duration{2000}, duration{3600000}, rng) == retry_after_cap);
  CHECK(retry_delay(1, duration{100}, duration{600000}, duration{3600000}, rng) == duration{600000});
  CHECK(retry_delay(1, duration{100}, duration{2000}, duration{0}, rng) == duration{0});
  auto d = retry_delay(2, duration{100}, duration{2000}, std::nullopt, rng);
  CHECK(d.count() <= 200);
}
