// check_source: the config's services against the live source. See check.hpp.
#include "source/check.hpp"
#include "source/writer.hpp"

#include "source/source.hpp"

#include <algorithm>

namespace stampede {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool has_column(const table_info& t, std::string_view c, bool exact) {
  for (const auto& col : t.columns)
    if (exact ? col == c : same_name(col, c)) return true;
  return false;
}

struct checker {
  const config& cfg;
  check_report rep;
  const std::vector<const service_config*>* only = nullptr;  // null = every service
  const source_kind_entry* kind = nullptr;

  config_diagnostic diag(int line, int column, std::string path, std::string msg,
                         std::string hint) {
    return {cfg.file, line, column, std::move(path), std::move(msg), std::move(hint)};
  }

  // `in`: "table SA1010" or "the query's result".
  void missing_column(const table_info& t, const std::string& in, const std::string& col,
                      int line, int column, std::string path) {
    std::string best = closest_name(col, t.columns);
    std::string hint = best.empty() ? "columns of " + in + ": " + list(t.columns)
                                    : "did you mean `" + best + "`?";
    rep.errors.push_back(diag(line, column, std::move(path),
                              "column `" + col + "` does not exist in " + in, std::move(hint)));
  }

  static std::string list(const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 40; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 40) s += ", ...";
    return s;
  }

  void service(source& src, const service_config& s) {
    const std::string p = "services[" + std::to_string(s.file_index) + "]";
    const std::string label = "service " + std::to_string(s.id) + " (" + s.name + ")";
    const table_spec spec = spec_of(cfg.source, s);
    table_spec bare = spec;  // without the where: the table's (the query's) own columns
    bare.where.clear();
    const bool is_query = !s.query.empty();
    const std::string in = is_query ? "the query's result" : "table " + s.table;
    std::optional<table_info> t;
    try {
      t = src.describe(bare);
    } catch (const source_error& e) {
      if (is_query)
        rep.errors.push_back(diag(s.query_line, s.query_col, p + ".query",
                                  label + ": the query does not run: " + e.what(),
                                  "fix the query: one SELECT whose result holds the stamp, "
                                  "recno, deleted and key columns"));
      else
        rep.errors.push_back(diag(s.line, s.col, p + ".table", e.what(),
                                  "check that the database is readable"));
      return;
    }
    if (!t) {
      std::string best;
      try {
        best = closest_name(s.table, src.table_names());
      } catch (const source_error&) {
      }
      rep.errors.push_back(diag(s.line, s.col, p + ".table",
                                label + ": table " + s.table + " does not exist in " +
                                    kind->describe(cfg.source),
                                best.empty()
                                    ? "fix `table` or create the table in the source database"
                                    : "did you mean `" + best + "`?"));
      return;
    }
    std::size_t before = rep.errors.size();
    // A column the service names itself is reported at its own key, else at [source]'s.
    auto key_of = [&](const std::optional<std::string>& own, const char* key) {
      return own ? p + "." + key : std::string("source.") + key;
    };
    for (const auto& [col, key] :
         {std::pair{spec.stamp_column, key_of(s.stamp_column, "stamp_column")},
          std::pair{spec.recno_column, key_of(s.recno_column, "recno_column")},
          std::pair{spec.deleted_column, key_of(s.deleted_column, "deleted_column")}})
      if (!col.empty() && !has_column(*t, col, kind->exact_names))
        missing_column(*t, in, col, s.line, s.col, key);
    for (std::size_t i = 0; i < s.key_columns.size(); ++i)
      if (!has_column(*t, s.key_columns[i], kind->exact_names))
        missing_column(*t, in, s.key_columns[i], s.line, s.col,
                       p + ".key_columns[" + std::to_string(i) + "]");
    if (s.key_columns.empty() && !has_column(*t, spec.key_column, kind->exact_names))
      missing_column(*t, in, spec.key_column, s.line, s.col, p + ".key_column");
    for (std::size_t i = 0; i < s.fields.size(); ++i) {
      const field_mapping& f = s.fields[i];
      if (f.value || f.column.empty()) continue;
      if (!has_column(*t, f.column, kind->exact_names))
        missing_column(*t, in, f.column, f.line, f.col,
                       p + ".fields[" + std::to_string(i) + "].column");
    }
    if (rep.errors.size() == before && !spec.where.empty()) {
      try {  // the where prepares, its parameters bound
        src.describe(spec);
      } catch (const source_error& e) {
        rep.errors.push_back(diag(s.where_line, s.where_col, p + ".where",
                                  label + ": the condition does not run: " + e.what(),
                                  "fix `where`: a condition on the columns of " + in +
                                      ", with :name parameters given in `params`"));
      }
    }
    if (!t->has_stamp_index)
      rep.warnings.push_back(diag(
          s.line, s.col, p + ".table",
          label + ": table " + s.table + " has no index starting with " + spec.stamp_column +
              "; every page will scan the table",
          "run: " + kind->index_advice(spec)));
    if (rep.errors.size() != before) return;
    std::string line = label + ": " + (is_query ? std::string("query") : "table " + s.table) +
                       ", " + std::to_string(s.fields.size()) + " fields, " +
                       std::to_string(t->columns.size()) + " columns";
    try {
      line += ", " + std::to_string(src.count_rows(spec, std::nullopt)) + " rows";
    } catch (const source_error&) {
    }
    if (!is_query) line += t->has_stamp_index ? ", stamp index present" : ", NO stamp index";
    rep.info.push_back(std::move(line));
    stamps(src, s, spec, label, key_of(s.stamp_column, "stamp_column"));
  }

  // Samples the stamp column at both ends and says which layouts it holds.
  void stamps(source& src, const service_config& s, const table_spec& spec,
              const std::string& label, const std::string& key) {
    const std::string& col = spec.stamp_column;
    stamp_sample sm;
    try {
      sm = src.sample_stamps(spec, 500);
    } catch (const source_error& e) {
      rep.warnings.push_back(diag(s.line, s.col, key,
                                  label + ": cannot sample " + col + ": " + e.what(), ""));
      return;
    }
    if (sm.rows == 0) return;
    std::string found;
    for (const auto& [layout, n] : sm.layouts)
      found += (found.empty() ? "" : ", ") + layout + " (" + std::to_string(n) + ")";
    if (sm.nulls) found += (found.empty() ? "" : ", ") + std::string("NULL (") + std::to_string(sm.nulls) + ")";
    if (sm.unreadable_count)
      found += (found.empty() ? "" : ", ") + std::string("unreadable (") +
               std::to_string(sm.unreadable_count) + ")";
    rep.info.push_back(label + ": " + col + " sampled " + std::to_string(sm.rows) +
                       " rows (oldest and newest): " + found);
    if (sm.unreadable_count || sm.nulls) {
      std::string ex;
      for (const auto& u : sm.unreadable) ex += (ex.empty() ? "\"" : ", \"") + u + "\"";
      rep.warnings.push_back(diag(
          s.line, s.col, key,
          label + ": " + std::to_string(sm.unreadable_count + sm.nulls) + " sampled " + col +
              " values are not date-times" + (ex.empty() ? "" : " (e.g. " + ex + ")") +
              "; those rows become record errors and never move the checkpoint",
          "write stamps as " + std::string(stamp_formats_help)));
    }
    if (sm.layouts.size() > 1)
      rep.warnings.push_back(diag(
          s.line, s.col, key,
          label + ": " + col + " mixes " + std::to_string(sm.layouts.size()) +
              " layouts; they compare as text, so rows in a layout other than the newest row's "
              "can be read a cycle late",
          "write every stamp in one layout, e.g. YYYY-MM-DD HH:MM:SS.fff (UTC)"));
  }

  void run() {
    const source_config& sc = cfg.source;
    try {
      kind = &source_kind_of(sc.kind);
    } catch (const source_error& e) {
      rep.errors.push_back(diag(sc.line, sc.col, "source.kind", e.what(), ""));
      return;
    }
    auto problems = kind->check_config(cfg);
    if (!problems.empty()) {
      for (auto& d : problems) rep.errors.push_back(std::move(d));
      return;
    }
    std::unique_ptr<source> src;
    try {
      src = source::open(sc);
    } catch (const source_error& e) {
      rep.errors.push_back(diag(sc.line, sc.col, std::string(kind->location_key), e.what(),
                                e.hint.empty() ? std::string(kind->open_hint) : e.hint));
      return;
    }
    try {
      rep.info.push_back("source: " + kind->describe(sc) + ", clock " + src->now().text() +
                         " UTC");
      for (auto& [msg, hint] : src->check_warnings())
        rep.warnings.push_back(diag(sc.line, sc.col, std::string(kind->location_key),
                                    std::move(msg), std::move(hint)));
    } catch (const source_error& e) {
      rep.errors.push_back(diag(sc.line, sc.col, std::string(kind->location_key), e.what(), ""));
      return;
    }
    if (only) {
      for (const auto* s : *only) service(*src, *s);
    } else {
      for (const auto& s : cfg.services) service(*src, s);
    }
    // [services.writeback]: the statement prepares (read-only: nothing is written).
    for (const auto& s : cfg.services)
      if (!only || std::find(only->begin(), only->end(), &s) != only->end())
        for (auto& d : check_writeback(cfg, s)) rep.errors.push_back(std::move(d));
  }
};

} // namespace

check_report check_source(const config& cfg) {
  checker c{cfg, {}};
  c.run();
  return std::move(c.rep);
}

check_report check_source(const config& cfg, const std::vector<const service_config*>& only) {
  checker c{cfg, {}, &only};
  c.run();
  return std::move(c.rep);
}

std::string to_string(const check_report& r) {
  std::string s;
  for (const auto& d : r.errors) s += "error: " + d.to_string() + "\n";
  for (const auto& d : r.warnings) s += "warning: " + d.to_string() + "\n";
  for (const auto& i : r.info) s += "info: " + i + "\n";
  return s;
}

} // namespace stampede
