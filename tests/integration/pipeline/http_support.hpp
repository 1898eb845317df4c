// Helpers for the HTTP sink integration tests: an in-process reference
// target on port 0, batch builders and a blocking send.
#pragma once

#include "target/http_client.hpp"
#include "target/send_driver.hpp"
#include "target/target_runtime.hpp"
#include "tools/target/lib/server.hpp"

#include <simdjson.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

namespace stampede::test {

/// An in-process reference target on a free port and an HTTP client.
struct fixture {
  target::server srv;
  http_client client;
  explicit fixture(target::options o = {}) : srv(std::move(o)) { srv.start(); }
  ~fixture() { client.stop(); }
};

inline target_config make_target(std::uint16_t port, target_protocol p,
                                 payload_format f = payload_format::records) {
  target_config t;
  t.name = "it";
  t.base_url = "http://127.0.0.1:" + std::to_string(port);
  t.protocol = p;
  t.format = f;
  t.envelope.tenant_id = "tenant-1";
  t.retry_backoff_base = duration{5};
  t.retry_backoff_max = duration{50};
  t.poll_interval = duration{10};
  t.request_attempts = 40;
  t.connect_timeout = duration{2000};
  t.request_timeout = duration{5000};
  return t;
}

/// Records "<prefix><i>" for i in [0, n), data {"key":..,"name":..,"v":version}.
inline std::shared_ptr<send_batch> make_batch(std::uint32_t service, const std::string& prefix,
                                              int n, record_op op, int version = 1,
                                              const std::vector<std::string>* remote_ids = nullptr) {
  auto b = std::make_shared<send_batch>();
  b->service = service;
  for (int i = 0; i < n; ++i) {
    out_record r;
    r.key = prefix + std::to_string(i);
    r.op = op;
    r.idempotency_key = "idem-" + std::to_string(service) + "-" + r.key + "-v" +
                        std::to_string(version) + "-" + std::to_string(static_cast<int>(op));
    if (remote_ids) r.remote_id = (*remote_ids)[static_cast<std::size_t>(i)];
    std::string data = "{\"key\":\"" + r.key + "\",\"name\":\"name " + r.key + "\",\"v\":" +
                       std::to_string(version) + "}";
    r.data_off = static_cast<std::uint32_t>(b->arena.size());
    r.data_len = static_cast<std::uint32_t>(data.size());
    b->arena += data;
    b->records.push_back(std::move(r));
  }
  return b;
}

/// The engine's wiring for one service: a target runtime and a driver on it.
struct driver {
  target_runtime rt;
  send_driver d;
  driver(const target_config& t, http_client& c, std::uint32_t service)
      : rt(t, c), d(rt, service, "svc-" + std::to_string(service)) {}
  send_driver_status status() const { return d.status(); }
  void send(std::shared_ptr<send_batch> b, std::function<void(batch_result)> done,
            send_driver::submitted_fn on_submitted = {}) {
    d.send(std::move(b), std::move(done), std::move(on_submitted));
  }
};

/// Sends and waits (bounded) for the batch_result.
inline batch_result send_and_wait(send_driver& d, std::shared_ptr<send_batch> b,
                                  std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto prom = std::make_shared<std::promise<batch_result>>();
  auto fut = prom->get_future();
  d.send(std::move(b), [prom](batch_result r) { prom->set_value(std::move(r)); });
  if (fut.wait_for(limit) != std::future_status::ready)
    throw std::runtime_error("batch not done within the time limit");
  return fut.get();
}

inline batch_result send_and_wait(driver& d, std::shared_ptr<send_batch> b,
                                  std::chrono::seconds limit = std::chrono::seconds(60)) {
  return send_and_wait(d.d, std::move(b), limit);
}

/// Integer at a JSON pointer of the target's /stats body.
inline std::int64_t stat(const target::server& s, const char* pointer) {
  simdjson::dom::parser p;
  const std::string body = s.stats_json();
  simdjson::dom::element e;
  if (p.parse(body).get(e) != simdjson::SUCCESS) throw std::runtime_error("bad stats: " + body);
  std::int64_t v = -1;
  simdjson::dom::element x;
  if (e.at_pointer(pointer).get(x) != simdjson::SUCCESS) throw std::runtime_error(std::string("no ") + pointer + " in " + body);
  if (x.get_int64().get(v) != simdjson::SUCCESS) throw std::runtime_error(std::string("not int: ") + pointer);
  return v;
}

inline int count_ok(const batch_result& r) {
  int n = 0;
  for (const auto& o : r.outcomes) n += o.ok ? 1 : 0;
  return n;
}

}  // namespace stampede::test
