// Actor-level tests: every edge of the pipeline stays bounded under a slow
// target, and the cycle still completes with a correct ledger and checkpoint.
// Runs the real extractor/transformers/sender/reconciler on CAF's
// deterministic test_coordinator, one message per step.
#include "harness.hpp"

#include <algorithm>
#include <sstream>

using namespace stampede;
using namespace stampede::actortest;

namespace {

/// The bounds that must hold after every single message.
///
/// Rows read: the extractor reads a page only while it has fewer than K
/// pages unanswered, and a transformer answers a page only once the sender has
/// accepted (= started) every batch of it. A full page splits into
/// B = ceil(page_size / batch_records) batches (the short last page into at
/// least one), so pages answered <= ceil(started / B). The sender starts a
/// batch only into a free slot of W, and a slot frees only when the
/// reconciler has made a released outcome durable, so started <= W + R where
/// R = batches the test has released (an empty last page's batch skips the
/// target, but once it is read there is nothing left to read). Hence
///     rows_read <= page_size * (K + ceil((W + R) / B)).
/// Other edges: in flight <= W; sender waiting <= transformers * K (each
/// waiting batch is one unanswered transformer request); each transformer
/// <= K unanswered; extractor <= K unanswered; the target never holds more
/// than W batches.
void check_bounds(pipeline_fixture& fx) {
  const auto& p = fx.p;
  auto& ex = fx.ex_state();
  auto& snd = fx.snd_state();
  std::ostringstream bad;
  if (snd.in_flight > p.W)
    bad << "sender in_flight " << snd.in_flight << " > W " << p.W << "; ";
  if (snd.waiting.size() > std::uint64_t{p.transformers} * p.K)
    bad << "sender waiting " << snd.waiting.size() << " > T*K; ";
  if (fx.held->size() > p.W)
    bad << "target holds " << fx.held->size() << " batches > W; ";
  for (std::size_t i = 0; i < fx.tfs.size(); ++i)
    if (fx.tf_state(i).outstanding > p.K)
      bad << "transformer " << i << " outstanding " << fx.tf_state(i).outstanding << " > K; ";
  if (ex.outstanding > p.K)
    bad << "extractor outstanding " << ex.outstanding << " > K; ";
  const std::uint64_t B = fx.batches_per_page();
  const std::uint64_t started_max = p.W + fx.released;
  const std::uint64_t rows_bound = std::uint64_t{p.page_size} * (p.K + (started_max + B - 1) / B);
  if (ex.rows_read > rows_bound)
    bad << "rows_read " << ex.rows_read << " > bound " << rows_bound << " (released "
        << fx.released << "); ";
  if (ex.rows_read > p.rows)
    bad << "rows_read " << ex.rows_read << " > table rows; ";
  const std::string msg = bad.str();
  if (!msg.empty())
    FAIL(msg);
}

/// Releases `per_round` held batches at a time until the driver has its
/// flush reply (or nothing is left to release), checking the bounds after
/// every message.
void drain(pipeline_fixture& fx, std::size_t per_round,
           const std::function<bool(const out_record&)>& fails = {}) {
  auto check = [&] { check_bounds(fx); };
  while (!fx.out->flushed && fx.out->error.empty()) {
    if (fx.release(per_round, fails) == 0)
      break;
    fx.run_until_idle(check);
  }
  INFO("driver error: " << fx.out->error);
  REQUIRE(fx.out->error.empty());
  // Nothing left anywhere: no deadlock with work pending.
  REQUIRE(fx.held->empty());
  REQUIRE(fx.out->ran);
  REQUIRE(fx.out->flushed);
}

void check_state_and_ledger(pipeline_fixture& fx,
                            const std::function<bool(std::string_view key)>& failed_key,
                            record_status failed_status) {
  const std::uint64_t rows = fx.p.rows;
  std::uint64_t nfail = 0, seen = 0;
  std::vector<bool> recno_seen(rows + 1, false);
  fx.store->scan(pipeline_fixture::service_id, [&](std::string_view key, const ledger_entry& e) {
    ++seen;
    const auto recno = std::stoll(std::string(key));
    if (recno >= 1 && recno <= static_cast<long long>(rows))
      recno_seen[static_cast<std::size_t>(recno)] = true;
    CHECK(e.attempts == 1);
    CHECK(e.last_op == static_cast<std::uint8_t>(record_op::create));
    CHECK(e.content_hash != 0);
    CHECK(!e.last_stamp.empty());
    if (failed_key && failed_key(key)) {
      ++nfail;
      CHECK(e.status == failed_status);
      CHECK(e.remote_id.empty());
      CHECK(e.last_error == "HTTP 422: rejected " + std::string(key));
    } else {
      CHECK(e.status == record_status::success);
      CHECK(e.remote_id == "r-" + std::string(key));
      CHECK(e.last_error.empty());
    }
    return true;
  });
  CHECK(seen == rows);
  CHECK(std::count(recno_seen.begin() + 1, recno_seen.end(), true) ==
        static_cast<std::ptrdiff_t>(rows));

  const service_state st = fx.store->load_state(pipeline_fixture::service_id);
  CHECK(st.checkpoint_stamp == fx.last.stamp);
  CHECK(st.checkpoint_recno == fx.last.recno);
  CHECK(st.initial_load_complete);
  CHECK(st.counts[static_cast<std::size_t>(record_status::success)] == rows - nfail);
  CHECK(st.counts[static_cast<std::size_t>(failed_status)] == nfail);
  CHECK(st.created == rows - nfail);
  CHECK(st.failed == nfail);

  const auto& s = fx.out->summary;
  CHECK(s.counts.created == rows - nfail);
  CHECK(s.counts.failed == nfail);
  CHECK(s.counts.cancelled == (failed_status == record_status::cancelled ? nfail : 0));
  CHECK(s.counts.pages == fx.expected_pages());
  CHECK(s.counts.batches == fx.expected_batches());
  CHECK(s.counts.target_failures == 0);
  CHECK(s.checkpoint_stamp == fx.last.stamp);
  CHECK(s.checkpoint_recno == fx.last.recno);
  CHECK(s.initial_load_complete);
  // The summary carries the service's records by status, as the store has them.
  CHECK(s.records == st.counts);
  CHECK(fx.out->extracted.pages == fx.expected_pages());
  CHECK(fx.out->extracted.rows_read == rows);
  CHECK_FALSE(fx.out->extracted.stopped);
}

} // namespace

TEST_CASE("under a slow sender, buffered batches never exceed the bound", "[actors][bounded]") {
  fixture_params params;  // 2010 rows, pages of 25, batches of 10, K=4, W=4, 2 transformers
  pipeline_fixture fx(params);
  REQUIRE(fx.batches_per_page() == 3);
  REQUIRE(fx.expected_pages() == 81);
  REQUIRE(fx.expected_batches() == 80 * 3 + 1);

  fx.start();
  // Phase 1: the target answers nothing. The pipeline must stall with
  // everything bounded, far short of the table.
  fx.run_until_idle([&] { check_bounds(fx); });
  {
    auto& ex = fx.ex_state();
    auto& snd = fx.snd_state();
    CHECK(fx.held->size() == params.W);
    CHECK(snd.in_flight == params.W);
    CHECK(ex.outstanding == params.K);
    // K pages unanswered, plus at most the pages whose batches all fit in W
    // (here page 0's three batches start, so one more page is read): 125
    // rows of 2010.
    CHECK(ex.rows_read >= std::uint64_t{params.K} * params.page_size);
    CHECK(ex.rows_read <= std::uint64_t{params.page_size} * (params.K + params.W / 3));
    CHECK_FALSE(ex.finished);
    CHECK(ex.rows_expected == params.rows);
    CHECK(snd.waiting.size() > 0);
    CHECK_FALSE(fx.out->ran);
    // Nothing durable yet: the checkpoint has not moved.
    CHECK(fx.store->load_state(pipeline_fixture::service_id).checkpoint_stamp.empty());
  }

  // Phase 2: the target answers two batches at a time.
  drain(fx, 2);

  CHECK(fx.out->pages == fx.expected_pages());
  CHECK(fx.released == fx.expected_batches());
  check_state_and_ledger(fx, {}, record_status::error);

  auto& ex = fx.ex_state();
  auto& snd = fx.snd_state();
  CHECK(ex.rows_read == params.rows);
  CHECK(ex.finished);
  CHECK(ex.outstanding == 0);
  CHECK(ex.max_outstanding == params.K);
  CHECK(snd.in_flight == 0);
  CHECK(snd.waiting.empty());
  CHECK(snd.max_in_flight == params.W);
  CHECK(snd.max_waiting <= std::uint64_t{params.transformers} * params.K);
  CHECK(snd.records == params.rows);
  CHECK(snd.batches == fx.expected_batches());
  CHECK(snd.failed_records == 0);
  std::uint64_t tf_records = 0, tf_pages = 0;
  for (std::size_t i = 0; i < fx.tfs.size(); ++i) {
    auto& t = fx.tf_state(i);
    CHECK(t.max_outstanding <= params.K);
    CHECK(t.outstanding == 0);
    CHECK(t.queue.empty());
    CHECK(t.pages > 0);  // round-robin: both transformers worked
    tf_records += t.records;
    tf_pages += t.pages;
  }
  CHECK(tf_records == params.rows);
  CHECK(tf_pages == fx.expected_pages());
}

TEST_CASE("W=1 and K=1 still complete, failed outcomes are errors and the checkpoint passes them",
          "[actors][bounded]") {
  fixture_params params;
  params.rows = 503;   // 20 full pages + a page of 3
  params.K = 1;
  params.W = 1;
  const auto fails = [](const out_record& r) { return r.recno % 5 == 0; };
  const auto failed_key = [](std::string_view key) { return std::stoll(std::string(key)) % 5 == 0; };

  SECTION("errors below max_attempts") {
    pipeline_fixture fx(params);
    fx.start();
    fx.run_until_idle([&] { check_bounds(fx); });
    CHECK(fx.held->size() == 1);
    CHECK(fx.ex_state().rows_read == params.page_size);
    drain(fx, 1, fails);
    CHECK(fx.out->pages == fx.expected_pages());
    CHECK(fx.snd_state().max_in_flight == 1);
    CHECK(fx.snd_state().failed_records == 503 / 5);
    CHECK(fx.ex_state().max_outstanding == 1);
    check_state_and_ledger(fx, failed_key, record_status::error);
  }
  SECTION("max_attempts = 1: failures are cancelled") {
    params.max_attempts = 1;
    pipeline_fixture fx(params);
    fx.start();
    fx.run_until_idle([&] { check_bounds(fx); });
    drain(fx, 1, fails);
    check_state_and_ledger(fx, failed_key, record_status::cancelled);
  }
}

TEST_CASE("a fast target (answers everything at once) completes with the same result",
          "[actors][bounded]") {
  fixture_params params;
  params.rows = 1000;  // a multiple of page_size: the last page is empty
  params.transformers = 3;
  pipeline_fixture fx(params);
  REQUIRE(fx.expected_pages() == 41);
  REQUIRE(fx.expected_batches() == 40 * 3 + 1);
  fx.start();
  fx.run_until_idle([&] { check_bounds(fx); });
  drain(fx, static_cast<std::size_t>(-1));
  CHECK(fx.out->pages == 41);
  // The empty last page never reaches the target but still counts as a batch.
  CHECK(fx.released == 40 * 3);
  check_state_and_ledger(fx, {}, record_status::error);
}
