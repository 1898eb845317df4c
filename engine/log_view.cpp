#include "engine/log_view.hpp"

#include "pipeline/record.hpp"
#include "pipeline/schedule.hpp"
#include "pipeline/stamp.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fmt/format.h>
#include <queue>
#include <tuple>

namespace stampede {

namespace {

// Orders rows "newer first": a heap with this comparator keeps the oldest on top.
struct newer_first {
  bool operator()(const log_row& a, const log_row& b) const {
    return std::tie(b.entry.updated_ms, a.service, a.key) <
           std::tie(a.entry.updated_ms, b.service, b.key);
  }
};

bool passes(const log_filter& f, const ledger_entry& e) {
  if (f.status && e.status != *f.status)
    return false;
  return e.updated_ms >= f.since_ms && e.updated_ms <= f.until_ms;
}

std::string_view by_or_worker(const std::string& by) {
  return by.empty() ? std::string_view("worker") : std::string_view(by);
}

void time_or_null(json_writer& w, std::int64_t ms) {
  if (ms == 0)
    w.null();
  else
    w.string(iso_utc(ms));
}

} // namespace

log_result query_log(state_store& store, const std::vector<std::uint32_t>& services,
                     const log_filter& f) {
  log_result out;
  auto& heap = out.rows;  // max-heap on "newer first" = oldest row on top
  newer_first cmp;
  auto offer = [&](std::uint32_t svc, std::string_view key, const ledger_entry& e) {
    if (!passes(f, e))
      return;
    ++out.matched;
    log_row row{svc, std::string(key), e, {}};
    if (f.limit == 0 || heap.size() < f.limit) {
      heap.push_back(std::move(row));
      std::push_heap(heap.begin(), heap.end(), cmp);
    } else if (cmp(row, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      heap.back() = std::move(row);
      std::push_heap(heap.begin(), heap.end(), cmp);
    }
  };
  for (auto svc : services) {
    if (f.key) {
      if (auto e = store.get(svc, *f.key))
        offer(svc, *f.key, *e);
      continue;
    }
    store.scan(svc, [&](std::string_view key, const ledger_entry& e) {
      offer(svc, key, e);
      return true;
    });
  }
  std::sort_heap(heap.begin(), heap.end(), cmp);
  for (auto& row : heap)
    row.last_message = !row.entry.last_error.empty()
                         ? row.entry.last_error
                         : last_item_message(store, row.service, row.key);
  return out;
}

std::string last_item_message(state_store& store, std::uint32_t service, std::string_view key) {
  std::string msg;
  store.scan_items(service, key, [&](std::uint32_t, const log_item& it) {
    msg = it.message;
    return true;
  });
  return msg;
}

std::optional<record_status> parse_record_status(std::string_view s) {
  std::string lower;
  for (char c : s)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (int i = 0; i < 4; ++i)
    if (to_string(static_cast<record_status>(i)) == lower)
      return static_cast<record_status>(i);
  return std::nullopt;
}

std::optional<std::int64_t> parse_time_arg(std::string_view s, std::int64_t now_ms) {
  if (s.empty())
    return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(s.back()))) {
    std::string t(s);
    if (t.size() == 16)  // "YYYY-MM-DD HH:MM"
      t += ":00";
    if (auto v = parse_stamp(t))
      return v->unix_ms();
    return std::nullopt;
  }
  auto d = parse_duration(s);
  if (!d || d->count() < 0)
    return std::nullopt;
  return now_ms - d->count();
}

std::string iso_utc(std::int64_t ms) {
  if (ms == 0)
    return {};
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds{ms}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> tod{t - day};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), tod.hours().count(),
                     tod.minutes().count(), tod.seconds().count(), tod.subseconds().count());
}

std::string short_utc(std::int64_t ms) {
  if (!ms)
    return "-";
  auto t = iso_utc(ms).substr(0, 19);
  t[10] = ' ';
  return t;
}

std::string_view op_name(std::uint8_t op) {
  return op <= 2 ? to_string(static_cast<record_op>(op)) : std::string_view("unknown");
}

void write_entry_json(json_writer& w, const service_config& svc, const log_row& row) {
  const auto& e = row.entry;
  w.begin_object();
  w.key("service"); w.uinteger(row.service);
  w.key("name"); w.string(svc.name);
  w.key("key_field"); w.string(svc.key_column);
  w.key("key"); w.string(row.key);
  w.key("status"); w.string(to_string(e.status));
  w.key("operation"); w.string(op_name(e.last_op));
  w.key("remote_id"); w.string(e.remote_id);
  w.key("returned");  // response.returns besides the id: {"rev":"2-.."}
  w.begin_object();
  for (const auto& [name, value] : e.returned) {
    w.key(name);
    w.string(value);
  }
  w.end_object();
  w.key("attempts"); w.uinteger(e.attempts);
  w.key("generation"); w.uinteger(e.generation);
  w.key("created"); time_or_null(w, e.created_ms);
  w.key("changed"); time_or_null(w, e.updated_ms);
  w.key("changed_by"); w.string(by_or_worker(e.changed_by));
  w.key("message"); w.string(row.last_message);
  w.key("last_stamp"); w.string(e.last_stamp);
  w.key("batch_id"); w.string(e.batch_id);
  w.key("items"); w.uinteger(e.items);
  w.end_object();
}

void write_item_json(json_writer& w, std::uint32_t no, const log_item& it) {
  w.begin_object();
  w.key("no"); w.uinteger(no);
  w.key("time"); time_or_null(w, it.time_ms);
  w.key("status"); w.string(to_string(it.status));
  w.key("attempt"); w.uinteger(it.attempt);
  w.key("http_status"); w.integer(it.http_status);
  w.key("operation"); w.string(op_name(it.op));
  w.key("message"); w.string(it.message);
  w.key("sent"); w.string(it.sent);
  w.key("received"); w.string(it.received);
  w.key("by"); w.string(by_or_worker(it.by));
  w.end_object();
}

void write_event_json(json_writer& w, const service_event& e) {
  w.begin_object();
  w.key("time"); time_or_null(w, e.time_ms);
  w.key("by"); w.string(by_or_worker(e.by));
  w.key("text"); w.string(e.text);
  w.end_object();
}

} // namespace stampede
