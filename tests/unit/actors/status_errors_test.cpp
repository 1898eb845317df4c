// Actor-level tests: every stage answers `status` with its typed counters
// (status_api), errors cross actor boundaries as errc codes, and a batch that
// failed at the target level settles its page without completing the load.
#include "harness.hpp"

using namespace stampede;
using namespace stampede::actortest;

TEST_CASE("every stage answers status with its own typed counters", "[actors][status]") {
  fixture_params params;
  params.rows = 503;  // 20 full pages + a page of 3
  pipeline_fixture fx(params);
  fx.start();
  fx.run_until_idle([] {});
  while (!fx.out->flushed && fx.release(static_cast<std::size_t>(-1)) > 0)
    fx.run_until_idle([] {});
  REQUIRE(fx.out->flushed);

  const auto ex = fx.ask_status(caf::actor_cast<status_api>(fx.ex));
  CHECK(ex.stage_name() == "extractor");
  CHECK(ex.service == pipeline_fixture::service_id);
  REQUIRE(ex.as<extractor_status>() != nullptr);
  CHECK(ex.as<sender_status>() == nullptr);
  CHECK(ex.as<extractor_status>()->rows_read == params.rows);
  CHECK(ex.as<extractor_status>()->rows_expected == params.rows);
  CHECK(ex.as<extractor_status>()->pages == fx.expected_pages());
  CHECK(ex.as<extractor_status>()->finished);
  CHECK_FALSE(ex.as<extractor_status>()->stopped);

  std::uint64_t tf_pages = 0, tf_records = 0;
  for (const auto& t : fx.tfs) {
    const auto st = fx.ask_status(caf::actor_cast<status_api>(t));
    CHECK(st.stage_name() == "transformer");
    REQUIRE(st.as<transformer_status>() != nullptr);
    tf_pages += st.as<transformer_status>()->pages;
    tf_records += st.as<transformer_status>()->records;
    CHECK(st.as<transformer_status>()->queued == 0);
  }
  CHECK(tf_pages == fx.expected_pages());
  CHECK(tf_records == params.rows);

  const auto snd = fx.ask_status(caf::actor_cast<status_api>(fx.snd));
  CHECK(snd.stage_name() == "sender");
  REQUIRE(snd.as<sender_status>() != nullptr);
  CHECK(snd.service == pipeline_fixture::service_id);
  CHECK(snd.as<sender_status>()->records == params.rows);
  CHECK(snd.as<sender_status>()->batches == fx.expected_batches());
  CHECK(snd.as<sender_status>()->in_flight == 0);
  CHECK(snd.as<sender_status>()->in_flight_records == 0);
  CHECK(snd.as<sender_status>()->max_in_flight == params.W);

  const auto rec = fx.ask_status(caf::actor_cast<status_api>(fx.rec));
  CHECK(rec.stage_name() == "reconciler");
  REQUIRE(rec.as<reconciler_status>() != nullptr);
  const auto& r = *rec.as<reconciler_status>();
  CHECK(r.summary.counts.created == params.rows);
  CHECK(r.settled_pages == fx.expected_pages());
  CHECK(r.complete_pages == fx.expected_pages());
  CHECK(r.commits == fx.expected_batches());
  CHECK(r.error.empty());
  CHECK(r.summary.checkpoint_stamp == fx.last.stamp);
}

TEST_CASE("while batches are at the target, the sender's status counts them and their records",
          "[actors][status]") {
  fixture_params params;  // batches of 10 records, W = 4
  pipeline_fixture fx(params);
  fx.start();
  fx.run_until_idle([] {});
  REQUIRE(fx.held->size() == params.W);
  const auto snd = fx.ask_status(caf::actor_cast<status_api>(fx.snd));
  REQUIRE(snd.as<sender_status>() != nullptr);
  CHECK(snd.as<sender_status>()->in_flight == params.W);
  std::uint64_t held_records = 0;  // 10 + 10 + 5 per page: 35 in the first 4 batches
  for (const auto& h : *fx.held)
    held_records += h.batch->records.size();
  CHECK(held_records == 35);
  CHECK(snd.as<sender_status>()->in_flight_records == held_records);
  CHECK(snd.as<sender_status>()->waiting > 0);
}

TEST_CASE("a source failure reaches the driver as errc::source_failed with a readable message",
          "[actors][errc]") {
  fixture_params params;
  params.rows = 100;
  pipeline_fixture fx(params);
  sql_exec(fx.db_path, "DROP TABLE SA1010;");
  fx.start();
  fx.run_until_idle([] {});
  CHECK_FALSE(fx.out->ran);
  CHECK_FALSE(fx.out->flushed);
  REQUIRE(fx.out->err);
  CHECK(errc_of(fx.out->err) == errc::source_failed);
  const auto text = render(fx.out->err);
  INFO(text);
  CHECK(text.rfind("source failed: service 7", 0) == 0);
  CHECK(text.find("SA1010") != std::string::npos);
  // The actor system renders it the same way (the category is registered).
  CHECK(fx.sys.render(fx.out->err).find("source failed: service 7") != std::string::npos);
}

TEST_CASE("errc: codes round-trip through caf::error, CAF's own errors are not ours",
          "[actors][errc]") {
  const auto e = make_error(errc::target_failed, "service 3: HTTP 401 from http://x/sync");
  CHECK(errc_of(e) == errc::target_failed);
  CHECK(render(e) == "target failed: service 3: HTTP 401 from http://x/sync");
  CHECK(render(make_error(errc::drain_timeout, "")) == "drain timed out");
  const caf::error theirs = caf::make_error(caf::sec::request_timeout);
  CHECK_FALSE(errc_of(theirs).has_value());
  CHECK_FALSE(render(theirs).empty());
  CHECK_FALSE(errc_of(caf::error{}).has_value());
  CHECK(render(caf::error{}).empty());
}

TEST_CASE("a batch that failed at the target level settles its page: the flush answers, the load "
          "is not complete and the checkpoint stops before that page",
          "[actors][target]") {
  fixture_params params;
  params.rows = 503;
  params.K = 1;
  params.W = 1;
  pipeline_fixture fx(params);
  fx.start();
  fx.run_until_idle([] {});
  // Pages 0 and 1 (3 batches each) succeed; the first batch of page 2 fails
  // at the target level; everything after succeeds.
  std::uint64_t n = 0;
  while (!fx.out->flushed && fx.out->error.empty() && !fx.held->empty()) {
    if (n++ == 6)
      fx.release_target_failure();
    else
      fx.release(1);
    fx.run_until_idle([] {});
  }
  INFO(fx.out->error);
  REQUIRE(fx.out->flushed);
  const auto& s = fx.out->summary;
  CHECK(s.counts.target_failures == 1);
  CHECK_FALSE(s.counts.target_error.empty());
  CHECK_FALSE(s.initial_load_complete);
  const keyset_pos end_of_page_1 = row_at(fx.db_path, "SA1010", 2 * params.page_size - 1);
  const service_state st = fx.store->load_state(pipeline_fixture::service_id);
  CHECK_FALSE(st.initial_load_complete);
  CHECK(st.checkpoint_stamp == end_of_page_1.stamp);
  CHECK(st.checkpoint_recno == end_of_page_1.recno);
}
