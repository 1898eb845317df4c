// Unit tests of pipeline/reconcile.hpp: ledger entries, counts and the
// checkpoint rule (contiguous prefix of complete pages, never backwards).
#include "pipeline/reconcile.hpp"
#include "pipeline/transform.hpp"
#include "transform_support.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace stampede;

namespace {

constexpr std::int64_t now = 1715335620000;

std::size_t idx(record_status s) { return static_cast<std::size_t>(s); }

out_record rec(std::string key, record_op op = record_op::create, std::int8_t prior_status = -1,
               std::uint32_t attempts = 0) {
  out_record r;
  r.key = std::move(key);
  r.op = op;
  r.content_hash = 0xABCD0000u + r.key.size();
  r.stamp = "2024-01-01 00:00:00.000";
  r.prior_status = prior_status;
  r.attempts = attempts;
  if (op != record_op::create) r.remote_id = "old-" + r.key;
  return r;
}

/// One part of a page. `end` is the page's last (stamp, recno).
std::shared_ptr<send_batch> part(std::uint64_t page, std::uint32_t p, std::uint32_t parts,
                                 keyset_pos end, std::vector<out_record> records = {}) {
  auto b = std::make_shared<send_batch>();
  b->service = 1;
  b->page_seq = page;
  b->part = p;
  b->parts = parts;
  b->page_end = std::move(end);
  b->records = std::move(records);
  return b;
}

/// A result where every record has the same outcome.
batch_result result(std::shared_ptr<send_batch> b, bool ok, std::string error = "boom") {
  batch_result r;
  r.batch = b;
  for (const auto& x : b->records)
    r.outcomes.push_back(record_outcome{ok, ok ? "r-" + x.key : std::string{}, ok ? "" : error, !ok, 0, {}, {}, false});
  r.http_status = ok ? 200 : 500;
  return r;
}

keyset_pos pos(const char* stamp, std::int64_t recno) { return keyset_pos{stamp, recno}; }

keyset_pos checkpoint(const reconcile_state& rs) {
  return keyset_pos{rs.state().checkpoint_stamp, rs.state().checkpoint_recno};
}

} // namespace

TEST_CASE("reconcile: checkpoint moves over the contiguous prefix of complete pages only",
          "[reconcile]") {
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  const auto end0 = pos("2024-01-01 00:00:01.000", 10);
  const auto end1 = pos("2024-01-01 00:00:02.000", 20);

  // Page 1 (2 parts) arrives first, out of order.
  rs.apply(result(part(1, 1, 2, end1, {rec("k3")}), true), now);
  CHECK(rs.complete_pages() == 0);
  CHECK(rs.state().checkpoint_stamp.empty());
  rs.apply(result(part(1, 0, 2, end1, {rec("k2")}), true), now);
  // Page 1 is complete, but page 0 is not: no move.
  CHECK(rs.complete_pages() == 0);
  CHECK(rs.state().checkpoint_stamp.empty());
  CHECK(rs.state().checkpoint_recno == 0);

  // Page 0 part 0 of 2: still incomplete.
  rs.apply(result(part(0, 0, 2, end0, {rec("k0")}), true), now);
  CHECK(rs.complete_pages() == 0);
  CHECK(rs.state().checkpoint_stamp.empty());

  // Page 0 completes: the checkpoint jumps over page 0 AND page 1.
  rs.apply(result(part(0, 1, 2, end0, {rec("k1")}), true), now);
  CHECK(rs.complete_pages() == 2);
  CHECK(checkpoint(rs) == end1);
  CHECK(rs.counts().pages == 2);
  CHECK(rs.counts().batches == 4);
}

TEST_CASE("reconcile: a page with a gap after it stops the checkpoint at the gap", "[reconcile]") {
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  rs.apply(result(part(0, 0, 1, pos("2024-01-01 00:00:01.000", 1), {rec("a")}), true), now);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:01.000", 1));
  rs.apply(result(part(2, 0, 1, pos("2024-01-01 00:00:03.000", 3), {rec("c")}), true), now);
  CHECK(rs.complete_pages() == 1);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:01.000", 1));
  rs.apply(result(part(1, 0, 1, pos("2024-01-01 00:00:02.000", 2), {rec("b")}), true), now);
  CHECK(rs.complete_pages() == 3);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:03.000", 3));
}

TEST_CASE("reconcile: the checkpoint never moves backwards", "[reconcile]") {
  service_state start;
  start.checkpoint_stamp = "2024-01-01 00:10:00.000";
  start.checkpoint_recno = 50;
  reconcile_state rs(start, 5);
  rs.begin_cycle();
  // A lookback page re-read behind the checkpoint.
  rs.apply(result(part(0, 0, 1, pos("2024-01-01 00:05:00.000", 99), {rec("x")}), true), now);
  CHECK(rs.complete_pages() == 1);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:10:00.000", 50));
  // Same stamp, smaller recno: still behind.
  rs.apply(result(part(1, 0, 1, pos("2024-01-01 00:10:00.000", 49), {rec("y")}), true), now);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:10:00.000", 50));
  // Same stamp, greater recno: ahead, it moves.
  rs.apply(result(part(2, 0, 1, pos("2024-01-01 00:10:00.000", 51), {rec("z")}), true), now);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:10:00.000", 51));
  // An empty page whose end is the read position (no stamp) never resets it.
  rs.apply(result(part(3, 0, 1, keyset_pos{}), true), now);
  CHECK(rs.complete_pages() == 4);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:10:00.000", 51));
}

TEST_CASE("reconcile: empty pages (0 records, parts = 1) advance the checkpoint", "[reconcile]") {
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  // E.g. every row unchanged: the transformer yields one empty batch.
  auto b = part(0, 0, 1, pos("2024-01-01 00:00:05.000", 7));
  b->skipped_unchanged = 25;
  auto updates = rs.apply(result(b, true), now);
  CHECK(updates.empty());
  CHECK(rs.complete_pages() == 1);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:05.000", 7));
  CHECK(rs.counts().unchanged == 25);
  CHECK(rs.counts().sent() == 0);
  // parts = 0 is treated as one part.
  rs.apply(result(part(1, 0, 0, pos("2024-01-01 00:00:06.000", 8)), true), now);
  CHECK(rs.complete_pages() == 2);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:06.000", 8));
}

TEST_CASE("reconcile: successes become success entries with the remote id", "[reconcile]") {
  service_state start;
  start.counts[idx(record_status::error)] = 1;
  start.counts[idx(record_status::success)] = 2;
  start.created = 10;
  reconcile_state rs(start, 5);
  rs.begin_cycle();
  auto b = part(0, 0, 1, pos("2024-01-01 00:00:09.000", 3),
                {rec("new"), rec("upd", record_op::update, 1),
                 rec("retry", record_op::create, 2, 1), rec("gone", record_op::del, 1)});
  b->records[0].stamp = "2024-01-01 00:00:09.000";
  auto r = result(b, true);
  r.outcomes[1].remote_id.clear();  // no id in the answer: keep the one we had
  auto updates = rs.apply(r, now);
  REQUIRE(updates.size() == 4);

  CHECK(updates[0].first == "new");
  const ledger_entry& e0 = updates[0].second;
  CHECK(e0.status == record_status::success);
  CHECK(e0.remote_id == "r-new");
  CHECK(e0.attempts == 1);
  CHECK(e0.content_hash == b->records[0].content_hash);
  CHECK(e0.last_stamp == "2024-01-01 00:00:09.000");
  CHECK(e0.last_op == static_cast<std::uint8_t>(record_op::create));
  CHECK(e0.updated_ms == now);
  CHECK(e0.last_error.empty());

  CHECK(updates[1].second.remote_id == "old-upd");
  CHECK(updates[1].second.last_op == static_cast<std::uint8_t>(record_op::update));
  CHECK(updates[2].second.attempts == 2);
  CHECK(updates[3].second.last_op == static_cast<std::uint8_t>(record_op::del));

  // Counters by op, per cycle and cumulative.
  CHECK(rs.counts().created == 2);
  CHECK(rs.counts().updated == 1);
  CHECK(rs.counts().deleted == 1);
  CHECK(rs.counts().failed == 0);
  CHECK(rs.counts().sent() == 4);
  CHECK(rs.state().created == 12);
  CHECK(rs.state().updated == 1);
  CHECK(rs.state().deleted == 1);
  CHECK(rs.state().newest_delivered_stamp == "2024-01-01 00:00:09.000");

  // Counts by status: "new" none -> success, "upd" success -> success,
  // "retry" error -> success, "gone" success -> success.
  CHECK(rs.state().counts[idx(record_status::success)] == 2 + 1 + 1);
  CHECK(rs.state().counts[idx(record_status::error)] == 0);
  CHECK(rs.state().counts[idx(record_status::pending)] == 0);
  CHECK(rs.state().counts[idx(record_status::cancelled)] == 0);
}

TEST_CASE("reconcile: failures become error, and cancelled at max_attempts", "[reconcile]") {
  service_state start;
  start.counts[idx(record_status::success)] = 1;
  start.counts[idx(record_status::error)] = 2;
  reconcile_state rs(start, 3);
  rs.begin_cycle();
  // attempts before this one: 0, 1 -> error (1, 2 < 3); 2 -> cancelled (3 >= 3).
  auto b = part(0, 0, 1, pos("2024-01-01 00:00:01.000", 1),
                {rec("a"), rec("b", record_op::update, 2, 1), rec("c", record_op::update, 2, 2),
                 rec("d", record_op::update, 1)});
  auto r = result(b, false, "HTTP 500: try later");
  auto updates = rs.apply(r, now);
  REQUIRE(updates.size() == 4);
  CHECK(updates[0].second.status == record_status::error);
  CHECK(updates[0].second.attempts == 1);
  CHECK(updates[0].second.last_error == "HTTP 500: try later");
  CHECK(updates[0].second.remote_id.empty());
  CHECK(updates[1].second.status == record_status::error);
  CHECK(updates[1].second.attempts == 2);
  CHECK(updates[1].second.remote_id == "old-b");  // an update keeps the id it had
  CHECK(updates[2].second.status == record_status::cancelled);
  CHECK(updates[2].second.attempts == 3);
  CHECK(updates[3].second.status == record_status::error);

  CHECK(rs.counts().failed == 4);
  CHECK(rs.counts().cancelled == 1);
  CHECK(rs.counts().created + rs.counts().updated + rs.counts().deleted == 0);
  CHECK(rs.state().failed == 4);
  CHECK(rs.state().newest_delivered_stamp.empty());
  // Counts by status: a none->error, b error->error, c error->cancelled, d success->error.
  CHECK(rs.state().counts[idx(record_status::success)] == 0);
  CHECK(rs.state().counts[idx(record_status::error)] == 2 + 1 - 1 + 1);
  CHECK(rs.state().counts[idx(record_status::cancelled)] == 1);
  // Failures are durable outcomes: the checkpoint moves past them.
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:01.000", 1));
}

TEST_CASE("reconcile: max_attempts 1 cancels at the first failure, a missing outcome is an error",
          "[reconcile]") {
  reconcile_state rs(service_state{}, 1);
  rs.begin_cycle();
  auto b = part(0, 0, 1, pos("2024-01-01 00:00:01.000", 2), {rec("a"), rec("b")});
  batch_result r;
  r.batch = b;
  r.outcomes.push_back(record_outcome{false, {}, "", false, 0, {}, {}, false});  // b has no outcome at all
  auto updates = rs.apply(r, now);
  REQUIRE(updates.size() == 2);
  CHECK(updates[0].second.status == record_status::cancelled);
  CHECK(updates[0].second.last_error == "unknown error");
  CHECK(updates[1].second.status == record_status::cancelled);
  CHECK(updates[1].second.last_error == "no outcome reported by the sender");
  CHECK(rs.counts().cancelled == 2);
  CHECK(rs.state().counts[idx(record_status::cancelled)] == 2);
}

TEST_CASE("reconcile: record errors produce error entries", "[reconcile]") {
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  auto b = part(0, 0, 1, pos("2024-01-01 00:00:01.000", 3), {rec("ok")});
  b->record_errors.push_back({"bad1", "field 'amount' (column A1_VAL, decimal): not a number", {}});
  b->record_errors.push_back({"bad2", "field 'name' (column A1_NOME, string): NULL", {}});
  auto updates = rs.apply(result(b, true), now);
  REQUIRE(updates.size() == 3);
  CHECK(updates[0].first == "ok");
  CHECK(updates[1].first == "bad1");
  CHECK(updates[1].second.status == record_status::error);
  CHECK(updates[1].second.attempts == 1);
  CHECK(updates[1].second.updated_ms == now);
  CHECK(updates[1].second.last_error == "field 'amount' (column A1_VAL, decimal): not a number");
  CHECK(updates[2].first == "bad2");
  CHECK(updates[2].second.status == record_status::error);
  CHECK(rs.counts().failed == 2);
  CHECK(rs.counts().created == 1);
  CHECK(rs.state().counts[idx(record_status::error)] == 2);
  CHECK(rs.state().counts[idx(record_status::success)] == 1);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:01.000", 3));
}

TEST_CASE("reconcile: counts by status never underflow", "[reconcile]") {
  // A prior status the state has no count for (e.g. state lost) stays at 0.
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  rs.apply(result(part(0, 0, 1, pos("2024-01-01 00:00:01.000", 1),
                       {rec("a", record_op::update, 1)}),
                  false),
           now);
  CHECK(rs.state().counts[idx(record_status::success)] == 0);
  CHECK(rs.state().counts[idx(record_status::error)] == 1);
}

TEST_CASE("reconcile: begin_cycle resets pages and cycle counts, keeps the state", "[reconcile]") {
  reconcile_state rs(service_state{}, 5);
  rs.begin_cycle();
  rs.apply(result(part(0, 0, 1, pos("2024-01-01 00:00:01.000", 1), {rec("a")}), true), now);
  rs.apply(result(part(2, 0, 1, pos("2024-01-01 00:00:09.000", 9), {rec("c")}), true), now);
  CHECK(rs.complete_pages() == 1);
  rs.begin_cycle();
  CHECK(rs.complete_pages() == 0);
  CHECK(rs.counts().created == 0);
  CHECK(rs.counts().pages == 0);
  CHECK(rs.state().created == 2);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:01.000", 1));
  // The stale page 2 of the previous cycle is gone: page 0 of this cycle
  // completes alone and a new page 1 is needed before page 2 counts.
  rs.apply(result(part(0, 0, 1, pos("2024-01-01 00:00:02.000", 2), {rec("b")}), true), now);
  CHECK(rs.complete_pages() == 1);
  CHECK(checkpoint(rs) == pos("2024-01-01 00:00:02.000", 2));
}

// ---------------------------------------------------------------------------
// Transform -> reconcile -> transform: what a record error does to a record
// that was already delivered. The error entry must keep the prior ledger
// entry's remote id, last op and hash (record_error::prior), and
// move its count from the prior status: otherwise, once the row is fixed, the
// transformer would decide `create` again, a duplicate at the target (and for
// a deleted row the delete would be skipped forever).
TEST_CASE("reconcile: a record error keeps what the ledger knew of a delivered record",
          "[reconcile]") {
  using namespace stampede::test;
  service_config svc;
  svc.id = 1;
  svc.name = "clients";
  svc.table = "SA1010";
  svc.target = "portal";
  auto code = fcol("code", "A1_COD");
  code.nullable = false;
  svc.fields = {code, fcol("name", "A1_NOME")};
  target_config tgt;
  tgt.name = "portal";
  source_config src;
  const transformer tf(svc, tgt, src);
  REQUIRE(tf.columns() == std::vector<std::string>{"A1_COD", "A1_NOME"});

  // The record was created at the target as "r-42".
  ledger_entry delivered;
  delivered.content_hash = 1234;
  delivered.remote_id = "r-42";
  delivered.status = record_status::success;
  delivered.attempts = 1;
  delivered.last_op = static_cast<std::uint8_t>(record_op::create);
  delivered.last_stamp = "2023-12-31 00:00:00.000";
  service_state start;
  start.counts[idx(record_status::success)] = 1;
  reconcile_state rs(start, 5);
  rs.begin_cycle();

  // Cycle 1: the row now has a NULL code -> record error.
  auto page1 = make_page(1, tf.columns(), {row_spec{"42", {std::nullopt, cellv{"Ana"}}, false, delivered}});
  auto b1 = tf.run(page1);
  REQUIRE(b1.size() == 1);
  REQUIRE(b1[0]->record_errors.size() == 1);
  batch_result r1;
  r1.batch = b1[0];
  auto up1 = rs.apply(r1, now);
  REQUIRE(up1.size() == 1);
  const ledger_entry& after_error = up1[0].second;
  CHECK(after_error.status == record_status::error);
  CHECK(after_error.remote_id == "r-42");  // BUG: ""
  CHECK(after_error.last_op == static_cast<std::uint8_t>(record_op::create));
  // Counts by status: success -> error, not none -> error.
  CHECK(rs.state().counts[idx(record_status::success)] == 0);  // BUG: 1
  CHECK(rs.state().counts[idx(record_status::error)] == 1);

  // Cycle 2: the row is fixed. It must be an update of r-42, not a new record.
  auto page2 = make_page(1, tf.columns(), {row_spec{"42", {cellv{"C42"}, cellv{"Ana"}}, false, after_error}});
  auto b2 = tf.run(page2);
  REQUIRE(b2.size() == 1);
  REQUIRE(b2[0]->records.size() == 1);
  CHECK(b2[0]->records[0].op == record_op::update);  // BUG: create (duplicate at the target)
  CHECK(b2[0]->records[0].remote_id == "r-42");
}
