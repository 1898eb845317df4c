// Unit tests of pipeline/reconcile.hpp for the failure classes, the resend
// queue, the delivery journal (log items, retention) and async batches.
#include "pipeline/reconcile.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace stampede;

namespace {

constexpr std::int64_t now = 1715335620000;

out_record rec(std::string key, std::int8_t prior_status = -1, std::uint32_t attempts = 0,
               std::uint32_t items = 0) {
  out_record r;
  r.key = std::move(key);
  r.content_hash = 0x1234;
  r.stamp = "2024-01-01 00:00:00.000";
  r.prior_status = prior_status;
  r.attempts = attempts;
  r.items = items;
  return r;
}

std::shared_ptr<send_batch> page(std::uint64_t seq, keyset_pos end, std::vector<out_record> records) {
  auto b = std::make_shared<send_batch>();
  b->service = 1;
  b->page_seq = seq;
  b->page_end = std::move(end);
  for (auto& r : records) {
    r.data_off = static_cast<std::uint32_t>(b->arena.size());
    std::string data = "{\"k\":\"" + r.key + "\"}";
    r.data_len = static_cast<std::uint32_t>(data.size());
    b->arena += data;
  }
  b->records = std::move(records);
  return b;
}

batch_result failed(std::shared_ptr<send_batch> b, std::string error, int http = 200) {
  batch_result r;
  r.batch = b;
  for (const auto& x : b->records)
    r.outcomes.push_back(record_outcome{false, {}, error, false, http, "{\"key\":\"" + x.key + "\"}", {}, false});
  return r;
}

batch_result delivered(std::shared_ptr<send_batch> b) {
  batch_result r;
  r.batch = b;
  for (const auto& x : b->records)
    r.outcomes.push_back(record_outcome{true, "id-" + x.key, {}, false, 200, {}, {}, false});
  return r;
}

batch_result target_down(std::shared_ptr<send_batch> b) {
  batch_result r;
  r.batch = b;
  r.target = target_failure{failure_class::credentials, "HTTP 401 from http://t/services/1/sync: bad key", 401,
                            "http://t/services/1/sync"};
  return r;
}

const keyset_pos end0{"2024-01-01 00:00:01.000", 10};
const keyset_pos end1{"2024-01-01 00:00:02.000", 20};

} // namespace

TEST_CASE("reconcile: a target-level failure touches no record and holds the checkpoint",
          "[reconcile][failure_class]") {
  service_state start;
  start.checkpoint_stamp = "2023-12-31 00:00:00.000";
  reconcile_state rs(start, reconcile_policy{});
  rs.begin_cycle();
  auto c = rs.apply_all(target_down(page(0, end0, {rec("a"), rec("b")})), now);
  REQUIRE(c.empty());
  auto c1 = rs.apply_all(delivered(page(1, end1, {rec("c")})), now);
  REQUIRE(c1.ledger.size() == 1);
  // Page 1 is delivered, but page 0 failed: the checkpoint stays where it was.
  REQUIRE(rs.state().checkpoint_stamp == "2023-12-31 00:00:00.000");
  REQUIRE(rs.complete_pages() == 0);
  REQUIRE(rs.settled_pages() == 2);  // a flush for 2 pages can be answered
  REQUIRE(rs.counts().target_failures == 1);
  REQUIRE(rs.counts().failed == 0);
  REQUIRE(rs.counts().target_error.find("credentials: HTTP 401") == 0);
  REQUIRE(rs.state().failed == 0);
}

TEST_CASE("reconcile: record errors go to the resend queue with backoff, then Cancelled",
          "[reconcile][resend]") {
  reconcile_policy p;
  p.max_attempts = 3;
  p.resend_backoff_ms = 1000;
  p.resend_backoff_max_ms = 3000;
  reconcile_state rs(service_state{}, p);
  rs.begin_cycle();
  auto c = rs.apply_all(failed(page(0, end0, {rec("a")}), "field 'cnpj' breaks rule 'digits'", 200), now);
  REQUIRE(c.ledger.size() == 1);
  REQUIRE(c.ledger[0].second.status == record_status::error);
  REQUIRE(c.ledger[0].second.attempts == 1);
  REQUIRE(c.resend == std::vector<std::pair<std::string, std::int64_t>>{{"a", now + 1000}});
  REQUIRE(rs.counts().reasons.at("field 'cnpj' breaks rule 'digits'") == 1);
  // The checkpoint moves on: the record waits in the queue, not the page.
  REQUIRE(rs.state().checkpoint_stamp == end0.stamp);

  // Second attempt (a resend): backoff doubles.
  auto b2 = page(1, {}, {rec("a", static_cast<std::int8_t>(record_status::error), 1, 1)});
  b2->detached = true;
  c = rs.apply_all(failed(b2, "still bad"), now);
  REQUIRE(c.ledger[0].second.attempts == 2);
  REQUIRE(c.resend == std::vector<std::pair<std::string, std::int64_t>>{{"a", now + 2000}});
  REQUIRE(rs.counts().resent == 1);

  // Third: max_attempts reached -> Cancelled, out of the queue.
  auto b3 = page(2, {}, {rec("a", static_cast<std::int8_t>(record_status::error), 2, 2)});
  b3->detached = true;
  c = rs.apply_all(failed(b3, "still bad"), now);
  REQUIRE(c.ledger[0].second.status == record_status::cancelled);
  REQUIRE(c.resend.empty());
  REQUIRE(c.resend_erase == std::vector<std::string>{"a"});
  REQUIRE(rs.counts().cancelled == 1);
  REQUIRE(rs.state().counts[static_cast<std::size_t>(record_status::cancelled)] == 1);
  REQUIRE(rs.state().counts[static_cast<std::size_t>(record_status::error)] == 0);
  // The resend pages count for flushes but do not move the checkpoint.
  REQUIRE(rs.complete_pages() == 3);
  REQUIRE(rs.state().checkpoint_stamp == end0.stamp);
}

TEST_CASE("reconcile: max_attempts 0 never queues an automatic resend", "[reconcile][resend]") {
  reconcile_policy p;
  p.max_attempts = 0;
  reconcile_state rs(service_state{}, p);
  rs.begin_cycle();
  for (std::uint32_t attempt = 0; attempt < 8; ++attempt) {
    auto c = rs.apply_all(failed(page(attempt, end0, {rec("a", attempt ? 2 : -1, attempt, attempt)}), "bad"), now);
    REQUIRE(c.ledger[0].second.status == record_status::error);
    REQUIRE(c.resend.empty());
  }
}

TEST_CASE("reconcile: resend backoff doubles up to its maximum", "[reconcile][resend]") {
  reconcile_policy p;
  p.resend_backoff_ms = 100;
  p.resend_backoff_max_ms = 1000;
  REQUIRE(resend_delay_ms(p, 1) == 100);
  REQUIRE(resend_delay_ms(p, 2) == 200);
  REQUIRE(resend_delay_ms(p, 4) == 800);
  REQUIRE(resend_delay_ms(p, 5) == 1000);
  REQUIRE(resend_delay_ms(p, 4000000000u) == 1000);
}

TEST_CASE("reconcile: log items keep failed attempts with capped payloads, at most max_items",
          "[reconcile][journal]") {
  reconcile_policy p;
  p.max_attempts = 100;
  p.payload_max_bytes = 8;
  p.max_items = 2;
  reconcile_state rs(service_state{}, p);
  rs.begin_cycle();
  // A first delivery without history writes no item (summary only).
  auto c = rs.apply_all(delivered(page(0, end0, {rec("ok")})), now);
  REQUIRE(c.items.empty());
  REQUIRE(c.ledger[0].second.created_ms == now);

  c = rs.apply_all(failed(page(1, end1, {rec("a")}), "validation failed", 422), now);
  REQUIRE(c.items.size() == 1);
  const auto& it = c.items[0];
  REQUIRE(it.key == "a");
  REQUIRE(it.no == 0);
  REQUIRE(it.value.http_status == 422);
  REQUIRE(it.value.attempt == 1);
  REQUIRE(it.value.message == "validation failed");
  REQUIRE(it.value.sent.rfind("{\"k\":\"a\"", 0) == 0);
  REQUIRE(it.value.sent.find("bytes)") != std::string::npos);  // capped at 8 bytes
  REQUIRE(c.ledger[0].second.items == 1);

  // Item number 2 pushes item 0 out (max_items = 2).
  auto b = page(2, {}, {rec("a", 2, 2, 2)});
  b->detached = true;
  c = rs.apply_all(failed(b, "again"), now + 1);
  REQUIRE(c.items.at(0).no == 2);
  REQUIRE(c.items_erase == std::vector<std::pair<std::string, std::uint32_t>>{{"a", 0}});

  // Its later success is written to its history (no payloads by default).
  auto ok = page(3, {}, {rec("a", 2, 3, 3)});
  ok->detached = true;
  c = rs.apply_all(delivered(ok), now + 2);
  REQUIRE(c.items.size() == 1);
  REQUIRE(c.items[0].value.status == record_status::success);
  REQUIRE(c.items[0].value.sent.empty());
  REQUIRE(c.resend_erase == std::vector<std::string>{"a"});
}

TEST_CASE("reconcile: an async batch is stored when submitted and erased with its result",
          "[reconcile][async]") {
  reconcile_state rs(service_state{}, reconcile_policy{});
  rs.begin_cycle();
  auto b = page(0, end0, {rec("a"), rec("b")});
  b->records[0].idempotency_key = "idem-a";
  auto s = rs.submitted(*b, "b-7", now);
  REQUIRE(s.batches.size() == 1);
  REQUIRE(s.batches[0].batch_id == "b-7");
  REQUIRE(s.batches[0].records.size() == 2);
  REQUIRE(s.batches[0].records[0].idempotency_key == "idem-a");
  REQUIRE(s.ledger.empty());  // no extra ledger write per record

  // Still processing at poll_timeout: Pending with the id; the page is durable.
  batch_result still;
  still.batch = b;
  still.still_processing_batch_id = "b-7";
  auto c = rs.apply_all(still, now);
  REQUIRE(c.batches_erase.empty());
  REQUIRE(c.ledger.size() == 2);
  REQUIRE(c.ledger[0].second.status == record_status::pending);
  REQUIRE(c.ledger[0].second.batch_id == "b-7");
  REQUIRE(rs.counts().pending == 2);
  REQUIRE(rs.state().checkpoint_stamp == end0.stamp);

  // A later cycle polls it (resume) and applies the result: erased.
  reconcile_state next(rs.state(), reconcile_policy{});
  next.begin_cycle();
  auto r = std::make_shared<send_batch>(*b);
  r->detached = true;
  r->resume_batch_id = "b-7";
  for (auto& x : r->records) x.prior_status = static_cast<std::int8_t>(record_status::pending);
  c = next.apply_all(delivered(r), now);
  REQUIRE(c.batches_erase == std::vector<std::string>{"b-7"});
  REQUIRE(c.ledger[0].second.remote_id == "id-a");
  REQUIRE(next.state().counts[static_cast<std::size_t>(record_status::pending)] == 0);
  REQUIRE(next.state().counts[static_cast<std::size_t>(record_status::success)] == 2);
  REQUIRE(next.counts().resent == 0);  // a resumed poll is not a resend
}
