// Cycle-level tests on a real (threaded) actor system: run_cycle against a
// fake target. After a stop, the whole drain is bounded by
// engine.drain_timeout and the result says what was left in flight.
#include "actors/cycle.hpp"
#include "harness.hpp"

#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <mutex>

using namespace stampede;
using namespace stampede::actortest;
using namespace std::chrono_literals;

namespace {

/// A target that never answers: it keeps every batch (and its callback).
struct silent_target {
  std::mutex mx;
  std::deque<held_batch> held;
  batch_starter starter() {
    return [this](batch_ptr b, std::function<void(batch_result)> done, submitted_fn) {
      std::lock_guard<std::mutex> lk(mx);
      held.push_back(held_batch{std::move(b), std::move(done)});
    };
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lk(mx);
    return held.size();
  }
  std::uint64_t records() {
    std::lock_guard<std::mutex> lk(mx);
    std::uint64_t n = 0;
    for (const auto& h : held)
      n += h.batch->records.size();
    return n;
  }
  void clear() {
    std::lock_guard<std::mutex> lk(mx);
    held.clear();
  }
};

caf::actor_system_config& threaded_config(caf::actor_system_config& c) {
  c.set("logger.console", caf::atom("none"));
  c.set("scheduler.max-threads", std::size_t{2});
  register_errors(c);
  return c;
}

/// Runs `fn` on a thread; when it does not return within `limit` the test
/// cannot go on (the cycle still uses the world), so the process ends.
cycle_result within(std::chrono::milliseconds limit, std::function<cycle_result()> fn) {
  auto fut = std::async(std::launch::async, std::move(fn));
  if (fut.wait_for(limit) != std::future_status::ready) {
    std::cerr << "run_cycle did not return within " << limit.count()
              << " ms: the drain is not bounded\n";
    std::_Exit(1);
  }
  return fut.get();
}

} // namespace

TEST_CASE("after a stop, a silent target cannot hold the cycle beyond engine.drain_timeout",
          "[actors][cycle][drain]") {
  fixture_params params;  // 2010 rows, pages of 25, batches of 10, K = 4, W = 4
  test_world w(params);
  w.cfg.engine.drain_timeout = 400ms;
  caf::actor_system_config sys_cfg;
  caf::actor_system sys(threaded_config(sys_cfg));
  silent_target target;
  stop_token stop;
  cycle_options co;
  co.stop = &stop;
  co.tick = 20ms;
  // Stop once the target holds a full window: nothing will ever come back.
  co.on_progress = [&](const cycle_progress& p) {
    if (!p.done && p.in_flight >= params.W)
      stop.request();
  };
  const auto r = within(20s, [&] {
    return run_cycle(sys, w.cfg, w.cfg.services[0], *w.store, target.starter(), co);
  });
  REQUIRE(stop.requested());
  const auto since_stop_ms = stop_token::monotonic_ms() - stop.requested_at_ms();
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.code == errc::drain_timeout);
  // Bounded by the drain timeout (plus the last tick and the actors' exit).
  CHECK(since_stop_ms < 400 + 1500);
  CHECK(r.stopped);
  CHECK(r.left.batches_in_flight == params.W);
  REQUIRE(target.size() == params.W);
  const auto held_records = target.records();  // pages split 10 + 10 + 5: 35 of the first 4
  CHECK(r.left.records_in_flight == held_records);
  CHECK(r.left.pages_unfinished > 0);
  CHECK(r.error.find("drain timed out") != std::string::npos);
  CHECK(r.error.find(std::to_string(params.W) + " batch(es) (" + std::to_string(held_records) +
                     " records) still at the target") != std::string::npos);
  // Nothing was made durable: the checkpoint did not move.
  CHECK(w.store->load_state(test_world::service_id).checkpoint_stamp.empty());
  target.clear();
}

TEST_CASE("a stop whose drain finishes in time ends the cycle ok and stopped, checkpoint at the "
          "last page read",
          "[actors][cycle][drain]") {
  fixture_params params;
  test_world w(params);
  w.cfg.engine.drain_timeout = 10s;
  caf::actor_system_config sys_cfg;
  caf::actor_system sys(threaded_config(sys_cfg));
  stop_token stop;
  std::atomic<int> sent{0};
  // A target that answers at once, and asks for a stop after 10 batches.
  batch_starter fast = [&](batch_ptr b, std::function<void(batch_result)> done, submitted_fn) {
    batch_result res;
    res.batch = b;
    res.http_status = 200;
    res.http_attempts = 1;
    for (const auto& x : b->records) {
      record_outcome o;
      o.ok = true;
      o.remote_id = "r-" + x.key;
      res.outcomes.push_back(std::move(o));
    }
    if (++sent == 10)
      stop.request();
    done(std::move(res));
  };
  cycle_options co;
  co.stop = &stop;
  co.tick = 10ms;
  const auto r = within(20s, [&] {
    return run_cycle(sys, w.cfg, w.cfg.services[0], *w.store, fast, co);
  });
  INFO(r.error);
  REQUIRE(stop.requested());
  if (r.rows_read == params.rows) {
    // The whole table was read before the stop reached the extractor.
    CHECK(r.ok);
    SUCCEED("the stop arrived after the last page");
    return;
  }
  CHECK(r.ok);
  CHECK(r.code == errc::none);
  CHECK(r.stopped);
  CHECK_FALSE(r.initial_load_complete);
  CHECK(r.counts.created == r.rows_read);
  const auto st = w.store->load_state(test_world::service_id);
  CHECK_FALSE(st.initial_load_complete);
  const keyset_pos end = row_at(w.db_path, "SA1010", static_cast<std::int64_t>(r.rows_read) - 1);
  CHECK(st.checkpoint_stamp == end.stamp);
  CHECK(st.checkpoint_recno == end.recno);
}
