#include "http_support.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace stampede;
using namespace stampede::test;

namespace {

void check_all_created(const batch_result& r, std::size_t n) {
  REQUIRE(r.outcomes.size() == n);
  std::set<std::string> ids;
  for (const auto& o : r.outcomes) {
    INFO(o.error);
    CHECK(o.ok);
    CHECK_FALSE(o.remote_id.empty());
    ids.insert(o.remote_id);
  }
  CHECK(ids.size() == n);  // distinct remote ids
}

}  // namespace

TEST_CASE("every protocol creates records, counted exactly by the target", "[integration][http]") {
  fixture f;
  struct variant {
    const char* name;
    target_protocol p;
    payload_format fmt;
    std::uint32_t service;
  };
  const variant vs[] = {{"sync", target_protocol::sync_batch, payload_format::records, 1},
                        {"async", target_protocol::async_batch, payload_format::records, 2},
                        {"rest", target_protocol::rest, payload_format::records, 3},
                        {"envelope", target_protocol::sync_batch, payload_format::envelope, 4}};
  std::int64_t total = 0;
  for (const auto& v : vs) {
    INFO(v.name);
    driver d(make_target(f.srv.port(), v.p, v.fmt), f.client, v.service);
    auto r = send_and_wait(d, make_batch(v.service, "k", 40, record_op::create));
    check_all_created(r, 40);
    CHECK(r.http_status >= 200);
    CHECK(r.http_status < 300);
    total += 40;
    const std::string svc = "/services/" + std::to_string(v.service);
    CHECK(stat(f.srv, (svc + "/creates").c_str()) == 40);
    CHECK(stat(f.srv, "/creates") == total);
    auto st = d.status();
    CHECK(st.batches_done == 1);
    CHECK(st.batches_active == 0);
    CHECK(st.retries == 0);
    if (v.p == target_protocol::rest || v.fmt == payload_format::envelope) CHECK(r.http_attempts == 40);
    if (v.p == target_protocol::sync_batch && v.fmt == payload_format::records) CHECK(r.http_attempts == 1);
    if (v.p == target_protocol::async_batch) CHECK(r.http_attempts >= 2);  // submit + poll(s)
  }
  CHECK(stat(f.srv, "/duplicates") == 0);
  CHECK(stat(f.srv, "/live_keys") == total);
}

TEST_CASE("empty batch completes with no request", "[integration][http]") {
  fixture f;
  driver d(make_target(f.srv.port(), target_protocol::sync_batch), f.client, 1);
  auto r = send_and_wait(d, make_batch(1, "k", 0, record_op::create));
  CHECK(r.outcomes.empty());
  CHECK(r.http_attempts == 0);
  CHECK(stat(f.srv, "/requests") == 0);
}

TEST_CASE("REST update and delete go through the remote id", "[integration][http]") {
  fixture f;
  driver d(make_target(f.srv.port(), target_protocol::rest), f.client, 7);
  auto created = send_and_wait(d, make_batch(7, "r", 10, record_op::create));
  check_all_created(created, 10);
  std::vector<std::string> ids;
  for (const auto& o : created.outcomes) ids.push_back(o.remote_id);

  auto updated = send_and_wait(d, make_batch(7, "r", 10, record_op::update, 2, &ids));
  REQUIRE(count_ok(updated) == 10);
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(updated.outcomes[i].remote_id == ids[i]);
  CHECK(stat(f.srv, "/updates") == 10);

  auto deleted = send_and_wait(d, make_batch(7, "r", 10, record_op::del, 3, &ids));
  CHECK(count_ok(deleted) == 10);
  CHECK(stat(f.srv, "/deletes") == 10);
  CHECK(stat(f.srv, "/live_keys") == 0);

  // update without a remote id: final error, no request sent
  auto before = stat(f.srv, "/requests");
  auto noid = send_and_wait(d, make_batch(7, "x", 2, record_op::update, 4));
  for (const auto& o : noid.outcomes) {
    CHECK_FALSE(o.ok);
    CHECK_FALSE(o.retryable);
    CHECK(o.error.find("no remote id") != std::string::npos);
  }
  CHECK(stat(f.srv, "/requests") == before);
}

TEST_CASE("batch protocols update by key", "[integration][http]") {
  fixture f;
  for (auto p : {target_protocol::sync_batch, target_protocol::async_batch}) {
    const std::uint32_t svc = p == target_protocol::sync_batch ? 11 : 12;
    driver d(make_target(f.srv.port(), p), f.client, svc);
    auto c = send_and_wait(d, make_batch(svc, "u", 20, record_op::create));
    REQUIRE(count_ok(c) == 20);
    auto u = send_and_wait(d, make_batch(svc, "u", 20, record_op::update, 2));
    CHECK(count_ok(u) == 20);
    for (std::size_t i = 0; i < 20; ++i) CHECK(u.outcomes[i].remote_id == c.outcomes[i].remote_id);
    const std::string svcp = "/services/" + std::to_string(svc);
    CHECK(stat(f.srv, (svcp + "/updates").c_str()) == 20);
  }
}

TEST_CASE("per-record validation errors are final", "[integration][http]") {
  target::options o;
  o.f.validate = {"name:maxlen=7"};  // "name k1" passes, "name k10" does not
  fixture f(o);
  for (auto p : {target_protocol::sync_batch, target_protocol::async_batch, target_protocol::rest}) {
    const std::uint32_t svc = 20 + static_cast<std::uint32_t>(p);
    driver d(make_target(f.srv.port(), p), f.client, svc);
    auto r = send_and_wait(d, make_batch(svc, "k", 15, record_op::create));
    REQUIRE(r.outcomes.size() == 15);
    for (std::size_t i = 0; i < 15; ++i) {
      INFO("protocol " << static_cast<int>(p) << " record " << i << ": " << r.outcomes[i].error);
      if (i < 10) {
        CHECK(r.outcomes[i].ok);
      } else {
        CHECK_FALSE(r.outcomes[i].ok);
        CHECK_FALSE(r.outcomes[i].retryable);
        CHECK(r.outcomes[i].error.find("maxlen") != std::string::npos);
      }
    }
    CHECK(d.status().retries == 0);
    if (p == target_protocol::rest) {
      CHECK(r.http_attempts == 15);  // one request per record, no retries
    }
  }
  CHECK(stat(f.srv, "/creates") == 30);
}
