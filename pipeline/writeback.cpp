#include "pipeline/writeback.hpp"

#include <simdjson.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <thread>

namespace stampede {

namespace {

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string pointer_of(std::string_view dotted) {
  std::string p;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string_view::npos)
      dot = dotted.size();
    p += '/';
    for (char c : dotted.substr(start, dot - start)) {
      if (c == '~')
        p += "~0";
      else if (c == '/')
        p += "~1";
      else
        p += c;
    }
    start = dot + 1;
  }
  return p;
}

/// The value at `ptr` in the JSON object `json`: strings unquoted, other
/// scalars as JSON text, null as nullopt; `found` false when absent.
std::optional<std::string> value_at(simdjson::dom::parser& parser, std::string_view json,
                                    const std::string& ptr, bool& found) {
  found = false;
  simdjson::dom::element root;
  if (json.empty() || parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS)
    return std::nullopt;
  simdjson::dom::element e;
  if (root.at_pointer(ptr).get(e) != simdjson::SUCCESS)
    return std::nullopt;
  found = true;
  if (e.is_null())
    return std::nullopt;
  std::string_view sv;
  if (e.type() == simdjson::dom::element_type::STRING && e.get_string().get(sv) == simdjson::SUCCESS)
    return std::string(sv);
  if (e.type() == simdjson::dom::element_type::BOOL)
    return std::string(e.get_bool().value() ? "1" : "0");
  return simdjson::minify(e);
}

} // namespace

std::vector<std::string> sql_parameter_names(std::string_view sql) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {  // literal or quoted name: skip to its end
      for (++i; i < sql.size(); ++i)
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            ++i;
            continue;
          }
          break;
        }
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      ++i;  // PostgreSQL cast `x::text`
      while (i + 1 < sql.size() && name_char(sql[i + 1]))
        ++i;
    } else if (c == ':' && i + 1 < sql.size() && name_char(sql[i + 1])) {
      std::size_t j = i + 1;
      while (j < sql.size() && name_char(sql[j]))
        ++j;
      std::string name(sql.substr(i + 1, j - i - 1));
      if (std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(std::move(name));
      i = j - 1;
    }
  }
  return out;
}

namespace {

bool ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

} // namespace

std::string number_named_parameters(const std::string& sql, std::vector<std::string>& names,
                                    char prefix, int first) {
  names.clear();
  std::string out;
  out.reserve(sql.size() + 8);
  const std::size_t n = sql.size();
  std::size_t i = 0;
  // Copies sql[i..end) and moves i past it.
  auto copy_to = [&](std::size_t end) {
    end = std::min(end, n);
    out.append(sql, i, end - i);
    i = end;
  };
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or a quoted name ('' / "" escape themselves)
      std::size_t j = i + 1;
      while (j < n && sql[j] != c) ++j;
      copy_to(j + 1);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      copy_to(sql.find('\n', i));
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const std::size_t end = sql.find("*/", i + 2);
      copy_to(end == std::string::npos ? n : end + 2);
    } else if (c == '$' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      names.emplace_back("?");  // positional: cannot be bound by name
      copy_to(i + 2);
    } else if (c == '$') {  // $tag$ ... $tag$ (dollar quoting), else a plain $
      std::size_t j = i + 1;
      while (j < n && ident_char(sql[j])) ++j;
      if (j < n && sql[j] == '$') {
        const std::string tag = sql.substr(i, j - i + 1);
        const std::size_t end = sql.find(tag, j + 1);
        copy_to(end == std::string::npos ? n : end + tag.size());
      } else {
        copy_to(i + 1);
      }
    } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {
      copy_to(i + 2);  // a cast
    } else if (c == ':' && i + 1 < n && ident_start(sql[i + 1])) {
      std::size_t j = i + 1;
      while (j < n && ident_char(sql[j])) ++j;
      const std::string name = sql.substr(i + 1, j - i - 1);
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) it = names.insert(names.end(), name);
      out += prefix;
      out += std::to_string(it - names.begin() + first);
      i = j;
    } else {
      copy_to(i + 1);
    }
  }
  return out;
}

std::string field_parameter_name(std::string_view field) {
  std::string s(field);
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

std::vector<writeback_param> writeback_params(const service_config& svc,
                                              const std::vector<std::string>& names) {
  std::vector<writeback_param> out;
  for (const auto& n : names) {
    writeback_param p;
    p.name = n;
    if (n == "id") {
      p.src = writeback_param::from::id;
    } else if (n == "key") {
      p.src = writeback_param::from::key;
    } else if (auto k = std::find(svc.key_columns.begin(), svc.key_columns.end(), n);
               k != svc.key_columns.end()) {
      p.src = writeback_param::from::key_part;  // a column of a composite key
      p.part = std::size_t(k - svc.key_columns.begin());
      p.parts = svc.key_columns.size();
    } else {
      p.src = writeback_param::from::answer;
      p.pointer = "/" + n;
      for (const auto& f : svc.fields)
        if (field_parameter_name(f.name) == n) {
          p.src = writeback_param::from::field;
          p.pointer = pointer_of(f.name);
          break;
        }
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>>
writeback_param_typos(const service_config& svc, const std::vector<std::string>& names) {
  std::vector<std::string> known{"id", "key"};
  known.insert(known.end(), svc.key_columns.begin(), svc.key_columns.end());
  for (const auto& f : svc.fields)
    known.push_back(field_parameter_name(f.name));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : writeback_params(svc, names)) {
    if (p.src != writeback_param::from::answer)
      continue;
    // Two-letter names ("ok") are too short to call a typo of "id".
    if (auto best = closest_name(p.name, known); !best.empty() && p.name.size() > 2)
      out.emplace_back(p.name, best);
  }
  return out;
}

writeback_plan::writeback_plan(const service_config& svc, std::vector<std::string> names)
  : on_(svc.writeback ? svc.writeback->on : writeback_on::create),
    params_(writeback_params(svc, names)) {
}

bool writeback_plan::needs_answer() const {
  return std::any_of(params_.begin(), params_.end(),
                     [](const auto& p) { return p.src == writeback_param::from::answer; });
}

void writeback_plan::rows(const batch_result& r, std::vector<writeback_row>& out,
                          std::vector<writeback_outcome>& problems) const {
  if (r.target || !r.still_processing_batch_id.empty() || !r.batch)
    return;
  const send_batch& b = *r.batch;
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < b.records.size() && i < r.outcomes.size(); ++i) {
    const auto& rec = b.records[i];
    const auto& o = r.outcomes[i];
    if (!o.ok)
      continue;
    const bool wanted = rec.op == record_op::create ||
                        (rec.op == record_op::update && on_ == writeback_on::always);
    if (!wanted)
      continue;
    writeback_row row;
    row.key = rec.key;
    std::string missing;
    for (const auto& p : params_) {
      bool found = true;
      switch (p.src) {
        case writeback_param::from::id:
          row.values.emplace_back(!o.remote_id.empty() ? o.remote_id : rec.remote_id);
          if (row.values.back()->empty())
            row.values.back().reset();
          break;
        case writeback_param::from::key:
          row.values.emplace_back(rec.key);
          break;
        case writeback_param::from::key_part:
          if (auto parts = is_label_key(rec.key) ? std::nullopt
                                                 : split_composite_key(rec.key, p.parts))
            row.values.emplace_back(std::move((*parts)[p.part]));
          else
            row.values.emplace_back(std::nullopt);  // a label key: matches no row
          break;
        case writeback_param::from::field:
          row.values.push_back(value_at(parser, b.data(rec), p.pointer, found));
          break;
        case writeback_param::from::answer: {
          // A value of response.returns by its name, else the answer's member.
          auto it = std::find_if(o.returned.begin(), o.returned.end(),
                                 [&](const auto& v) { return v.first == p.name; });
          if (it != o.returned.end()) {
            row.values.emplace_back(it->second);
            break;
          }
          row.values.push_back(value_at(parser, o.received, p.pointer, found));
          if (!found && missing.empty())
            missing = p.name;
          break;
        }
      }
    }
    if (!missing.empty()) {
      problems.push_back({rec.key, false,
                          fmt::format("write-back not run: the target's answer has no `{}` "
                                      "(parameter :{}); answer: {}",
                                      missing, missing, o.received.empty() ? "(none)" : o.received)});
      continue;
    }
    out.push_back(std::move(row));
  }
}

writeback_runner::writeback_runner(writeback_plan plan, std::unique_ptr<writeback_sink> sink,
                                   writeback_retry retry,
                                   std::function<void(std::chrono::milliseconds)> sleep)
  : plan_(std::move(plan)), sink_(std::move(sink)), retry_(retry), sleep_(std::move(sleep)) {
  if (!sleep_)
    sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  retry_.attempts = std::max<std::uint32_t>(1, retry_.attempts);
}

std::vector<writeback_outcome> writeback_runner::run(const batch_result& r) {
  std::vector<writeback_row> rows;
  std::vector<writeback_outcome> out;
  plan_.rows(r, rows, out);
  if (rows.empty())
    return out;
  auto changed_text = [](std::int64_t n) {
    return fmt::format("write-back: {} row{} changed", n, n == 1 ? "" : "s");
  };
  std::string last_error;
  auto pause = retry_.pause;
  for (std::uint32_t attempt = 1; attempt <= retry_.attempts; ++attempt) {
    try {
      const auto changed = sink_->execute(rows);
      for (std::size_t i = 0; i < rows.size(); ++i)
        out.push_back({rows[i].key, true,
                       changed_text(i < changed.size() ? changed[i] : 0) +
                         (attempt > 1 ? fmt::format(" (try {})", attempt) : "")});
      return out;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    if (attempt < retry_.attempts) {
      sleep_(pause);
      pause *= 2;
    }
  }
  // Every try of the whole batch failed: each row alone, so a row the
  // database refuses does not hold back the others.
  for (const auto& row : rows) {
    try {
      const auto changed = sink_->execute({row});
      out.push_back({row.key, true,
                     changed_text(changed.empty() ? 0 : changed[0]) +
                       fmt::format(" (alone, after {} failed tries of its batch: {})",
                                   retry_.attempts, last_error)});
    } catch (const std::exception& e) {
      out.push_back({row.key, false,
                     fmt::format("write-back failed after {} tries: {}", retry_.attempts + 1,
                                 e.what())});
    }
  }
  return out;
}

state_changes writeback_items(const std::vector<writeback_outcome>& outcomes,
                              const std::vector<std::pair<std::string, ledger_entry>>& ledger,
                              std::int64_t now_ms, std::uint32_t max_items) {
  state_changes c;
  std::map<std::string, ledger_entry> entries;
  for (const auto& [k, e] : ledger)
    entries[k] = e;
  std::map<std::string, ledger_entry> touched;
  for (const auto& o : outcomes) {
    auto it = entries.find(o.key);
    if (it == entries.end())
      continue;
    ledger_entry& e = it->second;
    log_item item;
    item.time_ms = now_ms;
    item.status = e.status;  // unchanged: a write-back is not a delivery
    item.op = e.last_op;
    item.attempt = 0;
    item.message = o.message;
    item.by = "write-back";
    const std::uint32_t no = e.items++;
    c.items.push_back({o.key, no, std::move(item)});
    if (max_items > 0 && no >= max_items)
      c.items_erase.emplace_back(o.key, no - max_items);
    touched[o.key] = e;
  }
  for (auto& [k, e] : touched)
    c.ledger.emplace_back(k, std::move(e));
  return c;
}

} // namespace stampede
