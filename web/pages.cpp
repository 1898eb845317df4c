// The web monitor's pages; see pages.hpp.
#include "web/pages.hpp"

#include "engine/engine.hpp"
#include "engine/log_view.hpp"
#include "engine/requests.hpp"
#include "engine/status_view.hpp"
#include "metrics/registry.hpp"
#include "target/exchange.hpp"
#include "pipeline/json_writer.hpp"
#include "target/request_builder.hpp"
#include "pipeline/schedule.hpp"
#include "web/cycle_history.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <variant>
#include <fmt/format.h>

namespace stampede {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

/// "rev = 2-9f..; codFil = 01" (response.returns besides the id), or "-".
std::string returned_html(const ledger_entry& e) {
  if (e.returned.empty()) return "-";
  std::string out;
  for (const auto& [name, value] : e.returned) {
    if (!out.empty()) out += "; ";
    out += html_escape(name) + " = " + html_escape(value);
  }
  return out;
}

constexpr std::size_t page_rows = 50;

std::int64_t now_of(const web_site& site) {
  if (site.now_ms)
    return site.now_ms();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

web_response json_response(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}

web_response bad_request(const std::string& what, bool json) {
  if (json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("error");
    w.string(what);
    w.end_object();
    return json_response(400, std::move(out));
  }
  return {400, "text/plain; charset=utf-8", what + "\n"};
}

std::string page(const web_site& site, std::string_view title, std::string_view body,
                 bool refresh = false) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  if (refresh)
    out += "<meta http-equiv=\"refresh\" content=\"5\">";
  out += fmt::format("<title>{} · stampede</title>", html_escape(title));
  out += R"(<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
nav a{margin-right:1em}
table{border-collapse:collapse;margin:.8em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.t{white-space:nowrap}
.error,.failing,.open{color:#b00020;font-weight:600}
.success,.closed{color:#1b7a1b}
.muted{color:#777}
pre{white-space:pre-wrap;word-break:break-all;max-width:60em;margin:0}
</style></head><body>)";
  out += R"(<nav><a href="/">Overview</a><a href="/cycles">Cycles</a><a href="/log">Log monitor</a>)"
         R"(<a href="/metrics">Metrics</a><a href="/api/status">JSON</a></nav>)";
  out += fmt::format("<h1>{}</h1>\n<p class=\"muted\">Times are UTC.</p>\n", html_escape(title));
  out += body;
  out += fmt::format("<p class=\"muted\">{} · {}</p></body></html>\n",
                     html_escape(site.version), iso_utc(now_of(site)));
  return out;
}

std::vector<service_view> views(const web_site& site, std::int64_t now) {
  std::vector<service_view> out;
  const auto live = site.eng->status(site.services);
  for (std::size_t i = 0; i < live.size(); ++i) {
    auto v = make_service_view(*site.services[i], live[i].state, now,
                               site.eng->cfg().source.utc_offset_minutes);
    v.running = live[i].running;
    v.backlog = live[i].backlog;
    if (site.eng->looping())  // the scheduler's own (backoff, dependencies)
      v.next_due_ms = live[i].next_due_ms;
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<target_health> targets(const web_site& site) {
  return used_targets(site.eng->store().targets(), site.services);
}

std::string state_of(const service_view& v, const web_site& site) {
  if (v.running) {
    const auto p = site.cycles ? site.cycles->current(v.svc->id) : std::nullopt;
    if (p && p->initial_load && p->rows_expected > 0)  // delivered, not read
      return fmt::format("initial load {:.0f}%",
                         100.0 * std::min(p->records_done, p->rows_expected) / p->rows_expected);
    return v.st.initial_load_complete ? "running" : "initial load";
  }
  if (v.st.consecutive_failures > 0)
    return "failing";
  if (!v.failure.empty())
    return "held back";
  if (v.initial_load != "complete")
    return v.initial_load == "not started" ? "not started" : "initial load (paused)";
  return "idle";
}


std::string actions_html(const web_site& site);

web_response overview(const web_site& site) {
  const auto now = now_of(site);
  const auto vs = views(site, now);
  std::string b;
  b += "<h2>Services</h2><table id=\"services\"><tr><th>id</th><th>name</th><th>state</th>"
       "<th>last run</th><th>next run</th><th>checkpoint</th><th>lag</th><th>backlog</th><th>pending</th>"
       "<th>success</th><th>error</th><th>cancelled</th><th>created / updated / deleted</th>"
       "<th>last failure</th></tr>\n";
  for (const auto& v : vs) {
    const auto& st = v.st;
    const auto state = state_of(v, site);
    const auto cp = st.checkpoint_stamp.empty()
                        ? std::string("-")
                        : fmt::format("{} #{}", st.checkpoint_stamp, st.checkpoint_recno);
    b += fmt::format("<tr data-service=\"{}\"><td class=\"n\">{}</td><td>{}</td>"
                     "<td class=\"state {}\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td>"
                     "<td class=\"n\">{}</td><td class=\"n backlog\" title=\"{}\">{}</td>",
                     v.svc->id, v.svc->id, html_escape(v.svc->name),
                     state == "failing" ? "failing" : "", html_escape(state), short_utc(st.last_run_ms),
                     short_utc(v.next_due_ms), html_escape(cp), lag_text(v.lag_seconds),
                     html_escape(v.backlog.error.empty()
                                     ? "source rows after the checkpoint (measured " +
                                           short_utc(v.backlog.measured_ms) + ")"
                                     : v.backlog.error),
                     html_escape(backlog_text(v.backlog)));
    for (int i = 0; i < 4; ++i) {
      const auto s = static_cast<record_status>(i);
      const auto name = std::string(to_string(s));
      b += fmt::format(
          "<td class=\"n count-{}\"><a href=\"/log?service={}&amp;status={}\">{}</a></td>", name,
          v.svc->id, name, st.counts[i]);
    }
    b += fmt::format("<td class=\"n\">{} / {} / {}</td><td class=\"{}\">{}</td></tr>\n",
                     st.created, st.updated, st.deleted, v.failure.empty() ? "" : "error",
                     html_escape(v.failure));
  }
  b += "</table>\n<h2>Targets</h2><table id=\"targets\"><tr><th>target</th><th>circuit</th>"
       "<th>failures in a row</th><th>since</th><th>last failure</th></tr>\n";
  for (const auto& t : targets(site)) {
    const auto br = breaker_name(t.breaker);
    b += fmt::format("<tr data-target=\"{}\"><td>{}</td><td class=\"{}\">{}</td>"
                     "<td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>\n",
                     html_escape(t.target), html_escape(t.target), br == "open" ? "open" : "closed",
                     br, t.consecutive_failures, short_utc(t.changed_ms), html_escape(t.last_failure));
  }
  b += "</table>\n";
  b += actions_html(site);
  return {200, "text/html; charset=utf-8", page(site, "Overview", b, /*refresh=*/true)};
}

web_response status_json(const web_site& site) {
  const auto now = now_of(site);
  std::string out;
  json_writer w(out);
  write_status_json(w, site.eng->cfg(), views(site, now), targets(site), /*live=*/true);
  return json_response(200, std::move(out));
}

std::string param(const web_request& r, const std::string& name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? std::string() : it->second;
}

std::optional<std::uint32_t> to_u32(const std::string& s) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

struct log_params {
  std::vector<std::uint32_t> services;
  log_filter filter;
  std::uint32_t page = 1;
};

/// Parses /log's and /api/log's parameters; an error text on bad input.
std::variant<log_params, std::string> parse_log_params(const web_request& r, const web_site& site,
                                                       std::int64_t now) {
  log_params p;
  const auto svc = param(r, "service");
  if (svc.empty()) {
    for (const auto* s : site.services)
      p.services.push_back(s->id);
  } else {
    auto id = to_u32(svc);
    if (!id || std::none_of(site.services.begin(), site.services.end(),
                            [&](const auto* s) { return s->id == *id; }))
      return fmt::format("service '{}' is not one this worker runs (use one of the ids on the "
                         "overview, or leave it empty for all)", svc);
    p.services.push_back(*id);
  }
  if (auto st = param(r, "status"); !st.empty()) {
    auto s = parse_record_status(st);
    if (!s)
      return fmt::format("status '{}' is not one of pending, success, error, cancelled", st);
    p.filter.status = s;
  }
  if (auto k = param(r, "key"); !k.empty())
    p.filter.key = k;
  for (const char* name : {"since", "until"}) {
    const auto v = param(r, name);
    if (v.empty())
      continue;
    auto t = parse_time_arg(v, now);
    if (!t)
      return fmt::format("{} '{}' is not a time: use YYYY-MM-DD[ HH:MM[:SS]] (UTC) or 90s, 15m, "
                         "2h, 1d ago", name, v);
    (std::string_view(name) == "since" ? p.filter.since_ms : p.filter.until_ms) = *t;
  }
  if (auto pg = param(r, "page"); !pg.empty()) {
    auto n = to_u32(pg);
    if (!n || *n == 0 || *n > 10000)
      return fmt::format("page '{}' is not a page number (1-10000)", pg);
    p.page = *n;
  }
  p.filter.limit = p.page * page_rows;
  return p;
}

const service_config* find(const web_site& site, std::uint32_t id) {
  for (const auto* s : site.services)
    if (s->id == id)
      return s;
  return nullptr;
}

std::string token_input() {
  return " admin token <input type=\"password\" name=\"token\" autocomplete=\"off\" required> ";
}

/// The overview's forms for run now and resend, or why there are none.
std::string actions_html(const web_site& site) {
  if (site.admin_token.empty())
    return "<p class=\"muted\" id=\"actions-off\">Actions are off: set <code>[web] admin_token"
           "</code> to resend records and run services from here.</p>\n";
  std::string options;
  for (const auto* s : site.services)
    options += fmt::format("<option value=\"{}\">{} {}</option>", s->id, s->id, html_escape(s->name));
  return "<h2>Actions</h2>\n"
         "<form method=\"post\" action=\"/actions/run\" id=\"run-form\">Run now: service "
         "<select name=\"service\">" + options + "</select>" + token_input() +
         "<button type=\"submit\">Run now</button></form>\n"
         "<form method=\"post\" action=\"/actions/resend\" id=\"resend-form\">Resend every "
         "<select name=\"status\"><option>error</option><option>cancelled</option></select> "
         "record of service <select name=\"service\">" + options + "</select>" + token_input() +
         "<button type=\"submit\">Resend</button></form>\n";
}

web_response log_page(const web_request& r, const web_site& site, bool json) {
  const auto now = now_of(site);
  auto parsed = parse_log_params(r, site, now);
  if (auto* e = std::get_if<std::string>(&parsed))
    return bad_request(*e, json);
  const auto& p = std::get<log_params>(parsed);
  const auto res = query_log(site.eng->store(), p.services, p.filter);
  const std::size_t first = std::min(res.rows.size(), (p.page - 1) * page_rows);
  if (json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("matched");
    w.uinteger(res.matched);
    w.key("page");
    w.uinteger(p.page);
    w.key("records");
    w.begin_array();
    for (std::size_t i = first; i < res.rows.size(); ++i)
      write_entry_json(w, *find(site, res.rows[i].service), res.rows[i]);
    w.end_array();
    w.end_object();
    return json_response(200, std::move(out));
  }
  std::string b;
  b += "<form method=\"get\" action=\"/log\">service <select name=\"service\"><option value=\"\">all"
       "</option>";
  for (const auto* s : site.services)
    b += fmt::format("<option value=\"{}\"{}>{} {}</option>", s->id,
                     param(r, "service") == std::to_string(s->id) ? " selected" : "", s->id,
                     html_escape(s->name));
  b += "</select> status <select name=\"status\"><option value=\"\">any</option>";
  for (int i = 0; i < 4; ++i) {
    const auto name = std::string(to_string(static_cast<record_status>(i)));
    const bool sel = p.filter.status && static_cast<int>(*p.filter.status) == i;
    b += fmt::format("<option{}>{}</option>", sel ? " selected" : "", name);
  }
  b += fmt::format("</select> key <input name=\"key\" value=\"{}\"> since <input name=\"since\" "
                   "value=\"{}\" placeholder=\"2h or 2024-05-01\"> until <input name=\"until\" "
                   "value=\"{}\"> <button type=\"submit\">Filter</button></form>\n",
                   html_escape(param(r, "key")), html_escape(param(r, "since")),
                   html_escape(param(r, "until")));
  b += fmt::format("<p id=\"matched\">{} records match; page {} shows {}.</p>\n", res.matched, p.page,
                   res.rows.size() - first);
  b += "<table id=\"log\"><tr><th>service</th><th>key</th><th>status</th><th>operation</th>"
       "<th>attempts</th><th>remote id</th><th>changed</th><th>by</th><th>message</th></tr>\n";
  for (std::size_t i = first; i < res.rows.size(); ++i) {
    const auto& row = res.rows[i];
    const auto& e = row.entry;
    const auto st = std::string(to_string(e.status));
    b += fmt::format("<tr><td class=\"n\">{}</td><td><a class=\"key\" href=\"/record?service={}&amp;"
                     "key={}\">{}</a></td><td class=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td>"
                     "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     row.service, row.service, url_encode(row.key), html_escape(row.key), st, st,
                     op_name(e.last_op), e.attempts, html_escape(e.remote_id), short_utc(e.updated_ms),
                     html_escape(e.changed_by.empty() ? "worker" : e.changed_by),
                     html_escape(row.last_message));
  }
  b += "</table>\n";
  if (res.matched > p.page * page_rows) {
    auto q = r.query;
    q["page"] = std::to_string(p.page + 1);
    std::string link = "/log?";
    for (const auto& [k, v] : q)
      link += fmt::format("{}={}&", url_encode(k), url_encode(v));
    link.pop_back();
    b += fmt::format("<p><a id=\"next\" href=\"{}\">next page</a></p>\n", html_escape(link));
  }
  return {200, "text/html; charset=utf-8", page(site, "Log monitor", b)};
}

web_response record_page(const web_request& r, const web_site& site, bool json) {
  const auto id = to_u32(param(r, "service"));
  const auto* svc = id ? find(site, *id) : nullptr;
  const auto key = param(r, "key");
  if (!svc || key.empty())
    return bad_request("give ?service=<id of a service this worker runs>&key=<record key>", json);
  auto entry = site.eng->store().get(svc->id, key);
  if (!entry) {
    auto msg = fmt::format("service {} has no record with key '{}'", svc->id, key);
    if (json)
      return json_response(404, std::string("{\"error\":") + [&] {
        std::string s;
        json_writer w(s);
        w.string(msg);
        return s;
      }() + "}");
    return {404, "text/html; charset=utf-8", page(site, "Record not found", "<p>" + html_escape(msg) + "</p>")};
  }
  log_row row{svc->id, key, *entry, last_item_message(site.eng->store(), svc->id, key)};
  std::vector<std::pair<std::uint32_t, log_item>> items;
  site.eng->store().scan_items(svc->id, key, [&](std::uint32_t no, const log_item& it) {
    items.emplace_back(no, it);
    if (!site.show_payloads) {
      auto& last = items.back().second;
      last.sent = last.sent.empty() ? "" : fmt::format("({} bytes, hidden)", last.sent.size());
      last.received =
          last.received.empty() ? "" : fmt::format("({} bytes, hidden)", last.received.size());
    }
    return items.size() < 1000;
  });
  if (json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("record");
    write_entry_json(w, *svc, row);
    w.key("items");
    w.begin_array();
    for (const auto& [no, it] : items)
      write_item_json(w, no, it);
    w.end_array();
    w.end_object();
    return json_response(200, std::move(out));
  }
  const auto& e = *entry;
  const auto st = std::string(to_string(e.status));
  std::string b;
  b += fmt::format(
      "<table id=\"record\"><tr><th>service</th><td>{} {}</td></tr><tr><th>key</th><td>{}</td></tr>"
      "<tr><th>status</th><td class=\"{}\" id=\"status\">{}</td></tr><tr><th>operation</th><td>{}"
      "</td></tr><tr><th>attempts</th><td id=\"attempts\">{}</td></tr><tr><th>remote id</th><td "
      "id=\"remote-id\">{}</td></tr><tr><th>returned</th><td id=\"returned\">{}</td></tr>"
      "<tr><th>first outcome</th><td>{}</td></tr><tr><th>changed</th>"
      "<td>{} by {}</td></tr><tr><th>last stamp</th><td>{}</td></tr><tr><th>message</th><td>{}</td>"
      "</tr></table>\n",
      svc->id, html_escape(svc->name), html_escape(key), st, st, op_name(e.last_op), e.attempts,
      html_escape(e.remote_id), returned_html(e), short_utc(e.created_ms), short_utc(e.updated_ms),
      html_escape(e.changed_by.empty() ? "worker" : e.changed_by), html_escape(e.last_stamp),
      html_escape(row.last_message));
  b += "<h2>Log</h2><table id=\"items\"><tr><th>#</th><th>time</th><th>status</th><th>attempt</th>"
       "<th>HTTP</th><th>operation</th><th>message</th><th>sent</th><th>received</th><th>by</th></tr>\n";
  for (const auto& [no, it] : items) {
    const auto ist = std::string(to_string(it.status));
    b += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"n\">"
                     "{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td>"
                     "<td><pre>{}</pre></td><td>{}</td></tr>\n",
                     no, short_utc(it.time_ms), ist, ist, it.attempt, it.http_status, op_name(it.op),
                     html_escape(it.message), html_escape(it.sent), html_escape(it.received),
                     html_escape(it.by.empty() ? "worker" : it.by));
  }
  b += "</table>\n";
  if (!site.admin_token.empty())
    b += fmt::format("<form method=\"post\" action=\"/actions/resend\" id=\"resend-record\">"
                     "<input type=\"hidden\" name=\"service\" value=\"{}\"><input type=\"hidden\" "
                     "name=\"key\" value=\"{}\">{}<button type=\"submit\">Resend this record"
                     "</button></form>\n",
                     svc->id, html_escape(key), token_input());
  if (!site.show_payloads)
    b += "<p class=\"muted\">Payloads are hidden (they may hold personal data): set "
         "<code>[web] show_payloads = true</code> to show them; <code>stampede log show</code> "
         "prints them.</p>\n";
  return {200, "text/html; charset=utf-8", page(site, "Record " + key, b)};
}

web_response cycles_page(const web_request& r, const web_site& site, bool json) {
  std::optional<std::uint32_t> only;
  if (const auto sv = param(r, "service"); !sv.empty()) {
    only = to_u32(sv);
    if (!only || !find(site, *only))
      return bad_request(fmt::format("service '{}' is not one this worker runs", sv), json);
  }
  const auto entries = site.cycles ? site.cycles->recent(only) : std::vector<cycle_entry>{};
  if (json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("cycles");
    w.begin_array();
    for (const auto& e : entries) {
      w.begin_object();
      w.key("service"); w.uinteger(e.service);
      w.key("end_ms"); w.integer(e.end_ms);
      w.key("seconds"); w.number(e.seconds);
      w.key("kind"); w.string(e.initial_load ? "initial_load" : "incremental");
      w.key("outcome"); w.string(e.outcome);
      w.key("error"); w.string(e.error);
      w.key("rows_read"); w.uinteger(e.rows_read);
      w.key("created"); w.uinteger(e.counts.created);
      w.key("updated"); w.uinteger(e.counts.updated);
      w.key("deleted"); w.uinteger(e.counts.deleted);
      w.key("failed"); w.uinteger(e.counts.failed);
      w.key("cancelled"); w.uinteger(e.counts.cancelled);
      w.key("unchanged"); w.uinteger(e.counts.unchanged);
      w.key("pending"); w.uinteger(e.counts.pending);
      w.key("repeats"); w.uinteger(e.repeats);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return json_response(200, std::move(out));
  }
  std::string b = "<p>Services: <a href=\"/cycles\">all</a>";
  for (const auto* s : site.services)
    b += fmt::format(" · <a href=\"/cycles?service={}\">{}</a>", s->id, s->id);
  b += "</p>\n<table id=\"cycles\"><tr><th>service</th><th>ended</th><th>kind</th><th>outcome</th>"
       "<th>rows read</th><th>created</th><th>updated</th><th>deleted</th><th>failed</th>"
       "<th>cancelled</th><th>unchanged</th><th>pending</th><th>seconds</th><th>error</th></tr>\n";
  for (const auto& e : entries) {
    const auto* svc = find(site, e.service);
    b += fmt::format(
        "<tr data-service=\"{}\"><td>{} {}</td><td class=\"t\">{}</td><td>{}</td><td class=\"{}\">{}"
        "</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}"
        "</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}"
        "</td><td class=\"n\">{:.2f}</td><td>{}</td></tr>\n",
        e.service, e.service, html_escape(svc ? svc->name : ""), short_utc(e.end_ms),
        e.initial_load ? "initial load" : "incremental", e.ok ? "success" : "error",
        e.repeats > 1 ? fmt::format("idle ×{}", e.repeats) : e.outcome, e.rows_read,
        e.counts.created, e.counts.updated, e.counts.deleted, e.counts.failed, e.counts.cancelled,
        e.counts.unchanged, e.counts.pending, e.seconds, html_escape(e.error));
  }
  b += "</table>\n";
  if (entries.empty())
    b += "<p class=\"muted\">No cycle has finished since this worker started.</p>\n";
  return {200, "text/html; charset=utf-8", page(site, "Cycles", b, /*refresh=*/true)};
}

web_response healthz(const web_site& site) {
  const auto now = now_of(site);
  const auto beat = site.eng->heartbeat_ms();
  const bool looping = site.eng->looping();
  const auto age = beat ? now - beat : -1;
  const bool ok = looping && beat && age <= site.stale_after.count();
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("status");
  w.string(ok ? "ok" : "unhealthy");
  w.key("looping");
  w.boolean(looping);
  w.key("heartbeat_age_ms");
  w.integer(age);
  if (!ok) {
    w.key("reason");
    w.string(!looping ? "the engine's run loop is not running"
                      : fmt::format("no sign of life from the engine's loop for {} ms (limit {} ms)",
                                    age, site.stale_after.count()));
  }
  w.end_object();
  return json_response(ok ? 200 : 503, std::move(out));
}

web_response readyz(const web_site& site) {
  std::vector<std::string> reasons;
  for (const auto& s : site.eng->status(site.services))
    if (s.state.consecutive_failures > 0)
      reasons.push_back(fmt::format("service {} {}: last cycle failed ({} in a row): {}", s.id, s.name,
                                    s.state.consecutive_failures, s.state.last_error));
  for (const auto& t : site.eng->targets())
    if (t.breaker == breaker_state::open)
      reasons.push_back(fmt::format("target {}: circuit open: {}", t.target, t.last_failure));
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("status");
  w.string(reasons.empty() ? "ready" : "not ready");
  w.key("reasons");
  w.begin_array();
  for (const auto& r : reasons)
    w.string(r);
  w.end_array();
  w.end_object();
  return json_response(reasons.empty() ? 200 : 503, std::move(out));
}

/// Compares without an early exit (the time does not tell how much matched).
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::string header(const web_request& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

std::string form(const web_request& r, const std::string& name) {
  auto it = r.form.find(name);
  return it == r.form.end() ? std::string() : it->second;
}

web_response action_answer(int status, const std::string& message, bool json,
                           const web_site& site) {
  if (json) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key(status == 200 ? "result" : "error");
    w.string(message);
    w.end_object();
    return json_response(status, std::move(out));
  }
  return {status, "text/html; charset=utf-8",
          page(site, status == 200 ? "Done" : "Refused",
               "<p id=\"result\">" + html_escape(message) + "</p><p><a href=\"/\">Back to the "
               "overview</a></p>\n")};
}

/// The token and origin checks of every action; nullopt when allowed.
std::optional<web_response> refuse(const web_request& r, const web_site& site, bool json) {
  if (site.admin_token.empty())
    return action_answer(403, "actions are off: set [web] admin_token (from the environment, "
                              "e.g. \"${STAMPEDE_WEB_TOKEN}\") to allow resend and run now",
                         json, site);
  const auto origin = header(r, "origin");
  if (!origin.empty() && origin != "http://" + header(r, "host"))
    return action_answer(403, "cross-origin request refused (Origin " + origin + ")", json, site);
  auto token = form(r, "token");
  if (const auto auth = header(r, "authorization"); token.empty() && auth.rfind("Bearer ", 0) == 0)
    token = auth.substr(7);
  if (token.empty())
    return action_answer(401, "give the admin token (form field `token` or Authorization: Bearer)",
                         json, site);
  if (!same_secret(token, site.admin_token))
    return action_answer(403, "wrong admin token", json, site);
  return std::nullopt;
}

/// The checks of every action and the service it names (form field
/// `service`); the answer to give instead when it cannot proceed.
std::variant<const service_config*, web_response> allowed(const web_request& r,
                                                           const web_site& site, bool json) {
  if (auto no = refuse(r, site, json))
    return *no;
  const auto id = to_u32(form(r, "service"));
  const auto* svc = id ? find(site, *id) : nullptr;
  if (!svc)
    return action_answer(400, "give service = the id of a service this worker runs", json, site);
  return svc;
}

web_response resend_action(const web_request& r, const web_site& site, bool json) {
  auto ok = allowed(r, site, json);
  if (auto* no = std::get_if<web_response>(&ok))
    return *no;
  const auto* svc = std::get<const service_config*>(ok);
  request rq;
  rq.kind = request_kind::resend;
  rq.service = svc->id;
  rq.by = "web";
  rq.created_ms = now_of(site);
  const auto key = form(r, "key");
  const auto status = form(r, "status");
  std::string what;
  if (!key.empty()) {
    rq.keys = {key};
    what = "record " + key;
  } else if (status == "error" || status == "cancelled") {
    rq.scope = status == "error" ? resend_scope::error : resend_scope::cancelled;
    what = "every " + status + " record";
  } else {
    return action_answer(400, "give key = a record key, or status = error or cancelled", json,
                         site);
  }
  try {
    validate(rq, site.eng->cfg());
    write_request(site.eng->cfg().state.dir, rq);
  } catch (const std::exception& e) {
    return action_answer(500, std::string("could not queue the resend: ") + e.what(), json, site);
  }
  return action_answer(200,
                       fmt::format("resend of {} of service {} {} queued; the worker applies it "
                                   "within a second and runs the service (see the log monitor)",
                                   what, svc->id, svc->name),
                       json, site);
}

web_response run_action(const web_request& r, const web_site& site, bool json) {
  auto ok = allowed(r, site, json);
  if (auto* no = std::get_if<web_response>(&ok))
    return *no;
  const auto* svc = std::get<const service_config*>(ok);
  if (!site.eng->looping())
    return action_answer(503, "the worker is not running its schedule loop", json, site);
  site.eng->run_now(svc->id);
  return action_answer(200,
                       fmt::format("service {} {} runs as soon as no other cycle runs", svc->id,
                                   svc->name),
                       json, site);
}

} // namespace

web_response route(const web_request& req, const web_site& site) {
  const auto& p = req.path;
  if (req.method == "POST") {
    if (p == "/actions/resend" || p == "/api/resend")
      return resend_action(req, site, p == "/api/resend");
    if (p == "/actions/run" || p == "/api/run")
      return run_action(req, site, p == "/api/run");
  }
  if (req.method != "GET" && req.method != "HEAD")
    return {405, "text/plain; charset=utf-8",
            "only GET and HEAD here; actions are POST /actions/resend and /actions/run\n"};
  if (p == "/" || p == "/index.html")
    return overview(site);
  if (p == "/api/status")
    return status_json(site);
  if (p == "/log" || p == "/api/log")
    return log_page(req, site, p == "/api/log");
  if (p == "/record" || p == "/api/record")
    return record_page(req, site, p == "/api/record");
  if (p == "/cycles" || p == "/api/cycles")
    return cycles_page(req, site, p == "/api/cycles");
  if (p == "/healthz")
    return healthz(site);
  if (p == "/readyz")
    return readyz(site);
  if (p == "/metrics") {
    auto* m = site.eng->metrics();
    return {200, "text/plain; version=0.0.4; charset=utf-8", m ? m->render_text() : std::string()};
  }
  return {404, "text/plain; charset=utf-8",
          "no page " + p + ": see / (overview), /cycles, /log, /record, /healthz, /readyz, /metrics\n"};
}

} // namespace stampede
