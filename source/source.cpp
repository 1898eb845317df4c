// Source-independent parts of source.hpp: the registry of kinds, errors,
// row vetting and page positions. Each kind lives in its own module
// (source/sqlite/, ...).
#include "source/source.hpp"

#include "source/postgres/postgres_source.hpp"
#include "source/sqlite/sqlite_source.hpp"

#include <algorithm>

namespace stampede {

std::string_view to_string(source_errc c) {
  switch (c) {
    case source_errc::ok: return "ok";
    case source_errc::open_failed: return "open_failed";
    case source_errc::no_such_table: return "no_such_table";
    case source_errc::no_such_column: return "no_such_column";
    case source_errc::query_failed: return "query_failed";
    case source_errc::invalid_identifier: return "invalid_identifier";
  }
  return "unknown";
}

const std::vector<source_kind_entry>& source_kinds() {
  static const std::vector<source_kind_entry> kinds{sqlite_source_kind(), postgres_source_kind()};
  return kinds;
}

const source_kind_entry& source_kind_of(source_kind k) {
  for (const auto& e : source_kinds())
    if (e.kind == k) return e;
  throw source_error(source_errc::open_failed, "unknown source kind");
}

std::string table_spec::key_name() const {
  if (key_columns.empty()) return key_column;
  std::string out;
  for (std::size_t i = 0; i < key_columns.size(); ++i) out += (i ? "|" : "") + key_columns[i];
  return out;
}

table_spec spec_of(const source_config& src, const service_config& svc) {
  table_spec t;
  t.table = svc.table;
  t.query = svc.query;
  t.where = svc.where;
  t.params = svc.params;
  t.stamp_column = svc.stamp_column.value_or(src.stamp_column);
  t.recno_column = svc.recno_column.value_or(src.recno_column);
  t.deleted_column = svc.deleted_column.value_or(src.deleted_column);
  t.deleted_value = svc.deleted_value.value_or(src.deleted_value);
  t.key_columns = svc.key_columns;
  t.key_column = svc.key_columns.empty() && !svc.key_column.empty() ? svc.key_column
                                                                    : t.recno_column;
  if (!svc.key_columns.empty()) t.key_column.clear();
  t.trim_key = svc.trim_key;
  return t;
}

std::unique_ptr<source> source::open(const source_config& cfg) {
  return source_kind_of(cfg.kind).open(cfg);
}

void vet_rows(row_page& page, const std::string& key_column, const std::string& stamp_column,
              const std::string& recno_column) {
  std::size_t nth = 0;
  for (std::size_t i = 0; i < page.rows.size(); ++i) {
    auto& r = page.rows[i];
    const bool same_group = i > 0 && page.rows[i - 1].recno == null_recno &&
                            page.rows[i - 1].stamp == r.stamp;
    nth = r.recno != null_recno ? 0 : same_group ? nth + 1 : 1;
    vet_row(r, key_column, stamp_column, recno_column, nth);
  }
}

bool vet_row(row_page::row_meta& r, const std::string& key_column,
             const std::string& stamp_column, const std::string& recno_column, std::size_t nth) {
  r.problem.clear();
  const bool bad_key = r.key_null || r.key.empty();
  const bool bad_stamp = !parse_stamp(r.stamp);
  if (!bad_key && !bad_stamp) return true;
  if (bad_key) {
    // A label naming the row (is_label_key, pipeline/record.hpp).
    std::string label = std::string(r.key_null ? "<NULL " : "<empty ") + key_column + ">";
    if (r.recno != null_recno && key_column != recno_column) {
      label += " " + recno_column + " " + std::to_string(r.recno);
    } else {
      label += " " + stamp_column + " " + r.stamp;
      if (nth > 0) label += " #" + std::to_string(nth);
    }
    r.problem = "the key column " + key_column + " is " + (r.key_null ? "NULL" : "empty") +
                "; a record needs a key: fill " + key_column + " in the source row";
    r.key = std::move(label);
  }
  if (bad_stamp) {
    if (!r.problem.empty()) r.problem += "; ";
    r.problem += "the stamp " + stamp_column + " = \"" + r.stamp +
                 "\" is not a date-time; write " + std::string(stamp_formats_help);
  }
  return false;
}

void set_page_positions(row_page& out, const keyset_pos& from) {
  // `from` can be a row with a bad stamp (paging goes on past it): never an end.
  out.end = parse_stamp(from.stamp) ? from : keyset_pos{};
  out.next = from;
  if (out.rows.empty()) return;
  const auto& last = out.rows.back();
  out.next = keyset_pos{last.stamp, last.recno};
  for (auto it = out.rows.rbegin(); it != out.rows.rend(); ++it)
    if (it->problem.empty() || parse_stamp(it->stamp)) {
      // A bad key with a good stamp still marks a point in time.
      out.end = keyset_pos{it->stamp, it->recno};
      break;
    }
}

stamp_sample summarize_stamps(const std::vector<std::optional<std::string>>& texts) {
  stamp_sample s;
  for (const auto& t : texts) {
    ++s.rows;
    if (!t) {
      ++s.nulls;
      continue;
    }
    auto l = layout_of(*t);
    if (!l) {
      ++s.unreadable_count;
      if (s.unreadable.size() < 5) s.unreadable.push_back(*t);
      continue;
    }
    std::string d = l->describe();
    auto it = std::find_if(s.layouts.begin(), s.layouts.end(),
                           [&](const auto& p) { return p.first == d; });
    if (it == s.layouts.end())
      s.layouts.emplace_back(std::move(d), 1);
    else
      ++it->second;
  }
  std::stable_sort(s.layouts.begin(), s.layouts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return s;
}

} // namespace stampede
