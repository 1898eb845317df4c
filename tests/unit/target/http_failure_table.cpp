// The failure table (target/retry.cpp, docs/failure-classes.md): every row
// that decides a class, checked by endpoint kind and situation.
#include "target/retry.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

namespace {

exchange_facts answered(endpoint_kind k, int status) {
  exchange_facts f;
  f.kind = k;
  f.status = status;
  return f;
}

exchange_facts no_answer(endpoint_kind k, bool timed_out, bool sent) {
  exchange_facts f;
  f.kind = k;
  f.transport_error = true;
  f.timed_out = timed_out;
  f.sent = sent;
  return f;
}

const endpoint_kind k_service_kinds[] = {endpoint_kind::sync,          endpoint_kind::submit,
                                         endpoint_kind::poll,          endpoint_kind::record_create,
                                         endpoint_kind::record_item,   endpoint_kind::record_delete};
const endpoint_kind k_sending_kinds[] = {endpoint_kind::sync, endpoint_kind::submit,
                                         endpoint_kind::record_create, endpoint_kind::record_item,
                                         endpoint_kind::record_delete};

}  // namespace

TEST_CASE("failure table: 2xx is success, unreadable 2xx is an unknown outcome", "[failure]") {
  for (auto k : k_service_kinds) {
    INFO(to_string(k));
    CHECK(classify(answered(k, 200)).action == failure_action::success);
    CHECK(classify(answered(k, 202)).action == failure_action::success);
    auto f = answered(k, 200);
    f.unreadable = true;
    auto d = classify(f);
    CHECK(d.retry());
    CHECK(d.cls == failure_class::exhausted);
    // a poll is a GET: safe to repeat, never "unknown"
    CHECK(d.action == (k == endpoint_kind::poll ? failure_action::retry : failure_action::retry_unknown));
  }
}

TEST_CASE("failure table: no answer", "[failure]") {
  for (auto k : k_sending_kinds) {
    INFO(to_string(k));
    // connection refused / DNS: nothing reached the target
    auto d = classify(no_answer(k, false, false));
    CHECK(d.action == failure_action::retry);
    CHECK(d.cls == failure_class::unreachable);
    CHECK(d.reason == "connection error");
    // connect timeout: nothing sent
    d = classify(no_answer(k, true, false));
    CHECK(d.action == failure_action::retry);
    CHECK(d.cls == failure_class::unreachable);
    // timed out after sending: the target may have applied it
    d = classify(no_answer(k, true, true));
    CHECK(d.action == failure_action::retry_unknown);
    CHECK(d.cls == failure_class::exhausted);
    // connection lost after sending
    d = classify(no_answer(k, false, true));
    CHECK(d.action == failure_action::retry_unknown);
    CHECK(d.cls == failure_class::unreachable);
  }
  CHECK(classify(no_answer(endpoint_kind::poll, true, true)).action == failure_action::retry);
  CHECK(classify(no_answer(endpoint_kind::poll, false, true)).action == failure_action::retry);
  // the status is ignored without an answer
  auto f = no_answer(endpoint_kind::sync, false, false);
  f.status = 400;
  CHECK(classify(f).action == failure_action::retry);
  // stopped client: target-level cancelled at once, whatever the kind
  for (auto k : k_service_kinds) {
    auto c = no_answer(k, false, true);
    c.cancelled = true;
    CHECK(classify(c).action == failure_action::target);
    CHECK(classify(c).cls == failure_class::cancelled);
  }
}

TEST_CASE("failure table: credentials", "[failure]") {
  for (auto k : k_service_kinds) {
    INFO(to_string(k));
    for (int s : {401, 403}) {
      auto f = answered(k, s);
      f.may_refresh = true;
      CHECK(classify(f).action == failure_action::refresh_auth);
      f.may_refresh = false;  // static key, or already refreshed once
      CHECK(classify(f).action == failure_action::target);
      CHECK(classify(f).cls == failure_class::credentials);
    }
  }
  for (int s : {400, 401, 403}) {
    INFO(s);
    CHECK(classify(answered(endpoint_kind::token, s)).cls == failure_class::credentials);
    CHECK(classify(answered(endpoint_kind::token, s)).action == failure_action::target);
  }
  CHECK(classify(answered(endpoint_kind::token, 404)).cls == failure_class::route);
  CHECK(classify(answered(endpoint_kind::token, 503)).action == failure_action::retry);
  CHECK(classify(no_answer(endpoint_kind::token, false, false)).cls == failure_class::unreachable);
  auto t = answered(endpoint_kind::token, 200);
  t.unreadable = true;
  CHECK(classify(t).action == failure_action::retry);
}

TEST_CASE("failure table: routes and per-record 404s", "[failure]") {
  for (auto k : {endpoint_kind::sync, endpoint_kind::submit, endpoint_kind::record_create}) {
    INFO(to_string(k));
    for (bool json : {false, true}) {
      auto f = answered(k, 404);
      f.json_error_body = json;
      CHECK(classify(f).action == failure_action::target);
      CHECK(classify(f).cls == failure_class::route);
    }
    CHECK(classify(answered(k, 405)).cls == failure_class::route);
  }
  // update / message: a 404 with a JSON error is about the record, without one the route is wrong
  auto item = answered(endpoint_kind::record_item, 404);
  CHECK(classify(item).cls == failure_class::route);
  item.json_error_body = true;
  CHECK(classify(item).action == failure_action::record_error);
  auto del = answered(endpoint_kind::record_delete, 404);
  CHECK(classify(del).cls == failure_class::route);
  del.json_error_body = true;
  CHECK(classify(del).action == failure_action::record_gone);
  // poll: the target forgot the batch
  CHECK(classify(answered(endpoint_kind::poll, 404)).action == failure_action::batch_unknown);
  CHECK(classify(answered(endpoint_kind::poll, 405)).cls == failure_class::route);
  // 3xx and 501
  CHECK(classify(answered(endpoint_kind::sync, 301)).cls == failure_class::route);
  CHECK(classify(answered(endpoint_kind::record_create, 501)).cls == failure_class::route);
}

TEST_CASE("failure table: retryable statuses exhaust, other 4xx are record-level", "[failure]") {
  for (auto k : k_service_kinds) {
    INFO(to_string(k));
    for (int s : {408, 429, 500, 502, 503, 504, 599, 100}) {
      INFO(s);
      auto d = classify(answered(k, s));
      CHECK(d.action == failure_action::retry);
      CHECK(d.cls == failure_class::exhausted);
    }
  }
  for (auto k : k_sending_kinds) {
    INFO(to_string(k));
    for (int s : {400, 409, 413, 422}) {
      INFO(s);
      CHECK(classify(answered(k, s)).action == failure_action::record_error);
    }
  }
  // a poll failure is never a record failure
  CHECK(classify(answered(endpoint_kind::poll, 400)).action == failure_action::target);
  CHECK(classify(answered(endpoint_kind::sync, 600)).action == failure_action::target);
}
