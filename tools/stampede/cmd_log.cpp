// `stampede log` and `stampede log show`: the per-record log monitor.
//
// Operation: opens the state store READ-ONLY (works while a worker holds the
//   state dir; sees the state as of open time), queries it with
//   engine/log_view.hpp and prints a table, JSON lines (`log --json`: one
//   object per entry) or one JSON document (`log show --json`).
// Concurrency: single-threaded CLI.
// Limitations: a listing scans the ledger of each chosen service (see
//   log_view.hpp); --key is a point lookup.
#include "engine/log_view.hpp"
#include "pipeline/json_writer.hpp"
#include "tools/stampede/commands.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string dash(const std::string& s) { return s.empty() ? std::string("-") : s; }

/// One line of text: control characters (newlines, tabs, terminal escapes)
/// become spaces; cut at `max` bytes.
std::string one_line(std::string s, std::size_t max) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  if (s.size() > max)
    s = s.substr(0, max - 3) + "...";
  return s;
}

bool parse_time_flag(const char* flag, const std::string& text, std::int64_t now,
                     std::int64_t& out) {
  if (text.empty())
    return true;
  auto t = parse_time_arg(text, now);
  if (!t) {
    std::cerr << fmt::format(
      "error: {} '{}': use a UTC time \"YYYY-MM-DD\", \"YYYY-MM-DD HH:MM[:SS]\" or a time ago "
      "like 15m, 2h, 1d\n",
      flag, text);
    return false;
  }
  out = *t;
  return true;
}

} // namespace

std::unique_ptr<state_store> open_state_for_reading(const config& cfg, int& code) {
  if (!std::filesystem::exists(cfg.state.dir)) {
    std::cerr << fmt::format("error: no state yet in {} (state.dir of {}): run `stampede run -c {}` "
                             "first\n",
                             cfg.state.dir, cfg.file, cfg.file);
    code = bad_input;
    return nullptr;
  }
  try {
    return state_store::open(cfg.state.dir, /*read_only=*/true);
  } catch (const std::exception& e) {
    std::cerr << "error: state store " << cfg.state.dir << ": " << e.what() << "\n";
    code = failed;
  }
  return nullptr;
}

int cmd_log(const common_options& o, const log_options& l) {
  auto sel = load_selection(o);
  if (!sel)
    return bad_input;
  log_filter f;
  f.limit = l.limit;
  if (!l.key.empty())
    f.key = l.key;
  if (!l.status.empty()) {
    f.status = parse_record_status(l.status);
    if (!f.status) {
      std::cerr << fmt::format("error: --status '{}': use pending, success, error or cancelled\n",
                               l.status);
      return bad_input;
    }
  }
  const auto now = now_ms();
  if (!parse_time_flag("--since", l.since, now, f.since_ms) ||
      !parse_time_flag("--until", l.until, now, f.until_ms))
    return bad_input;
  if (f.since_ms > f.until_ms) {
    std::cerr << "error: --since is after --until: nothing can match\n";
    return bad_input;
  }
  int code = ok;
  auto store = open_state_for_reading(sel->cfg, code);
  if (!store)
    return code;
  std::vector<std::uint32_t> ids;
  for (const auto* s : sel->services)
    ids.push_back(s->id);
  log_result res;
  try {
    res = query_log(*store, ids, f);
  } catch (const std::exception& e) {
    std::cerr << "error: state store " << sel->cfg.state.dir << ": " << e.what() << "\n";
    return failed;
  }
  if (l.json) {
    std::string out;
    for (const auto& row : res.rows) {
      out.clear();
      json_writer w(out);
      write_entry_json(w, *sel->cfg.find_service(row.service), row);
      std::cout << out << "\n";
    }
    return ok;
  }
  std::cout << fmt::format("{:>3} {:<22} {:<9} {:<6} {:<12} {:>3} {:<24} {:<24} {:<10} {}\n",
                           "svc", "key", "status", "op", "remote id", "att", "created (UTC)",
                           "changed (UTC)", "by", "message");
  for (const auto& row : res.rows) {
    const auto& e = row.entry;
    const auto* svc = sel->cfg.find_service(row.service);
    std::cout << fmt::format(
      "{:>3} {:<22} {:<9} {:<6} {:<12} {:>3} {:<24} {:<24} {:<10} {}\n", row.service,
      one_line(svc->key_column + "=" + row.key, 40), to_string(e.status), op_name(e.last_op),
      dash(e.remote_id), e.attempts, dash(iso_utc(e.created_ms)), dash(iso_utc(e.updated_ms)),
      e.changed_by.empty() ? std::string("worker") : e.changed_by, one_line(row.last_message, 160));
  }
  if (res.matched > res.rows.size())
    std::cout << fmt::format("{} of {} matching records shown, most recently changed first; "
                             "--limit N shows more (0 = all)\n",
                             res.rows.size(), res.matched);
  else
    std::cout << fmt::format("{} record(s)\n", res.matched);
  return ok;
}

int cmd_log_show(const common_options& o, const log_options& l) {
  auto cfg = load_or_report(o);
  if (!cfg)
    return bad_input;
  const auto* svc = cfg->find_service(l.show_service);
  if (!svc) {
    std::cerr << fmt::format("error: service {} is not in {}; `stampede status -c {}` lists the "
                             "services\n",
                             l.show_service, cfg->file, cfg->file);
    return bad_input;
  }
  int code = ok;
  auto store = open_state_for_reading(*cfg, code);
  if (!store)
    return code;
  std::optional<ledger_entry> e;
  std::vector<std::pair<std::uint32_t, log_item>> items;
  std::optional<std::int64_t> due;
  try {
    e = store->get(svc->id, l.show_key);
    if (e) {
      store->scan_items(svc->id, l.show_key, [&](std::uint32_t no, const log_item& it) {
        items.emplace_back(no, it);
        return true;
      });
      store->scan_resend(svc->id, [&](std::string_view k, std::int64_t d) {
        if (k == l.show_key)
          due = d;
        return k < l.show_key;  // key order: stop once past it
      });
    }
  } catch (const std::exception& ex) {
    std::cerr << "error: state store " << cfg->state.dir << ": " << ex.what() << "\n";
    return failed;
  }
  if (!e) {
    std::cerr << fmt::format("error: service {} ({}) has no record with {} = '{}' in {}; "
                             "`stampede log --service {}` lists its records\n",
                             svc->id, svc->name, svc->key_column, l.show_key, cfg->state.dir,
                             svc->id);
    return bad_input;
  }
  log_row row{svc->id, l.show_key, *e,
              e->last_error.empty() && !items.empty() ? items.back().second.message : e->last_error};
  if (l.json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("entry");
    write_entry_json(w, *svc, row);
    w.key("resend_due");
    if (!due)
      w.null();
    else if (*due == 0)
      w.string("now");
    else
      w.string(iso_utc(*due));
    w.key("items");
    w.begin_array();
    for (const auto& [no, it] : items)
      write_item_json(w, no, it);
    w.end_array();
    w.end_object();
    std::cout << out << "\n";
    return ok;
  }
  std::cout << fmt::format("service {} ({})  {} = {}\n", svc->id, svc->name, svc->key_column,
                           l.show_key);
  std::cout << fmt::format("  status      {}\n", to_string(e->status));
  std::cout << fmt::format("  operation   {}\n", op_name(e->last_op));
  std::cout << fmt::format("  remote id   {}\n", dash(e->remote_id));
  for (const auto& [name, value] : e->returned)
    std::cout << fmt::format("  returned    {} = {}\n", name, value);
  std::cout << fmt::format("  attempts    {} (idempotency generation {})\n", e->attempts,
                           e->generation);
  std::cout << fmt::format("  created     {}\n", dash(iso_utc(e->created_ms)));
  std::cout << fmt::format("  changed     {} by {}\n", dash(iso_utc(e->updated_ms)),
                           e->changed_by.empty() ? "worker" : e->changed_by);
  std::cout << fmt::format("  last stamp  {}\n", dash(e->last_stamp));
  if (!e->batch_id.empty())
    std::cout << fmt::format("  async batch {} (awaiting its result)\n", e->batch_id);
  std::cout << fmt::format("  message     {}\n", dash(row.last_message));
  std::cout << fmt::format("  resend      {}\n",
                           !due        ? std::string("not queued")
                           : *due == 0 ? std::string("queued, due now")
                                       : "queued, due " + iso_utc(*due));
  std::cout << fmt::format("  log items   {}\n", items.size());
  for (const auto& [no, it] : items) {
    std::cout << fmt::format("  #{:<3} {}  {:<9} attempt {}  HTTP {}  {}  by {}\n", no,
                             dash(iso_utc(it.time_ms)), to_string(it.status), it.attempt,
                             it.http_status ? std::to_string(it.http_status) : std::string("-"),
                             op_name(it.op), it.by.empty() ? "worker" : it.by);
    if (!it.message.empty())
      std::cout << "       message:  " << one_line(it.message, 2000) << "\n";
    if (!it.sent.empty())
      std::cout << "       sent:     " << one_line(it.sent, 2000) << "\n";
    if (!it.received.empty())
      std::cout << "       received: " << one_line(it.received, 2000) << "\n";
  }
  return ok;
}

} // namespace stampede::cli
