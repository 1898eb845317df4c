// `stampede checkpoint show|set` and `stampede replay`.
//
// Operation: `show` opens the state store READ-ONLY and prints, per service,
//   the checkpoint (keyset position), the initial-load state, replays not yet
//   done, the latest service events (who moved the checkpoint, who asked for
//   resends) and how many requests wait in the inbox. `set` and `replay` go
//   through the request inbox (engine/requests.hpp): applied at once when no
//   worker holds the state dir, else by the worker before its next cycle.
// Concurrency: single-threaded CLI; safe next to a running worker.
// Limitations: `show` sees the state as of open time; a queued request is
//   not reflected until the worker applied it.
#include "engine/log_view.hpp"
#include "engine/requests.hpp"
#include "pipeline/json_writer.hpp"
#include "tools/stampede/commands.hpp"

#include <deque>
#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

namespace {

constexpr std::size_t kEventsShown = 10;

std::deque<service_event> last_events(state_store& store, std::uint32_t service) {
  std::deque<service_event> out;
  store.scan_events(service, [&](const service_event& e) {
    out.push_back(e);
    if (out.size() > kEventsShown)
      out.pop_front();
    return true;
  });
  return out;
}

std::string by_or_worker(const std::string& by) { return by.empty() ? "worker" : by; }

} // namespace

int cmd_checkpoint_show(const common_options& o, const checkpoint_options& c) {
  auto sel = load_selection(o);
  if (!sel)
    return bad_input;
  int code = ok;
  auto store = open_state_for_reading(sel->cfg, code);
  if (!store)
    return code;
  const auto queued = pending_request_files(sel->cfg.state.dir).size();
  std::string out;
  json_writer w(out);
  if (c.json) {
    w.begin_object();
    w.key("state_dir"); w.string(sel->cfg.state.dir);
    w.key("queued_requests"); w.uinteger(queued);
    w.key("services");
    w.begin_array();
  }
  try {
    for (const auto* s : sel->services) {
      auto st = store->load_state(s->id);
      auto events = last_events(*store, s->id);
      if (c.json) {
        w.begin_object();
        w.key("id"); w.uinteger(s->id);
        w.key("name"); w.string(s->name);
        w.key("checkpoint"); w.begin_object();
        w.key("stamp"); w.string(st.checkpoint_stamp);
        w.key("recno"); w.integer(st.checkpoint_recno);
        w.end_object();
        w.key("initial_load_complete"); w.boolean(st.initial_load_complete);
        w.key("replays"); w.begin_array();
        for (const auto& r : st.replays) {
          w.begin_object();
          w.key("from"); w.string(r.from);
          w.key("to"); w.string(r.to);
          w.key("generation"); w.uinteger(r.generation);
          w.key("by"); w.string(by_or_worker(r.by));
          w.end_object();
        }
        w.end_array();
        w.key("events"); w.begin_array();
        for (const auto& e : events)
          write_event_json(w, e);
        w.end_array();
        w.end_object();
        continue;
      }
      std::cout << fmt::format(
        "{:>3} {:<24} checkpoint {}  initial load {}\n", s->id, s->name,
        st.checkpoint_stamp.empty() ? std::string("- (from the start)")
                                    : fmt::format("{} #{}", st.checkpoint_stamp, st.checkpoint_recno),
        st.initial_load_complete ? "complete" : "not complete");
      for (const auto& r : st.replays)
        std::cout << fmt::format("    replay pending: {} .. {} by {} (next cycle)\n", r.from, r.to,
                                 by_or_worker(r.by));
      for (const auto& e : events)
        std::cout << fmt::format("    {}  {}\n", iso_utc(e.time_ms), e.text);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: state store " << sel->cfg.state.dir << ": " << e.what() << "\n";
    return failed;
  }
  if (c.json) {
    w.end_array();
    w.end_object();
    std::cout << out << "\n";
  } else if (queued) {
    std::cout << fmt::format("{} request(s) queued in {}: the running worker applies them "
                             "before its next cycle\n",
                             queued, requests_dir(sel->cfg.state.dir));
  }
  return ok;
}

int cmd_checkpoint_set(const common_options& o, const checkpoint_options& c) {
  request r;
  r.kind = request_kind::checkpoint_set;
  r.service = c.service;
  r.to = c.to;
  r.recno = c.recno;
  r.by = requester(c.by);
  // No state yet is fine: a checkpoint set before the first run skips history.
  return submit_and_report(o, r, /*needs_state=*/false);
}

int cmd_replay(const common_options& o, const checkpoint_options& c) {
  request r;
  r.kind = request_kind::replay;
  r.service = c.service;
  r.from = c.from;
  r.to = c.to;
  r.by = requester(c.by);
  int code = submit_and_report(o, r, /*needs_state=*/true);
  if (code == ok)
    std::cout << "The next cycle of the service sends every row with a stamp in that range "
                 "again (new idempotency keys); the checkpoint does not move.\n";
  return code;
}

} // namespace stampede::cli
