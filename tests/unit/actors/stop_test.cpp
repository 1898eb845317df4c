// Actor-level test: a stop (SIGTERM) mid-cycle stops reading, lets the pages
// already read complete, and leaves the checkpoint exactly at the end of the
// last page read, with every one of those rows in the ledger.
#include "harness.hpp"

using namespace stampede;
using namespace stampede::actortest;

TEST_CASE("stop mid-cycle: pages already read complete, the checkpoint ends at the last of them",
          "[actors][stop]") {
  fixture_params params;  // 2010 rows, pages of 25, K=4, W=4
  pipeline_fixture fx(params);
  fx.start(/*initial_done=*/false);
  fx.run_until_idle([] {});
  // Let a few pages through so the stop lands mid-table.
  for (int i = 0; i < 10; ++i) {
    fx.release(2);
    fx.run_until_idle([] {});
  }
  const std::uint64_t read_at_stop = fx.ex_state().rows_read;
  REQUIRE(read_at_stop > 0);
  REQUIRE(read_at_stop < params.rows);
  REQUIRE(read_at_stop % params.page_size == 0);
  const std::uint64_t pages_at_stop = fx.ex_state().next_seq;

  caf::anon_send(fx.ex, stop_atom::value);
  fx.run_until_idle([] {});
  CHECK(fx.ex_state().stopped);
  CHECK_FALSE(fx.out->ran);  // pages still outstanding: no reply yet

  while (!fx.out->flushed && fx.out->error.empty() && fx.release(1) > 0)
    fx.run_until_idle([&] {
      // Nothing more is read after the stop.
      REQUIRE(fx.ex_state().rows_read == read_at_stop);
    });
  INFO(fx.out->error);
  REQUIRE(fx.out->flushed);
  CHECK(fx.held->empty());
  CHECK(fx.out->pages == pages_at_stop);

  const keyset_pos end = row_at(fx.db_path, "SA1010", static_cast<std::int64_t>(read_at_stop) - 1);
  const service_state st = fx.store->load_state(pipeline_fixture::service_id);
  CHECK(st.checkpoint_stamp == end.stamp);
  CHECK(st.checkpoint_recno == end.recno);
  CHECK_FALSE(st.initial_load_complete);
  CHECK(st.counts[static_cast<std::size_t>(record_status::success)] == read_at_stop);

  std::uint64_t entries = 0;
  fx.store->scan(pipeline_fixture::service_id, [&](std::string_view, const ledger_entry& e) {
    ++entries;
    CHECK(e.status == record_status::success);
    CHECK(e.last_stamp <= end.stamp);
    return true;
  });
  CHECK(entries == read_at_stop);
}
