#include "tools/target/lib/stats.hpp"

#include <mutex>

#include "tools/target/lib/json_out.hpp"

namespace stampede::target {

void stats::counters::add(const stats_delta& d) {
  constexpr auto rlx = std::memory_order_relaxed;
  if (d.records) records.fetch_add(d.records, rlx);
  if (d.creates) creates.fetch_add(d.creates, rlx);
  if (d.updates) updates.fetch_add(d.updates, rlx);
  if (d.deletes) deletes.fetch_add(d.deletes, rlx);
  if (d.duplicates) duplicates.fetch_add(d.duplicates, rlx);
  if (d.replays) replays.fetch_add(d.replays, rlx);
  if (d.record_errors) record_errors.fetch_add(d.record_errors, rlx);
  if (d.unchanged_updates) unchanged_updates.fetch_add(d.unchanged_updates, rlx);
  if (d.live_keys) live_keys.fetch_add(d.live_keys, rlx);
}

stats::counters& stats::service(std::uint32_t id) {
  {
    std::shared_lock lk(mu_);
    auto it = services_.find(id);
    if (it != services_.end()) return *it->second;
  }
  std::unique_lock lk(mu_);
  auto& slot = services_[id];
  if (!slot) slot = std::make_unique<counters>();
  return *slot;
}

void stats::add(std::uint32_t svc, const stats_delta& d) {
  total_.add(d);
  // Hold the shared lock while adding so clear() cannot free the counters.
  std::shared_lock lk(mu_);
  auto it = services_.find(svc);
  if (it == services_.end()) {
    lk.unlock();
    service(svc);
    lk.lock();
    it = services_.find(svc);
    if (it == services_.end()) return;  // cleared concurrently
  }
  it->second->add(d);
}

void stats::set_live(std::uint32_t svc, std::int64_t live) {
  auto& c = service(svc);
  total_.live_keys.fetch_add(live - c.live_keys.exchange(live));
}

void stats::clear() {
  std::unique_lock lk(mu_);
  services_.clear();
  for (auto* a : {&requests, &batches, &fault_5xx, &fault_429, &fault_dropped, &fault_malformed,
                  &total_.records, &total_.creates, &total_.updates, &total_.deletes,
                  &total_.duplicates, &total_.replays, &total_.record_errors,
                  &total_.unchanged_updates}) {
    a->store(0);
  }
  total_.live_keys.store(0);
}

std::string stats::to_json() const {
  std::string o;
  auto field = [&o](const char* name, std::uint64_t v, bool first = false) {
    if (!first) o.push_back(',');
    o.push_back('"');
    o.append(name);
    o.append("\":");
    json_append_uint(o, v);
  };
  auto ld = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  o.push_back('{');
  field("requests", ld(requests), true);
  field("records", ld(total_.records));
  field("creates", ld(total_.creates));
  field("updates", ld(total_.updates));
  field("deletes", ld(total_.deletes));
  field("duplicates", ld(total_.duplicates));
  field("replays", ld(total_.replays));
  field("record_errors", ld(total_.record_errors));
  field("unchanged_updates", ld(total_.unchanged_updates));
  field("live_keys", static_cast<std::uint64_t>(std::max<std::int64_t>(0, total_.live_keys.load())));
  field("batches", ld(batches));
  o.append(",\"faults\":{");
  field("5xx", ld(fault_5xx), true);
  field("429", ld(fault_429));
  field("dropped", ld(fault_dropped));
  field("malformed", ld(fault_malformed));
  o.append("},\"services\":{");
  std::shared_lock lk(mu_);
  bool first = true;
  for (const auto& [id, c] : services_) {
    if (!first) o.push_back(',');
    first = false;
    o.push_back('"');
    json_append_uint(o, id);
    o.append("\":{");
    field("records", ld(c->records), true);
    field("creates", ld(c->creates));
    field("updates", ld(c->updates));
    field("deletes", ld(c->deletes));
    field("duplicates", ld(c->duplicates));
    field("replays", ld(c->replays));
    field("record_errors", ld(c->record_errors));
    field("unchanged_updates", ld(c->unchanged_updates));
    field("live_keys", static_cast<std::uint64_t>(std::max<std::int64_t>(0, c->live_keys.load())));
    o.push_back('}');
  }
  o.append("}}");
  return o;
}

}  // namespace stampede::target
