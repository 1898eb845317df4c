// The continuous-mode scheduler: failure backoff, always-idle, and the
// per-service sums of a continuous run.
#include "engine/scheduler.hpp"
#include "engine/totals.hpp"
#include "pipeline/schedule.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace std::chrono_literals;

namespace {

service_config svc(std::uint32_t id, const std::string& when) {
  service_config s;
  s.id = id;
  s.name = "s" + std::to_string(id);
  s.when = *parse_schedule(when);
  return s;
}

cycle_result failed_result(std::uint32_t id) {
  cycle_result r;
  r.service = id;
  r.ok = false;
  r.code = errc::target_failed;
  r.error = "target failed: HTTP 401";
  return r;
}

cycle_result ok_result(std::uint32_t id, std::uint64_t created, std::uint64_t failed = 0) {
  cycle_result r;
  r.service = id;
  r.ok = true;
  r.counts.created = created;
  r.counts.failed = failed;
  return r;
}

} // namespace

TEST_CASE("failure backoff: 1 s doubling, capped at 5 min or the schedule's interval",
          "[engine][scheduler]") {
  const auto always = *parse_schedule("always");
  CHECK(failure_backoff(always, 0) == 0ms);
  CHECK(failure_backoff(always, 1) == 1s);
  CHECK(failure_backoff(always, 2) == 2s);
  CHECK(failure_backoff(always, 3) == 4s);
  CHECK(failure_backoff(always, 9) == 256s);
  CHECK(failure_backoff(always, 10) == 300s);
  CHECK(failure_backoff(always, 1000) == 300s);
  const auto every_30s = *parse_schedule("every 30s");
  CHECK(failure_backoff(every_30s, 5) == 16s);
  CHECK(failure_backoff(every_30s, 6) == 30s);
  CHECK(failure_backoff(*parse_schedule("every 1h"), 20) == 300s);
  CHECK(failure_backoff(*parse_schedule("daily 08:00"), 20) == 300s);
}

TEST_CASE("an always service whose cycles fail backs off instead of re-running at once",
          "[engine][scheduler]") {
  auto a = svc(1, "always");
  service_scheduler s({&a}, 0);
  const std::int64_t t0 = 1'700'000'000'000;
  s.start(t0);
  REQUIRE(s.due(t0) == std::optional<std::size_t>(0));
  // Cycles fail instantly: count how many run in one simulated minute.
  std::int64_t now = t0;
  int cycles = 0;
  while (now < t0 + 60'000) {
    if (auto i = s.due(now)) {
      ++cycles;
      s.completed(*i, failed_result(1), now);
      continue;
    }
    now = s.next_wake();
  }
  // Tries at 0, 1, 3, 7, 15 and 31 s; the next would be at 63 s.
  CHECK(cycles == 6);
  CHECK(s.failures(0) == 6);
  // A success resets the count; an always service that delivered something runs again at once.
  s.completed(0, ok_result(1, 10), now);
  CHECK(s.failures(0) == 0);
  CHECK(s.due_at(0) == now);
}

TEST_CASE("an always service whose cycle delivered nothing idles a second (record errors too)",
          "[engine][scheduler]") {
  auto a = svc(1, "always");
  service_scheduler s({&a}, 0);
  const std::int64_t t0 = 1'700'000'000'000;
  s.start(t0);
  s.completed(0, ok_result(1, 0), t0);
  CHECK(s.due_at(0) == t0 + 1000);
  // One record failing every cycle: no delivery, so no busy loop burning its attempts.
  s.completed(0, ok_result(1, 0, 1), t0 + 1000);
  CHECK(s.due_at(0) == t0 + 2000);
  CHECK(s.failures(0) == 0);
}

TEST_CASE("interval services keep their slots on success and back off on failure, a stop is not "
          "a failure, restored failures wait first",
          "[engine][scheduler]") {
  auto a = svc(1, "every 15m");
  auto b = svc(2, "every 15m offset 5m");
  service_scheduler s({&a, &b}, 0);
  const std::int64_t t0 = 1'700'000'100'000;
  s.start(t0, {0, 3});
  CHECK(s.due_at(0) == next_due(a.when, t0, 0));
  CHECK(s.due_at(1) == t0 + 4000);  // its backoff, not its next slot
  s.completed(0, failed_result(1), t0);
  CHECK(s.due_at(0) == t0 + 1000);
  cycle_result stopped;
  stopped.service = 1;
  stopped.code = errc::drain_timeout;
  s.completed(0, stopped, t0 + 1000);
  CHECK(s.failures(0) == 1);  // unchanged by the stop
  s.completed(0, ok_result(1, 1), t0 + 2000);
  CHECK(s.failures(0) == 0);
  CHECK(s.due_at(0) == next_due(a.when, t0 + 2000, 0));
  // due() picks the service that waited longest.
  CHECK(s.due(std::max(s.due_at(0), s.due_at(1))) ==
        std::optional<std::size_t>(s.due_at(0) <= s.due_at(1) ? 0 : 1));
}

TEST_CASE("continuous sums keep every counter: cancelled and skipped deletes included",
          "[engine][totals]") {
  cycle_result sum = ok_result(5, 3, 1);
  sum.counts.cancelled = 1;
  sum.counts.skipped_deletes = 2;
  sum.counts.unchanged = 7;
  sum.counts.reasons["HTTP 422: bad cpf"] = 1;
  sum.rows_read = 12;
  cycle_result r = ok_result(5, 4, 2);
  r.counts.updated = 1;
  r.counts.deleted = 1;
  r.counts.cancelled = 2;
  r.counts.skipped_deletes = 3;
  r.counts.unchanged = 1;
  r.counts.pending = 4;
  r.counts.resent = 5;
  r.counts.pages = 2;
  r.counts.batches = 6;
  r.counts.reasons["HTTP 422: bad cpf"] = 2;
  r.counts.reasons["HTTP 422: no name"] = 1;
  r.rows_read = 9;
  accumulate(sum, r);
  CHECK(sum.counts.created == 7);
  CHECK(sum.counts.updated == 1);
  CHECK(sum.counts.deleted == 1);
  CHECK(sum.counts.failed == 3);
  CHECK(sum.counts.cancelled == 3);
  CHECK(sum.counts.skipped_deletes == 5);
  CHECK(sum.counts.unchanged == 8);
  CHECK(sum.counts.pending == 4);
  CHECK(sum.counts.resent == 5);
  CHECK(sum.counts.pages == 2);
  CHECK(sum.counts.batches == 6);
  CHECK(sum.rows_read == 21);
  CHECK(sum.counts.reasons.at("HTTP 422: bad cpf") == 3);
  CHECK(sum.counts.reasons.at("HTTP 422: no name") == 1);
  CHECK(sum.ok);
  accumulate(sum, failed_result(5));
  CHECK_FALSE(sum.ok);
  CHECK(sum.code == errc::target_failed);
  accumulate(sum, ok_result(5, 1));
  CHECK_FALSE(sum.ok);  // one failed cycle marks the service's sum
}

TEST_CASE("reasons stay bounded over a long run and top_reasons orders by count", "[engine][totals]") {
  std::map<std::string, std::uint64_t> into;
  for (int i = 0; i < 100; ++i)
    merge_reasons(into, {{"reason " + std::to_string(i), 1}});
  CHECK(into.size() == max_reasons + 1);
  CHECK(into.at(other_reasons) == 100 - max_reasons);
  merge_reasons(into, {{"reason 3", 10}, {"reason 99", 1}});
  CHECK(into.size() == max_reasons + 1);
  CHECK(into.at(other_reasons) == 100 - max_reasons + 1);
  const auto top = top_reasons(into, 3);
  REQUIRE(top.size() == 3);
  CHECK(top[0].first == other_reasons);
  CHECK(top[1].first == "reason 3");
  CHECK(top[1].second == 11);
  CHECK(top[2].first == "reason 0");  // ties: by text
}

TEST_CASE("wake: a service with new work is due now, not at its next slot, a failing one keeps "
          "its backoff, and its schedule resumes after the cycle",
          "[engine][scheduler]") {
  auto a = svc(1, "daily 20:00");
  auto b = svc(2, "every 15m");
  service_scheduler s({&a, &b}, 0);
  const std::int64_t t0 = 1'700'000'100'000;
  s.start(t0);
  CHECK_FALSE(s.due(t0 + 10).has_value());
  s.wake(0, t0 + 10);
  CHECK(s.due_at(0) == t0 + 10);
  CHECK(s.due(t0 + 10) == std::optional<std::size_t>(0));
  s.completed(0, ok_result(1, 5), t0 + 20);
  CHECK(s.due_at(0) == next_due(a.when, t0 + 20, 0));  // back on its daily slot

  s.wake(0, next_due(a.when, t0 + 20, 0) + 1000);  // later than its slot: the slot stays
  CHECK(s.due_at(0) == next_due(a.when, t0 + 20, 0));

  s.completed(1, failed_result(2), t0 + 30);
  const auto backoff_until = s.due_at(1);
  CHECK(backoff_until == t0 + 30 + 1000);
  s.wake(1, t0 + 40);
  CHECK(s.due_at(1) == backoff_until);  // the retry after its backoff sends the work
}
