#include "actors/sender.hpp"

#include <chrono>

namespace stampede {

std::string sender_config::validate() const {
  if (!start)
    return "sender: no batch starter";
  if (!reconciler)
    return "sender: no reconciler";
  if (in_flight == 0)
    return "sender: in_flight must be >= 1";
  return {};
}

namespace {

using self_ptr = sender_actor::stateful_pointer<sender_state>;

void start_batch(self_ptr self, batch_ptr b) {
  auto& st = self->state;
  ++st.in_flight;
  st.in_flight_records += b->records.size();
  st.max_in_flight = std::max(st.max_in_flight, st.in_flight);
  ++st.batches;
  st.records += b->records.size();
  if (b->records.empty()) {
    auto r = std::make_shared<batch_result>();
    r->batch = std::move(b);
    self->send(self, result_atom::value, std::move(r));
    return;
  }
  if (st.cfg.probe) {
    st.cfg.probe->batch_sent(b->records.size(), b->bytes());
    st.cfg.probe->in_flight(static_cast<std::int64_t>(st.in_flight));
    st.started[b.get()] = std::chrono::steady_clock::now();
  }
  sender_actor hdl = self;  // strong handle: keeps us alive until done
  submitted_fn on_submitted = [hdl, b](const std::string& id, std::function<void()> persisted) {
    caf::anon_send(hdl, submit_atom::value, b, id, persisted_fn(std::move(persisted)));
  };
  // Each HTTP request (and each real retry) is counted where it happens, by
  // the target runtime's http_probe: nothing per batch here.
  st.cfg.start(std::move(b), [hdl](batch_result r) {
    caf::anon_send(hdl, result_atom::value, std::make_shared<batch_result>(std::move(r)));
  }, std::move(on_submitted));
}

void start_waiting(self_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && st.in_flight < st.cfg.in_flight) {
    auto [b, rp] = std::move(st.waiting.front());
    st.waiting.pop_front();
    start_batch(self, std::move(b));
    rp.deliver(std::uint64_t{1});
  }
}

} // namespace

sender_actor::behavior_type
sender_fn(sender_actor::stateful_pointer<sender_state> self, sender_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](batch_ptr b) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      st.service = b->service;
      if (st.in_flight < st.cfg.in_flight && st.waiting.empty()) {
        start_batch(self, std::move(b));
        return std::uint64_t{1};
      }
      auto rp = self->make_response_promise<std::uint64_t>();
      st.waiting.emplace_back(std::move(b), rp);
      st.max_waiting = std::max<std::uint64_t>(st.max_waiting, st.waiting.size());
      return rp;
    },
    [=](submit_atom, batch_ptr b, std::string id, persisted_fn persisted) {
      self->request(self->state.cfg.reconciler, caf::infinite, submit_atom::value, std::move(b),
                    std::move(id))
        .then([=](bool) { persisted(); },
              [=](caf::error& err) {
                // Not stored: nothing more can be made durable.
                self->quit(err);
              });
    },
    [=](result_atom, result_ptr r) {
      if (auto it = self->state.started.find(r->batch.get()); it != self->state.started.end()) {
        self->state.cfg.probe->batch_done(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
        self->state.started.erase(it);
      }
      for (auto& o : r->outcomes)
        if (!o.ok)
          ++self->state.failed_records;
      const std::uint64_t n = r->batch ? r->batch->records.size() : 0;
      self->request(self->state.cfg.reconciler, caf::infinite, r)
        .then(
          [=](std::uint64_t) {
            --self->state.in_flight;
            self->state.in_flight_records -= std::min(n, self->state.in_flight_records);
            if (self->state.cfg.probe)
              self->state.cfg.probe->in_flight(static_cast<std::int64_t>(self->state.in_flight));
            start_waiting(self);
          },
          [=](caf::error& err) {
            // The reconciler failed: nothing more can be made durable.
            self->quit(err);
          });
    },
    [=](status_atom) {
      auto& st = self->state;
      sender_status t;
      t.batches = st.batches;
      t.records = st.records;
      t.failed_records = st.failed_records;
      t.in_flight = st.in_flight;
      t.in_flight_records = st.in_flight_records;
      t.max_in_flight = st.max_in_flight;
      t.waiting = st.waiting.size();
      t.max_waiting = st.max_waiting;
      actor_status s;
      s.service = st.service;
      s.stage = t;
      return s;
    },
  };
}

} // namespace stampede
