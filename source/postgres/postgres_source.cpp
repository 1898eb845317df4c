// The PostgreSQL source (see postgres_source.hpp).
#include "source/postgres/postgres_source.hpp"
#include "source/postgres/pg_common.hpp"

#include "pipeline/redact.hpp"
#include "pipeline/writeback.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <memory>
#include <thread>
#include <unordered_map>

namespace stampede {

namespace {

std::string quote(const std::string& id) { return quote_identifier(id); }

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

// The session name of our own connections (left out of the open-transaction bound).
constexpr const char* app_name = "stampede-source";

enum class stamp_type { text, timestamp, timestamptz };

// The name a query's result goes by in the pages' FROM (qualifies its columns).
constexpr const char* query_alias = "stampede_q";

// The FROM clause of a spec: the table, or the query as a subquery.
std::string from_of(const table_spec& t) {
  if (!t.query.empty()) return "(" + t.query + ") AS " + quote(query_alias);
  require_identifier(t.table, "table");
  return quote(t.table);
}

// Appends " AND (where)" to `sql`, its :names numbered after `ps`, and their
// values to `ps` (bound, never interpolated). Nothing without a where.
void add_filter(const table_spec& t, std::string& sql, std::vector<std::string>& ps) {
  if (t.where.empty()) return;
  std::vector<std::string> names;
  sql += " AND (" + number_named_parameters(t.where, names, '$', int(ps.size()) + 1) + ")";
  for (const auto& n : names) {
    auto it = std::find_if(t.params.begin(), t.params.end(),
                           [&](const auto& p) { return p.first == n; });
    if (it == t.params.end())
      throw source_error(source_errc::query_failed,
                         "parameter :" + n + " of `where` has no value in `params`");
    ps.push_back(it->second);
  }
}

// The length n of "character varying(n)" / "character(n)", else 0.
int declared_length(const std::string& type) {
  const auto open = type.find('(');
  if (open == std::string::npos) return 0;
  return std::atoi(type.c_str() + open + 1);
}

class postgres_source final : public source {
public:
  explicit postgres_source(const source_config& cfg)
      : cfg_(cfg), where_(describe_dsn(cfg.dsn)), secrets_(dsn_secrets(cfg.dsn)) {
    for (const auto& s : secrets_) redactor::global().add(s);
    if (cfg.dsn.empty())
      throw source_error(source_errc::open_failed, "source.dsn is empty; give a connection string");
    connect();
  }
  ~postgres_source() override {
    if (conn_) PQfinish(conn_);
  }

  stamp now() override {
    auto r = query("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                   "'YYYY-MM-DD HH24:MI:SS.US')",
                   {}, "reading the clock");
    auto v = parse_stamp(PQgetvalue(r.get(), 0, 0));
    if (!v) throw source_error(source_errc::query_failed, "the PostgreSQL clock is not a stamp");
    return *v;
  }

  std::optional<stamp> oldest_open_transaction() override {
    auto r = query("SELECT to_char(min(xact_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
                   "FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                   "pg_backend_pid() AND xact_start IS NOT NULL AND backend_type = 'client "
                   "backend' AND application_name <> '" + std::string(app_name) + "'",
                   {}, "reading pg_stat_activity");
    if (PQgetisnull(r.get(), 0, 0)) return std::nullopt;
    return parse_stamp(PQgetvalue(r.get(), 0, 0));
  }

  keyset_pos start_at(const table_spec& table, stamp from) override {
    // (s, null_recno) means "done with stamp s" here (NULL recnos sort last):
    // the position is the last instant before `from`, in the column's terms.
    const table_shape& t = shape_of(table);
    const stamp before = stamp::from_unix_us(from.unix_us() - 1);
    if (t.type != stamp_type::text) return keyset_pos{before.text(), null_recno};
    // A text column: `before` truncated to each layout's precision (a row
    // written at that text is older than `from`); the smallest one.
    std::string lo;
    for (const auto& l : t.layouts) {
      std::string s = format_stamp(before, l);
      if (lo.empty() || s < lo) lo = std::move(s);
    }
    return keyset_pos{std::move(lo), null_recno};
  }

  stamp_sample sample_stamps(const table_spec& table, std::size_t n) override {
    const table_shape& t = shape_of(table);
    std::vector<std::optional<std::string>> texts;
    const std::string s = column_of(table, table.stamp_column);
    std::vector<std::string> ps;
    std::string from = from_of(table) + " WHERE true";
    add_filter(table, from, ps);
    auto cnt = query("SELECT count(*) FROM " + from, ps, "counting rows of " + table.what());
    const bool whole = std::stoull(PQgetvalue(cnt.get(), 0, 0)) <= 2 * n;
    for (const char* dir : {"ASC", "DESC"}) {
      if (whole && dir[0] == 'D') break;
      auto r = query("SELECT " + stamp_text(t, table) + " FROM " + from + " ORDER BY " + s + " " +
                         dir + " LIMIT " + std::to_string(whole ? 2 * n : n),
                     ps, "sampling the stamps of " + table.what());
      for (int i = 0; i < PQntuples(r.get()); ++i)
        texts.emplace_back(PQgetisnull(r.get(), i, 0)
                               ? std::nullopt
                               : std::optional<std::string>(PQgetvalue(r.get(), i, 0)));
    }
    return summarize_stamps(texts);
  }

  std::optional<table_info> describe(const table_spec& spec) override {
    if (!spec.query.empty() || !spec.where.empty()) {
      // The query (and the where) must prepare; a query's columns are its result's.
      std::vector<std::string> ps;
      std::string sql = "SELECT * FROM " + from_of(spec) + " WHERE true";
      add_filter(spec, sql, ps);
      auto r = query(sql + " LIMIT 0", ps, "preparing " + spec.what());
      if (!spec.query.empty()) {
        table_info info;
        for (int i = 0; i < PQnfields(r.get()); ++i) info.columns.emplace_back(PQfname(r.get(), i));
        info.has_stamp_index = true;  // not known for a query
        return info;
      }
    }
    const std::string& table = spec.table;
    auto r = query("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND "
                   "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                   {quote(table)}, "describing table " + table);
    table_info info;
    for (int i = 0; i < PQntuples(r.get()); ++i) info.columns.emplace_back(PQgetvalue(r.get(), i, 0));
    if (info.columns.empty()) return std::nullopt;
    auto ix = query("SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
                    "a.attnum = i.indkey[0] WHERE i.indrelid = to_regclass($1) AND a.attname = $2 "
                    "LIMIT 1",
                    {quote(table), spec.stamp_column}, "listing the indexes of " + table);
    info.has_stamp_index = PQntuples(ix.get()) > 0;
    return info;
  }

  void read_page(const page_query& q, row_page& out) override {
    with_retry("reading rows of " + q.what(), [&] { read_page_once(q, out); });
  }

  std::vector<std::string> read_by_keys(const page_query& q, const std::vector<std::string>& keys,
                                        row_page& out) override {
    std::vector<std::string> missing;
    const table_shape& t = shape_of(q);
    const auto key_columns = q.keys();
    const std::size_t nk = key_columns.size();
    // Key i is $(i+1). With trim_key a value the column holds padded is found
    // too: char(n) compares without trailing spaces by itself; varchar(n)
    // also matches the key padded to n (both through the index).
    std::string sql = select_list(q) + " WHERE true";
    std::vector<std::string> key_types;
    for (std::size_t i = 0; i < nk; ++i) {
      const auto type = t.types.find(key_columns[i]);
      key_types.push_back(type == t.types.end() ? "" : type->second);
      const std::string k = column_of(q, key_columns[i]), a = "$" + std::to_string(i + 1);
      const int n = declared_length(key_types.back());
      if (q.trim_key && key_types.back().rfind("character varying", 0) == 0 && n > 0)
        sql += " AND (" + k + " = " + a + " OR " + k + " = rpad(" + a + "::text, " +
               std::to_string(n) + "))";
      else
        sql += " AND " + k + " = " + a;
    }
    std::vector<std::string> ps(nk);
    add_filter(q, sql, ps);
    sql += " LIMIT 1";
    with_retry("reading rows of " + q.what() + " by key", [&] {
      missing.clear();
      begin_snapshot();
      reset_page(q, out);
      out.end = out.next = keyset_pos{};
      out.last = true;
      for (const auto& k : keys) {
        bool fits = true;
        if (nk == 1) {
          ps[0] = k;
        } else if (auto parts = is_label_key(k) ? std::nullopt : split_composite_key(k, nk)) {
          for (std::size_t i = 0; i < nk; ++i) ps[i] = std::move((*parts)[i]);
        } else {
          fits = false;
        }
        for (std::size_t i = 0; fits && i < nk; ++i)
          fits = fits_integer_column(key_types[i], ps[i]);
        if (!fits) {  // e.g. a label key: no row has it
          missing.push_back(k);
          continue;
        }
        auto r = exec(sql, ps);
        if (!r) return;  // connection lost: retried
        if (PQntuples(r.get()) == 0)
          missing.push_back(k);
        else
          append_rows(r.get(), q, out, 1);
      }
      exec_simple("COMMIT");
      vet(q, out);
    });
    return missing;
  }

  std::uint64_t count_rows(const table_spec& table, std::optional<stamp> upper) override {
    const table_shape& t = shape_of(table);
    std::string sql = "SELECT count(*) FROM " + from_of(table) + " WHERE true";
    std::vector<std::string> params;
    if (upper) {
      sql += " AND " + column_of(table, table.stamp_column) + " <= $1" + cast(t);
      params.push_back(upper_text(t, *upper));
    }
    add_filter(table, sql, params);
    auto r = query(sql, params, "counting rows of " + table.what());
    return std::stoull(PQgetvalue(r.get(), 0, 0));
  }

  backlog_count backlog(const table_spec& table, const keyset_pos& after,
                        std::uint64_t cap) override {
    const table_shape& t = shape_of(table);
    const std::string c = cast(t), s = column_of(table, table.stamp_column),
                      r = column_of(table, table.recno_column), from = from_of(table),
                      lim = std::to_string(std::max<std::uint64_t>(cap, 1) + 1);
    // The rest of the checkpoint's tie group (greater recnos, then the NULL
    // ones: they sort last here, unless the position is "done with the
    // stamp"), then greater stamps; each count stops after cap + 1 rows.
    auto count = [&](const std::string& where, std::vector<std::string> ps) -> std::optional<std::uint64_t> {
      std::string sql = "SELECT 1 FROM " + from + " WHERE " + where;
      add_filter(table, sql, ps);
      auto res = exec("SELECT count(*) FROM (" + sql + " LIMIT " + lim + ") AS b", ps);
      if (!res) return std::nullopt;
      return std::stoull(PQgetvalue(res.get(), 0, 0));
    };
    backlog_count out;
    with_retry("counting the backlog of " + table.what(), [&] {
      out = {};
      begin_snapshot();
      std::uint64_t ties = 0;
      if (!after.stamp.empty() && after.recno != null_recno) {
        auto n = count(s + " = $1" + c + " AND (" + r + " > $2::bigint OR " + r + " IS NULL)",
                       {after.stamp, std::to_string(after.recno)});
        if (!n) return;
        ties = *n;
      }
      std::vector<std::string> ps;
      std::string greater = "true";
      if (!after.stamp.empty()) {
        greater = s + " > $1" + c;
        ps.push_back(after.stamp);
      }
      auto rest = count(greater, ps);
      if (!rest) return;
      const std::uint64_t n = ties + *rest;
      if (ties > 0) {
        out.oldest = parse_stamp(after.stamp);
      } else if (n > 0) {
        std::string sql = "SELECT " + stamp_text(t, table) + " FROM " + from + " WHERE " + greater;
        add_filter(table, sql, ps);
        auto res = exec(sql + " ORDER BY " + s + " LIMIT 1", ps);
        if (!res) return;
        if (PQntuples(res.get()) > 0 && !PQgetisnull(res.get(), 0, 0))
          out.oldest = parse_stamp(PQgetvalue(res.get(), 0, 0));
      }
      out.capped = n > cap;
      out.rows = std::min(n, cap);
      exec_simple("COMMIT");
    });
    return out;
  }

  std::vector<std::string> table_names() override {
    auto r = query("SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') "
                   "AND pg_table_is_visible(c.oid) ORDER BY 1",
                   {}, "listing tables");
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
    return out;
  }

  std::vector<std::pair<std::string, std::string>> check_warnings() override {
    // pg_stat_activity hides other roles' xact_start from a user that is
    // neither a superuser nor a member of pg_read_all_stats.
    auto r = query("SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = "
                   "current_user) OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')",
                   {}, "reading the user's roles");
    if (std::string_view(PQgetvalue(r.get(), 0, 1)) == "t") return {};
    const std::string user = PQgetvalue(r.get(), 0, 0);
    return {{"user " + user + " cannot see other users' open transactions (pg_stat_activity): "
             "a transaction that commits late with an old stamp is caught only within "
             "source.lookback",
             "GRANT pg_read_all_stats TO \"" + user + "\"; (or connect as a member of it)"}};
  }

private:
  struct table_shape {
    stamp_type type = stamp_type::text;
    std::vector<stamp_layout> layouts;  // text columns: layouts of the newest stamps
    std::vector<std::string> zoned;     // timestamptz columns (read in UTC, without zone)
    std::unordered_map<std::string, std::string> types;  // column -> format_type
  };

  // False when `type` is an integer type and `key` is not a value of it (a
  // bound "abc" would fail the statement, and so the whole batch).
  static bool fits_integer_column(const std::string& type, const std::string& key) {
    std::int64_t lo, hi;
    if (type == "smallint") {
      lo = std::numeric_limits<std::int16_t>::min(), hi = std::numeric_limits<std::int16_t>::max();
    } else if (type == "integer") {
      lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
    } else if (type == "bigint") {
      lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    } else {
      return true;
    }
    std::size_t b = 0, e = key.size();
    while (b < e && key[b] == ' ') ++b;
    while (e > b && key[e - 1] == ' ') --e;
    if (b < e && key[b] == '+') ++b;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(key.data() + b, key.data() + e, v);
    return ec == std::errc() && ptr == key.data() + e && b < e && v >= lo && v <= hi;
  }

  // Parameters stay untyped: PostgreSQL gives each the type of the column it
  // is compared with, so the (stamp, recno) index is used for every type.
  static std::string cast(const table_shape&) { return ""; }

  std::string upper_text(const table_shape& t, stamp upper) const {
    if (t.type != stamp_type::text) return upper.text();
    std::string hi;
    for (const auto& l : t.layouts) {
      std::string s = format_stamp(upper, l);
      if (s > hi) hi = std::move(s);
    }
    return hi;
  }

  const table_shape& shape_of(const table_spec& spec) {
    const std::string key = spec.table + '\x1f' + spec.query + '\x1f' + spec.stamp_column;
    auto it = shapes_.find(key);
    if (it != shapes_.end()) return it->second;
    require_identifier(spec.stamp_column, "stamp_column");
    if (!spec.query.empty()) return shapes_.emplace(key, query_shape(spec)).first->second;
    const std::string& table = spec.table;
    require_identifier(table, "table");
    table_shape t;
    auto r = query("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                   "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                   {quote(table)}, "reading the column types of " + table);
    std::string type;
    bool found = false;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      const std::string name = PQgetvalue(r.get(), i, 0), ty = PQgetvalue(r.get(), i, 1);
      t.types.emplace(name, ty);
      if (name == spec.stamp_column) {
        type = ty;
        found = true;
      }
      if (ty.rfind("timestamp with time zone", 0) == 0) t.zoned.push_back(name);
    }
    if (!found) {
      if (!describe(table))
        throw source_error(source_errc::no_such_table,
                           "table " + table + " does not exist in " + where_);
      throw source_error(source_errc::no_such_column,
                         "column " + spec.stamp_column + " of table " + table + " not found in " +
                             where_);
    }
    stamp_layouts(spec, type, t);
    return shapes_.emplace(key, std::move(t)).first->second;
  }

  // The shape of a query's result: its columns' types from a LIMIT 0 run.
  table_shape query_shape(const table_spec& spec) {
    auto r = query("SELECT * FROM " + from_of(spec) + " LIMIT 0", {}, "preparing the query");
    table_shape t;
    std::string type;
    for (int i = 0; i < PQnfields(r.get()); ++i) {
      std::string ty;
      switch (PQftype(r.get(), i)) {  // pg_type OIDs of the types the source looks at
        case 20: ty = "bigint"; break;
        case 21: ty = "smallint"; break;
        case 23: ty = "integer"; break;
        case 1042: ty = "character"; break;
        case 1114: ty = "timestamp without time zone"; break;
        case 1184: ty = "timestamp with time zone"; break;
        default: ty = "other"; break;
      }
      const std::string name = PQfname(r.get(), i);
      if (name == spec.stamp_column) type = ty;
      if (ty == "timestamp with time zone") t.zoned.push_back(name);
      t.types.emplace(name, std::move(ty));
    }
    if (type.empty())
      throw source_error(source_errc::no_such_column,
                         "the query's result has no column " + spec.stamp_column + " (in " +
                             where_ + ")",
                         "select the stamp column in the query (e.g. SA1.S_T_A_M_P_), or set "
                         "stamp_column to the name it has in the result");
    stamp_layouts(spec, type, t);
    return t;
  }

  // The stamp column's kind from its type; a text column's layouts of the newest stamps.
  void stamp_layouts(const table_spec& spec, const std::string& type, table_shape& t) {
    if (type.rfind("timestamp with time zone", 0) == 0)
      t.type = stamp_type::timestamptz;
    else if (type.rfind("timestamp", 0) == 0)
      t.type = stamp_type::timestamp;
    if (t.type == stamp_type::text) {
      const std::string s = column_of(spec, spec.stamp_column);
      auto n = query("SELECT " + s + "::text FROM " + from_of(spec) + " WHERE " + s +
                         " IS NOT NULL ORDER BY " + s + " DESC LIMIT 64",
                     {}, "reading the newest stamps of " + spec.what());
      for (int i = 0; i < PQntuples(n.get()); ++i)
        if (auto l = layout_of(PQgetvalue(n.get(), i, 0)))
          if (std::find(t.layouts.begin(), t.layouts.end(), *l) == t.layouts.end())
            t.layouts.push_back(std::move(*l));
      if (t.layouts.empty()) t.layouts.emplace_back();
    }
  }

  // `table`.`column` (a query's: stampede_q.`column`): in ORDER BY an
  // unqualified name would be the output column of that name (the stamp as
  // text; the key, when it is the recno).
  static std::string column_of(const table_spec& t, const std::string& column) {
    require_identifier(column, "column");
    return quote(t.query.empty() ? t.table : query_alias) + "." + quote(column);
  }

  // The stamp as the page reads it: a text column as written; timestamp and
  // timestamptz values (UTC) as "YYYY-MM-DD HH:MM:SS.ffffff", which they
  // read back exactly as a bound parameter (the session is in UTC).
  std::string stamp_text(const table_shape& t, const table_spec& table) const {
    const std::string s = column_of(table, table.stamp_column);
    switch (t.type) {
      case stamp_type::timestamp: return "to_char(" + s + ", 'YYYY-MM-DD HH24:MI:SS.US')";
      case stamp_type::timestamptz:
        return "to_char(" + s + " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')";
      case stamp_type::text: break;
    }
    return s + "::text";
  }

  // The stamp (as text), recno, deleted (NULL without a deleted column), the
  // key column(s) as the server writes them (a char(n) with its padding:
  // trim_key decides), then the mapped columns as text.
  std::string select_list(const page_query& q) {
    const table_shape& t = shape_of(q);
    std::string sql = "SELECT " + stamp_text(t, q) + ", " + column_of(q, q.recno_column) + ", " +
                      (q.deleted_column.empty() ? std::string("NULL::text")
                                                : column_of(q, q.deleted_column) + "::text");
    for (const auto& k : q.keys()) sql += ", " + column_of(q, k);
    for (const auto& c : q.columns) {
      require_identifier(c, "column");
      // A timestamptz reads as its UTC time without a zone ("2024-01-01
      // 10:00:00"), like a timestamp: what `type = "datetime"` expects.
      if (std::find(t.zoned.begin(), t.zoned.end(), c) != t.zoned.end())
        sql += ", (" + quote(c) + " AT TIME ZONE 'UTC')::text";
      else
        sql += ", " + quote(c) + "::text";
    }
    return sql + " FROM " + from_of(q);
  }

  void reset_page(const page_query& q, row_page& out) {
    auto& cols = columns_[q.table + '\x1f' + q.query];
    if (!cols || *cols != q.columns) cols = std::make_shared<const std::vector<std::string>>(q.columns);
    out.columns = cols;
    out.arena.clear();
    out.cells.clear();
    out.rows.clear();
  }

  // One page in one snapshot; leaves `out` unchanged in meaning on a lost
  // connection (with_retry reads it again from the start).
  void read_page_once(const page_query& q, row_page& out) {
    const table_shape& t = shape_of(q);
    const std::string c = cast(t), s = column_of(q, q.stamp_column),
                      r = column_of(q, q.recno_column);
    const std::string base = select_list(q);
    begin_snapshot();
    reset_page(q, out);
    out.last = false;
    std::vector<std::string> p3;
    if (q.upper) p3.push_back(upper_text(t, *q.upper));
    std::size_t n = 0;
    hit_upper_ = false;
    if (!q.after.stamp.empty() && q.after.recno != null_recno) {
      // The rest of the tie group: greater recnos (an index range: a large
      // group is not rescanned from its start for every page), then, when
      // the page has room, every NULL one (NULLS LAST; never split).
      std::vector<std::string> ps{q.after.stamp, std::to_string(q.after.recno)};
      std::string sql = base + " WHERE " + s + " = $1" + c + " AND " + r + " > $2::bigint";
      if (q.upper) {
        ps.push_back(p3[0]);
        sql += " AND " + s + " <= $3" + c;
      }
      add_filter(q, sql, ps);
      ps.push_back(std::to_string(q.limit));
      sql += " ORDER BY " + r + " LIMIT $" + std::to_string(ps.size());
      auto res = exec(sql, ps);
      if (!res) return;
      n = append_rows(res.get(), q, out, q.limit, q.upper);
      if (n < q.limit && !hit_upper_) {
        std::vector<std::string> pn{q.after.stamp};
        std::string nulls = base + " WHERE " + s + " = $1" + c + " AND " + r + " IS NULL";
        if (q.upper) {
          pn.push_back(p3[0]);
          nulls += " AND " + s + " <= $2" + c;
        }
        add_filter(q, nulls, pn);
        auto rn = exec(nulls, pn);
        if (!rn) return;
        n = append_rows(rn.get(), q, out, std::numeric_limits<std::size_t>::max(), q.upper);
      }
    }
    if (n < q.limit && !hit_upper_) {
      std::vector<std::string> ps;
      std::string sql = base;
      if (q.after.stamp.empty()) {
        sql += " WHERE true";
      } else {
        ps.push_back(q.after.stamp);
        sql += " WHERE " + s + " > $1" + c;
      }
      if (q.upper) {
        ps.push_back(p3[0]);
        sql += " AND " + s + " <= $" + std::to_string(ps.size()) + c;
      }
      add_filter(q, sql, ps);
      ps.push_back(std::to_string(q.limit - n));
      sql += " ORDER BY " + s + ", " + r + " LIMIT $" + std::to_string(ps.size());
      auto res = exec(sql, ps);
      if (!res) return;
      n = append_rows(res.get(), q, out, q.limit - n, q.upper);
    }
    const bool full = n >= q.limit && !hit_upper_;
    if (full && out.rows.back().recno == null_recno) {
      // A position cannot split the NULL-recno rows of one stamp: read them all.
      const std::string st = out.rows.back().stamp;
      std::size_t keep = out.rows.size();
      while (keep > 0 && out.rows[keep - 1].recno == null_recno && out.rows[keep - 1].stamp == st)
        --keep;
      out.rows.resize(keep);
      out.cells.resize(keep * q.columns.size());
      std::vector<std::string> pn{st};
      std::string nulls = base + " WHERE " + s + " = $1" + c + " AND " + r + " IS NULL";
      add_filter(q, nulls, pn);
      auto res = exec(nulls, pn);
      if (!res) return;
      append_rows(res.get(), q, out, std::numeric_limits<std::size_t>::max());
    }
    exec_simple("COMMIT");
    vet(q, out);
    set_page_positions(out, q.after);
    // After a NULL-recno row, the position means "done with that stamp".
    out.last = !full;
  }

  // Appends up to `limit` rows of `res`; with `upper`, stops before the first
  // row past it in time (text columns compare as text in SQL) and sets hit_upper_.
  std::size_t append_rows(PGresult* res, const page_query& q, row_page& out, std::size_t limit,
                          const std::optional<stamp>& upper = std::nullopt) {
    const int rows = PQntuples(res);
    const std::size_t ncols = q.columns.size();
    const std::size_t nk = q.key_columns.empty() ? 1 : q.key_columns.size();
    std::size_t added = 0;
    for (int i = 0; i < rows && added < limit; ++i) {
      row_page::row_meta m;
      m.stamp.assign(PQgetvalue(res, i, 0), std::size_t(PQgetlength(res, i, 0)));
      if (upper) {
        auto v = parse_stamp(m.stamp);
        if (v && *v > *upper) {
          hit_upper_ = true;
          break;
        }
      }
      m.recno = PQgetisnull(res, i, 1) ? null_recno : std::stoll(PQgetvalue(res, i, 1));
      m.deleted = !PQgetisnull(res, i, 2) &&
                  is_deleted_value(std::string_view(PQgetvalue(res, i, 2),
                                                    std::size_t(PQgetlength(res, i, 2))),
                                   q.deleted_value);
      m.key_null = false;
      for (std::size_t k = 0; k < nk; ++k) {
        if (PQgetisnull(res, i, int(3 + k))) {
          m.key_null = true;
          continue;
        }
        std::string_view part(PQgetvalue(res, i, int(3 + k)),
                              std::size_t(PQgetlength(res, i, int(3 + k))));
        if (q.trim_key)
          while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (nk == 1)
          m.key.assign(part);
        else
          append_key_part(m.key, part, k);
      }
      if (m.key_null) m.key.clear();
      out.rows.push_back(std::move(m));
      for (std::size_t c = 0; c < ncols; ++c) {
        row_page::cell cell;
        const int col = int(c + 3 + nk);
        if (PQgetisnull(res, i, col)) {
          cell.null = true;
        } else {
          cell.null = false;
          cell.off = std::uint32_t(out.arena.size());
          out.arena.append(PQgetvalue(res, i, col), std::size_t(PQgetlength(res, i, col)));
          cell.len = std::uint32_t(out.arena.size() - cell.off);
        }
        out.cells.push_back(cell);
      }
      ++added;
    }
    return out.rows.size();
  }

  void vet(const page_query& q, row_page& out) {
    vet_rows(out, q.key_name(), q.stamp_column, q.recno_column);
  }

  // ------------------------------------------------------------- connection

  void connect() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    conn_ = pg_connect(cfg_.dsn, app_name, where_, secrets_);
    exec_simple("SET default_transaction_read_only = on; SET statement_timeout = '10min'");
  }

  bool lost() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }

  // Runs `op`; when the connection was lost, reconnects with backoff (0.2 s
  // doubling, 5 tries) and runs it again from the start.
  template <class F>
  void with_retry(const std::string& doing, F&& op) {
    auto delay = std::chrono::milliseconds(200);
    for (int attempt = 0;; ++attempt) {
      if (!lost()) {
        op();
        if (!lost()) return;
      }
      if (attempt >= 5)
        throw source_error(source_errc::query_failed,
                           doing + ": the connection to PostgreSQL (" + where_ +
                               ") was lost and could not be reopened" +
                               (last_error_.empty() ? "" : ": " + last_error_));
      std::this_thread::sleep_for(delay);
      delay *= 2;
      try {
        connect();
        last_error_.clear();
      } catch (const source_error& e) {
        last_error_ = e.what();  // retried
      }
    }
  }

  void begin_snapshot() { exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }

  // nullptr when the connection was lost (the caller returns; with_retry
  // reconnects); throws on any other error.
  result_ptr exec(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    result_ptr r(PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                              nullptr, nullptr, 0));
    const auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
    if (lost()) return nullptr;
    std::string msg = pg_error(conn_, r.get());
    const char* code = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    source_errc c = source_errc::query_failed;
    if (code && std::string_view(code) == "42P01") c = source_errc::no_such_table;
    if (code && std::string_view(code) == "42703") c = source_errc::no_such_column;
    r.reset();
    PQclear(PQexec(conn_, "ROLLBACK"));
    throw source_error(c, redact(msg + " (in " + where_ + ")", secrets_));
  }

  void exec_simple(const std::string& sql) {
    result_ptr r(PQexec(conn_, sql.c_str()));
    const auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || lost()) return;
    std::string msg = trimmed(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    throw source_error(source_errc::query_failed, redact(msg + " (in " + where_ + ")", secrets_));
  }

  // One statement outside a page, with retries.
  result_ptr query(const std::string& sql, const std::vector<std::string>& params,
                   const std::string& doing) {
    result_ptr out;
    with_retry(doing, [&] { out = exec(sql, params); });
    return out;
  }

  source_config cfg_;
  std::string where_;
  std::vector<std::string> secrets_;  // never in a message (dsn_secrets)
  std::string last_error_;            // the last failed reconnect
  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, table_shape> shapes_;
  std::unordered_map<std::string, std::shared_ptr<const std::vector<std::string>>> columns_;
  bool hit_upper_ = false;
};

} // namespace

std::string describe_dsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (!opts) {
    if (err) PQfreemem(err);
    return "PostgreSQL (unreadable dsn)";
  }
  std::string out;
  for (std::string_view k : {"host", "hostaddr", "port", "dbname", "user"})
    for (PQconninfoOption* o = opts; o->keyword; ++o)
      if (k == o->keyword && o->val && *o->val)
        out += (out.empty() ? "" : " ") + std::string(k) + "=" + o->val;
  PQconninfoFree(opts);
  return "PostgreSQL " + (out.empty() ? std::string("(default connection)") : out);
}

source_kind_entry postgres_source_kind() {
  source_kind_entry e;
  e.kind = source_kind::postgres;
  e.name = "postgres";
  e.open = [](const source_config& cfg) -> std::unique_ptr<source> {
    return std::make_unique<postgres_source>(cfg);
  };
  e.check_config = [](const config& cfg) {
    std::vector<config_diagnostic> out;
    const source_config& sc = cfg.source;
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(sc.dsn.c_str(), &err);
    if (!opts) {
      std::string msg = redact(trimmed(err ? err : "unreadable"), dsn_secrets(sc.dsn));
      if (err) PQfreemem(err);
      out.push_back({cfg.file, sc.line, sc.col, "source.dsn",
                     "the PostgreSQL connection string cannot be read: " + msg,
                     "write key=value pairs (host=db port=5432 dbname=erp user=stampede) or a "
                     "postgresql:// URI; take the password from the environment"});
    } else {
      PQconninfoFree(opts);
    }
    return out;
  };
  e.describe = [](const source_config& cfg) { return describe_dsn(cfg.dsn); };
  e.index_advice = [](const table_spec& t) {
    return "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + quote(t.table + "_stamp") + " ON " +
           quote(t.table) + " (" + quote(t.stamp_column) + ", " + quote(t.recno_column) + ");";
  };
  e.location_key = "source.dsn";
  e.exact_names = true;
  e.open_hint = "check host, port, database, user and the password variable of source.dsn";
  return e;
}

} // namespace stampede
