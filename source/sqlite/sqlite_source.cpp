// The SQLite source (see sqlite_source.hpp). Read-only, NOMUTEX connection;
// two prepared statements per page shape, reused with sqlite3_reset.
#include "source/sqlite/sqlite_source.hpp"

#include "pipeline/writeback.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <unordered_map>

namespace stampede {

namespace {

// Sorts after any "YYYY-MM-DD ..." stamp: stands for "no upper bound".
constexpr std::string_view no_upper = "\x7f";

std::string quote(const std::string& id) { return quote_identifier(id); }

// The first number of the where's parameters (?100, ?101, ...): above every
// number the statements use themselves.
constexpr int where_base = 100;
// The padding a trimmed key may have in the column (read_by_keys' range).
const std::string key_padding(255, ' ');

// The FROM clause of a spec: the table, or the query as a subquery.
std::string from_of(const table_spec& t) {
  if (!t.query.empty()) return "(" + t.query + ") AS \"stampede_q\"";
  require_identifier(t.table, "table");
  return quote(t.table);
}

// " AND (where)" with its :names numbered from where_base; "" without a where.
std::string filter_of(const table_spec& t) {
  if (t.where.empty()) return "";
  std::vector<std::string> names;
  return " AND (" + number_named_parameters(t.where, names, '?', where_base) + ")";
}

// Binds the where's parameters of `st` (bindings survive sqlite3_reset).
void bind_where(sqlite3_stmt* st, const table_spec& t) {
  if (t.where.empty()) return;
  std::vector<std::string> names;
  number_named_parameters(t.where, names, '?', where_base);
  for (std::size_t i = 0; i < names.size(); ++i)
    for (const auto& [name, value] : t.params)
      if (name == names[i])
        sqlite3_bind_text(st, where_base + int(i), value.data(), int(value.size()),
                          SQLITE_TRANSIENT);
}

// Identifies what a spec reads (the caches of layouts and counts).
std::string spec_key(const table_spec& t) {
  std::string k = t.table + '\x1f' + t.query + '\x1f' + t.where + '\x1f' + t.stamp_column;
  for (const auto& [name, value] : t.params) k += '\x1f' + name + '=' + value;
  return k;
}

// The page SELECT's list and FROM: stamp, recno, deleted (NULL without a
// deleted column), the key column(s), then the mapped columns.
std::string select_head(const page_query& q) {
  require_identifier(q.stamp_column, "stamp_column");
  require_identifier(q.recno_column, "recno_column");
  if (!q.deleted_column.empty()) require_identifier(q.deleted_column, "deleted_column");
  std::string select = "SELECT " + quote(q.stamp_column) + ", " + quote(q.recno_column) + ", " +
                       (q.deleted_column.empty() ? std::string("NULL") : quote(q.deleted_column));
  for (const auto& k : q.keys()) {
    require_identifier(k, "key column");
    select += ", " + quote(k);
  }
  for (const auto& c : q.columns) {
    require_identifier(c, "column");
    select += ", " + quote(c);
  }
  return select + " FROM " + from_of(q);
}

struct stmt_deleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_deleter>;

/// Why a WAL-mode database cannot be read at `path`, or nullopt: SQLite reads
/// a WAL database only where it can create or write PATH-shm beside it, so a
/// read-only mount (or directory) fails with a bare "unable to open database
/// file". Header bytes 18-19 are 2 in WAL mode.
std::optional<std::string> wal_read_only(const std::string& path) {
  unsigned char h[20] = {};
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    const auto n = std::fread(h, 1, sizeof h, f);
    std::fclose(f);
    if (n != sizeof h) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (h[18] != 2 || h[19] != 2) return std::nullopt;
  const auto dir = std::filesystem::path(path).parent_path().empty()
                       ? std::filesystem::path(".")
                       : std::filesystem::path(path).parent_path();
  const std::string shm = path + "-shm";
  const bool shm_ok = ::access(shm.c_str(), F_OK) == 0 ? ::access(shm.c_str(), R_OK | W_OK) == 0
                                                      : ::access(dir.c_str(), W_OK) == 0;
  if (shm_ok) return std::nullopt;
  const int err = errno;
  return "SQLite database \"" + path + "\" is in WAL mode (journal_mode=wal) and " +
         (err == EROFS ? "is on a read-only file system" : "its directory is not writable") +
         ": SQLite can read a WAL database only where it can create or write \"" + shm +
         "\" beside it";
}

class sqlite_source final : public source {
public:
  explicit sqlite_source(const source_config& cfg) : cfg_(cfg) {
    std::error_code ec;
    if (cfg.path.empty())
      throw source_error(source_errc::open_failed, "source.path is empty; name the SQLite file");
    if (!std::filesystem::exists(cfg.path, ec))
      throw source_error(source_errc::open_failed,
                         "SQLite database \"" + cfg.path + "\" does not exist");
    int rc = sqlite3_open_v2(cfg.path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw source_error(source_errc::open_failed,
                         "cannot open SQLite database \"" + cfg.path + "\": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
    // A misspelled "COLUMN" must be an error, not the string literal 'COLUMN'.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
    // Fails with "file is not a database" here rather than on the first page.
    try {
      exec("PRAGMA query_only = 1; PRAGMA mmap_size = 0; PRAGMA cache_size = -8192; "
           "PRAGMA temp_store = MEMORY; SELECT count(*) FROM sqlite_master;",
           source_errc::open_failed);
      begin_ = prepare("BEGIN");
      commit_ = prepare("COMMIT");
    } catch (const source_error& e) {
      begin_.reset();
      commit_.reset();
      sqlite3_close(db_);
      if (auto why = wal_read_only(cfg.path))
        throw source_error(source_errc::open_failed, *why,
                           "mount that directory read-write for stampede, or switch the file to "
                           "a rollback journal once where it is writable: sqlite3 '" +
                               cfg.path + "' 'PRAGMA journal_mode=DELETE'");
      throw;
    } catch (...) {
      begin_.reset();
      commit_.reset();
      sqlite3_close(db_);
      throw;
    }
  }

  ~sqlite_source() override {
    pages_.clear();
    counts_.clear();
    now_.reset();
    describe_cols_.reset();
    describe_index_.reset();
    begin_.reset();
    commit_.reset();
    sqlite3_close(db_);
  }

  stamp now() override {
    if (!now_) now_ = prepare("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')");
    sqlite3_stmt* st = now_.get();
    sqlite3_reset(st);
    if (sqlite3_step(st) != SQLITE_ROW) fail(source_errc::query_failed, "reading the clock");
    std::string out(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                    static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    sqlite3_reset(st);
    auto v = parse_stamp(out);
    if (!v) throw source_error(source_errc::query_failed, "the SQLite clock said \"" + out + "\"");
    return *v;
  }

  keyset_pos start_at(const table_spec& table, stamp from) override {
    // The smallest text any layout of the column writes for `from`.
    std::string lo;
    for (const auto& l : layouts_for(table)) {
      std::string t = format_stamp(from, l);
      if (lo.empty() || t < lo) lo = std::move(t);
    }
    return keyset_pos{std::move(lo), null_recno};
  }

  stamp_sample sample_stamps(const table_spec& t, std::size_t n) override {
    require_identifier(t.stamp_column, "stamp_column");
    const std::string from = from_of(t) + " WHERE true" + filter_of(t);
    const std::string& table = t.query.empty() ? t.table : t.query;
    std::vector<std::optional<std::string>> texts;
    // A table of at most 2n rows is read once, whole; a larger one at both ends.
    stmt_ptr cnt = prepare("SELECT count(*) FROM " + from);
    bind_where(cnt.get(), t);
    if (sqlite3_step(cnt.get()) != SQLITE_ROW)
      fail(source_errc::query_failed, "counting the rows of " + table);
    const bool whole = std::uint64_t(sqlite3_column_int64(cnt.get(), 0)) <= 2 * n;
    for (const char* dir : {"ASC", "DESC"}) {
      if (whole && dir[0] == 'D') break;
      stmt_ptr st = prepare("SELECT " + quote(t.stamp_column) + " FROM " + from + " ORDER BY " +
                            quote(t.stamp_column) + " " + dir + " LIMIT " +
                            std::to_string(whole ? 2 * n : n));
      bind_where(st.get(), t);
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        if (sqlite3_column_type(st.get(), 0) == SQLITE_NULL) {
          texts.emplace_back(std::nullopt);
          continue;
        }
        std::string t;
        render(st.get(), 0, t);
        texts.emplace_back(std::move(t));
      }
      if (rc != SQLITE_DONE) fail(source_errc::query_failed, "sampling the stamps of " + table);
    }
    return summarize_stamps(texts);
  }

  std::optional<table_info> describe(const table_spec& spec) override {
    if (!spec.query.empty()) {  // the columns of the query's result
      stmt_ptr st = prepare("SELECT * FROM " + from_of(spec) + " WHERE true" + filter_of(spec));
      table_info info;
      for (int i = 0; i < sqlite3_column_count(st.get()); ++i)
        info.columns.emplace_back(sqlite3_column_name(st.get(), i));
      info.has_stamp_index = true;  // not known for a query
      return info;
    }
    const std::string& table = spec.table;
    if (!describe_cols_) describe_cols_ = prepare("SELECT name FROM pragma_table_info(?1)");
    if (!describe_index_)
      describe_index_ = prepare(
          "SELECT 1 FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii "
          "WHERE ii.seqno = 0 AND ii.name = ?2 COLLATE NOCASE LIMIT 1");
    table_info info;
    sqlite3_stmt* st = describe_cols_.get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, table.data(), int(table.size()), SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      info.columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) fail(source_errc::query_failed, "describing table " + table);
    if (info.columns.empty()) return std::nullopt;

    st = describe_index_.get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, table.data(), int(table.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, spec.stamp_column.data(), int(spec.stamp_column.size()),
                      SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    info.has_stamp_index = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      fail(source_errc::query_failed, "listing the indexes of " + table);
    if (!spec.where.empty())  // the where prepares against the table (check)
      prepare("SELECT 1 FROM " + from_of(spec) + " WHERE true" + filter_of(spec));
    return info;
  }

  void read_page(const page_query& q, row_page& out) override {
    shape& sh = shape_for(q);
    const std::size_t ncols = q.columns.size();
    out.columns = sh.columns;
    out.arena.clear();
    out.cells.clear();
    out.arena.reserve(sh.arena_hint);
    out.cells.reserve(sh.rows_hint * ncols);
    if (out.rows.capacity() < sh.rows_hint) out.rows.reserve(sh.rows_hint);
    out.last = false;
    const std::string upper = upper_text(q, q.upper);
    hit_upper_ = false;

    // Both statements read one snapshot: the rest of the tie group at
    // after.stamp, then the rows with a greater stamp.
    step_simple(begin_.get(), "starting a read transaction");
    std::size_t n = 0;
    bool full = false;
    try {
      if (!q.after.stamp.empty()) n = fill(sh.ties.get(), q, upper, q.limit, out, 0);
      if (n < q.limit && !hit_upper_)
        n = fill(sh.rest.get(), q, upper, q.limit - std::uint32_t(n), out, n);
      full = n >= q.limit && !hit_upper_;
      // A position cannot split the NULL-recno rows of one stamp: read the
      // whole group when the page ends inside it.
      if (full && out.rows[n - 1].recno == null_recno) n = finish_null_group(sh, q, out, n);
    } catch (...) {
      out.rows.resize(0);
      out.cells.clear();
      out.arena.clear();
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    step_simple(commit_.get(), "ending a read transaction");
    out.rows.resize(n);
    vet(q, out);
    set_page_positions(out, q.after);
    out.last = !full;
    sh.rows_hint = std::max(sh.rows_hint, n);
    sh.arena_hint = std::max(sh.arena_hint, out.arena.size());
  }

  std::vector<std::string> read_by_keys(const page_query& q, const std::vector<std::string>& keys,
                                        row_page& out) override {
    shape& sh = shape_for(q);
    const auto key_columns = q.keys();
    const std::size_t nk = key_columns.size();
    if (!sh.by_key) {
      // Key i is ?(2i+1); with trim_key ?(2i+2) is it followed by spaces: a
      // value padded with trailing spaces is found through the index (a
      // range) and the rtrim picks the exact match.
      std::string sql = select_head(q) + " WHERE true";
      for (std::size_t i = 0; i < nk; ++i) {
        const std::string k = quote(key_columns[i]), a = "?" + std::to_string(2 * i + 1),
                          b = "?" + std::to_string(2 * i + 2);
        sql += q.trim_key ? " AND " + k + " >= " + a + " AND " + k + " <= " + b + " AND rtrim(" +
                                k + ", ' ') = " + a
                          : " AND " + k + " = " + a;
      }
      sh.by_key = prepare(sql + filter_of(q) + " LIMIT 1");
      bind_where(sh.by_key.get(), q);
    }
    out.columns = sh.columns;
    out.arena.clear();
    out.cells.clear();
    out.rows.clear();
    out.end = keyset_pos{};
    out.last = true;
    std::vector<std::string> missing;
    step_simple(begin_.get(), "starting a read transaction");
    try {
      std::size_t n = 0;
      std::vector<std::string> parts{std::string()}, padded(nk);
      for (const auto& k : keys) {
        if (nk > 1) {
          auto split = is_label_key(k) ? std::nullopt : split_composite_key(k, nk);
          if (!split) {  // not a key of this service (e.g. a label key): no row has it
            missing.push_back(k);
            continue;
          }
          parts = std::move(*split);
        } else {
          parts[0] = k;
        }
        sqlite3_stmt* st = sh.by_key.get();
        sqlite3_reset(st);
        for (std::size_t i = 0; i < nk; ++i) {
          sqlite3_bind_text(st, int(2 * i + 1), parts[i].data(), int(parts[i].size()),
                            SQLITE_STATIC);
          if (q.trim_key) {
            padded[i] = parts[i] + key_padding;
            sqlite3_bind_text(st, int(2 * i + 2), padded[i].data(), int(padded[i].size()),
                              SQLITE_STATIC);
          }
        }
        const std::size_t before = n;
        n = fill_rows(st, q, out, n, 1);
        if (n == before) missing.push_back(k);
      }
      out.rows.resize(n);
      vet(q, out);
    } catch (...) {
      out.rows.clear();
      out.cells.clear();
      out.arena.clear();
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    step_simple(commit_.get(), "ending a read transaction");
    return missing;
  }

  std::uint64_t count_rows(const table_spec& table, std::optional<stamp> upper_bound) override {
    const std::string key = spec_key(table);
    auto it = counts_.find(key);
    if (it == counts_.end()) {
      require_identifier(table.stamp_column, "stamp_column");
      it = counts_
               .emplace(key, prepare("SELECT count(*) FROM " + from_of(table) + " WHERE " +
                                     quote(table.stamp_column) + " <= ?1" + filter_of(table)))
               .first;
      bind_where(it->second.get(), table);
    }
    sqlite3_stmt* st = it->second.get();
    sqlite3_reset(st);
    const std::string u = upper_text(table, upper_bound);
    sqlite3_bind_text(st, 1, u.data(), int(u.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(st);
      throw source_error(source_errc::query_failed,
                         "counting rows of " + table.what() + ": " + msg);
    }
    auto n = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    return n;
  }

  backlog_count backlog(const table_spec& t, const keyset_pos& after,
                        std::uint64_t cap) override {
    require_identifier(t.stamp_column, "stamp_column");
    require_identifier(t.recno_column, "recno_column");
    const std::string s = quote(t.stamp_column), r = quote(t.recno_column), from = from_of(t),
                      f = filter_of(t), lim = std::to_string(std::max<std::uint64_t>(cap, 1) + 1);
    // The rest of the checkpoint's tie group (greater recnos; NULL recnos
    // sort first here, so they are behind the position), then greater
    // stamps: the same two ranges read_page seeks, each counted through the
    // (stamp, recno) index and stopped after cap + 1 rows.
    auto count = [&](const std::string& where, bool ties) {
      stmt_ptr st = prepare("SELECT count(*) FROM (SELECT 1 FROM " + from + " WHERE " + where + f +
                            " LIMIT " + lim + ")");
      bind_where(st.get(), t);
      sqlite3_bind_text(st.get(), 1, after.stamp.data(), int(after.stamp.size()), SQLITE_STATIC);
      if (ties) sqlite3_bind_int64(st.get(), 2, after.recno);
      if (sqlite3_step(st.get()) != SQLITE_ROW)
        fail(source_errc::query_failed, "counting the backlog of " + t.what());
      return static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0));
    };
    backlog_count out;
    step_simple(begin_.get(), "starting a read transaction");
    try {
      const std::uint64_t ties = after.stamp.empty() ? 0 : count(s + " = ?1 AND " + r + " > ?2", true);
      const std::uint64_t n = ties + count(s + " > ?1", false);
      if (ties > 0) {
        out.oldest = parse_stamp(after.stamp);
      } else if (n > 0) {
        stmt_ptr st = prepare("SELECT " + s + " FROM " + from + " WHERE " + s + " > ?1" + f +
                              " ORDER BY " + s + " LIMIT 1");
        bind_where(st.get(), t);
        sqlite3_bind_text(st.get(), 1, after.stamp.data(), int(after.stamp.size()), SQLITE_STATIC);
        if (sqlite3_step(st.get()) == SQLITE_ROW) {
          std::string text;
          render(st.get(), 0, text);
          out.oldest = parse_stamp(text);
        }
      }
      out.capped = n > cap;
      out.rows = std::min(n, cap);
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    step_simple(commit_.get(), "ending a read transaction");
    return out;
  }

private:
  struct shape {
    stmt_ptr ties, rest, by_key, nulls;
    std::shared_ptr<const std::vector<std::string>> columns;
    std::size_t rows_hint = 0;
    std::size_t arena_hint = 0;
  };

  [[noreturn]] void fail(source_errc c, const std::string& doing) {
    throw source_error(c, doing + " in \"" + cfg_.path + "\": " + sqlite3_errmsg(db_));
  }

  void exec(const char* sql, source_errc c) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw source_error(c, "cannot use SQLite database \"" + cfg_.path + "\": " + msg);
    }
  }

  stmt_ptr prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                           nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db_);
      source_errc c = source_errc::query_failed;
      if (msg.rfind("no such table", 0) == 0) c = source_errc::no_such_table;
      if (msg.rfind("no such column", 0) == 0) c = source_errc::no_such_column;
      throw source_error(c, msg + " (in \"" + cfg_.path + "\")");
    }
    return stmt_ptr(st);
  }

  // Appends up to `limit` rows of `st` to `out` from row index `n`; returns the new count.
  std::size_t fill(sqlite3_stmt* st, const page_query& q, const std::string& upper,
                   std::uint32_t limit, row_page& out, std::size_t n) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, q.after.stamp.data(), int(q.after.stamp.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, q.after.recno);
    sqlite3_bind_text(st, 3, upper.data(), int(upper.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit);
    return fill_rows(st, q, out, n, limit, q.upper);
  }

  // The page's first n rows end with NULL-recno rows at one stamp: replaces
  // them with every NULL-recno row at that stamp (the page may grow past its
  // limit); returns the new count.
  std::size_t finish_null_group(shape& sh, const page_query& q, row_page& out, std::size_t n) {
    const std::string s = out.rows[n - 1].stamp;
    const std::size_t ncols = q.columns.size();
    std::size_t keep = n;
    while (keep > 0 && out.rows[keep - 1].recno == null_recno && out.rows[keep - 1].stamp == s)
      --keep;
    out.cells.resize(keep * ncols);  // their arena bytes stay, unreferenced
    if (!sh.nulls) {
      sh.nulls = prepare(select_head(q) + " WHERE " + quote(q.stamp_column) + " = ?1 AND " +
                         quote(q.recno_column) + " IS NULL" + filter_of(q));
      bind_where(sh.nulls.get(), q);
    }
    sqlite3_stmt* st = sh.nulls.get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, s.data(), int(s.size()), SQLITE_TRANSIENT);
    return fill_rows(st, q, out, keep, std::numeric_limits<std::size_t>::max() - keep);
  }

  void vet(const page_query& q, row_page& out) {
    vet_rows(out, q.key_name(), q.stamp_column, q.recno_column);
  }

  // The layouts of `table`'s newest stamps (canonical .fff when none is
  // readable): a bound is written in each, and the smallest (a start) or the
  // largest (an upper bound) text is used, so text comparison never leaves
  // out a row of a layout the column uses near the checkpoint.
  const std::vector<stamp_layout>& layouts_for(const table_spec& spec) {
    const std::string key = spec_key(spec);
    auto it = layouts_.find(key);
    if (it != layouts_.end()) return it->second;
    const std::string& table = spec.query.empty() ? spec.table : spec.query;
    require_identifier(spec.stamp_column, "stamp_column");
    std::vector<stamp_layout> ls;
    const std::string s = quote(spec.stamp_column);
    stmt_ptr st = prepare("SELECT " + s + " FROM " + from_of(spec) + " WHERE " + s +
                          " IS NOT NULL" + filter_of(spec) + " ORDER BY " + s + " DESC LIMIT 64");
    bind_where(st.get(), spec);
    int rc;
    std::string t;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      render(st.get(), 0, t);
      if (auto found = layout_of(t))
        if (std::find(ls.begin(), ls.end(), *found) == ls.end()) ls.push_back(std::move(*found));
    }
    if (rc != SQLITE_DONE)
      fail(source_errc::query_failed, "reading the newest stamps of " + table);
    if (ls.empty()) ls.emplace_back();  // "YYYY-MM-DD HH:MM:SS.fff"
    return layouts_.emplace(key, std::move(ls)).first->second;
  }

  // The SQL upper bound: the largest text any layout writes for `upper`
  // (rows past `upper` in time are then dropped by fill_rows); no bound: "\x7f".
  std::string upper_text(const table_spec& table, const std::optional<stamp>& upper) {
    if (!upper) return std::string(no_upper);
    std::string hi;
    for (const auto& l : layouts_for(table)) {
      std::string t = format_stamp(*upper, l);
      if (t > hi) hi = std::move(t);
    }
    return hi;
  }

  // Steps a bound statement, appending at most `limit` rows to `out` from
  // row index `n`; returns the new count.
  // With `upper`, stops before the first row whose stamp is past it in time
  // (the SQL bound is text) and sets hit_upper_.
  std::size_t fill_rows(sqlite3_stmt* st, const page_query& q, row_page& out, std::size_t n,
                        std::size_t limit, const std::optional<stamp>& upper = std::nullopt) {
    const std::size_t ncols = q.columns.size();
    const std::size_t first_cell = 3 + (q.key_columns.empty() ? 1 : q.key_columns.size());
    const std::size_t stop = n + limit;
    int rc = SQLITE_DONE;
    while (n < stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (n == out.rows.size()) out.rows.emplace_back();
      row_page::row_meta& r = out.rows[n++];
      render(st, 0, r.stamp);
      if (upper) {
        auto v = parse_stamp(r.stamp);
        if (v && *v > *upper) {
          --n;
          hit_upper_ = true;
          break;
        }
      }
      r.recno = sqlite3_column_type(st, 1) == SQLITE_NULL ? null_recno : sqlite3_column_int64(st, 1);
      const unsigned char* del = sqlite3_column_text(st, 2);
      r.deleted = del != nullptr &&
                  is_deleted_value(std::string_view(reinterpret_cast<const char*>(del),
                                                    std::size_t(sqlite3_column_bytes(st, 2))),
                                   q.deleted_value);
      read_key(st, q, r);
      r.prior.reset();
      for (std::size_t c = 0; c < ncols; ++c) append_cell(st, int(c + first_cell), out);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {  // ROW: stopped at the limit
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(st);
      throw source_error(source_errc::query_failed,
                         "reading rows of " + q.table + " from \"" + cfg_.path + "\": " + msg);
    }
    sqlite3_reset(st);
    return n;
  }

  // The row's key from columns 3..: one column as text, or the composite
  // key of several (append_key_part); trailing spaces dropped with trim_key.
  // Reuses r.key's and part_'s buffers: no allocation once they are grown.
  void read_key(sqlite3_stmt* st, const page_query& q, row_page::row_meta& r) {
    auto trim = [&](std::string& s) {
      if (!q.trim_key) return;
      std::size_t e = s.size();
      while (e > 0 && s[e - 1] == ' ') --e;
      s.resize(e);
    };
    if (q.key_columns.empty()) {
      r.key_null = sqlite3_column_type(st, 3) == SQLITE_NULL;
      render(st, 3, r.key);
      trim(r.key);
      return;
    }
    r.key_null = false;
    r.key.clear();
    for (std::size_t i = 0; i < q.key_columns.size(); ++i) {
      if (sqlite3_column_type(st, int(3 + i)) == SQLITE_NULL) r.key_null = true;
      render(st, int(3 + i), part_);
      trim(part_);
      append_key_part(r.key, part_, i);
    }
    if (r.key_null) r.key.clear();
  }

  void step_simple(sqlite3_stmt* st, const char* doing) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) fail(source_errc::query_failed, doing);
  }

  shape& shape_for(const page_query& q) {
    key_ = spec_key(q);
    key_ += '\x1f';
    key_ += q.recno_column;
    key_ += '\x1f';
    key_ += q.deleted_column;
    key_ += '\x1f';
    key_ += q.trim_key ? '1' : '0';
    for (const auto& k : q.keys()) {
      key_ += '\x1f';
      key_ += k;
    }
    key_ += '\x1e';
    for (const auto& c : q.columns) {
      key_ += '\x1f';
      key_ += c;
    }
    auto it = pages_.find(key_);
    if (it != pages_.end()) return it->second;

    auto sql = sqlite_page_sql(cfg_, q);
    shape sh;
    sh.ties = prepare(sql.ties);
    sh.rest = prepare(sql.rest);
    bind_where(sh.ties.get(), q);
    bind_where(sh.rest.get(), q);
    sh.columns = std::make_shared<const std::vector<std::string>>(q.columns);
    return pages_.emplace(key_, std::move(sh)).first->second;
  }

  // Cell text: INTEGER as decimal, REAL as shortest round-trip, TEXT/BLOB raw.
  static void render(sqlite3_stmt* st, int i, std::string& out) {
    char buf[32];
    switch (sqlite3_column_type(st, i)) {
      case SQLITE_NULL: out.clear(); return;
      case SQLITE_INTEGER: {
        auto res = std::to_chars(buf, buf + sizeof buf, sqlite3_column_int64(st, i));
        out.assign(buf, res.ptr);
        return;
      }
      case SQLITE_FLOAT: {
        auto res = std::to_chars(buf, buf + sizeof buf, sqlite3_column_double(st, i));
        out.assign(buf, res.ptr);
        return;
      }
      case SQLITE_BLOB:
        out.assign(static_cast<const char*>(sqlite3_column_blob(st, i)),
                   static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
        return;
      default:
        out.assign(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                   static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
    }
  }

  static void append_cell(sqlite3_stmt* st, int i, row_page& out) {
    row_page::cell c;
    c.off = static_cast<std::uint32_t>(out.arena.size());
    c.null = false;
    char buf[32];
    switch (sqlite3_column_type(st, i)) {
      case SQLITE_NULL:
        c.null = true;
        c.off = 0;
        break;
      case SQLITE_INTEGER: {
        auto res = std::to_chars(buf, buf + sizeof buf, sqlite3_column_int64(st, i));
        out.arena.append(buf, res.ptr);
        break;
      }
      case SQLITE_FLOAT: {
        auto res = std::to_chars(buf, buf + sizeof buf, sqlite3_column_double(st, i));
        out.arena.append(buf, res.ptr);
        break;
      }
      case SQLITE_BLOB: {
        const void* p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (n > 0) out.arena.append(static_cast<const char*>(p), static_cast<std::size_t>(n));
        break;
      }
      default: {
        const unsigned char* p = sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (n > 0) out.arena.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
        break;
      }
    }
    if (!c.null) c.len = static_cast<std::uint32_t>(out.arena.size() - c.off);
    out.cells.push_back(c);
  }

  source_config cfg_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, shape> pages_;
  std::unordered_map<std::string, stmt_ptr> counts_;
  std::unordered_map<std::string, std::vector<stamp_layout>> layouts_;
  bool hit_upper_ = false;  // fill_rows met a row past q.upper (in time): the walk ends
  stmt_ptr now_, describe_cols_, describe_index_, begin_, commit_;
  std::string key_;
  std::string part_;  // one part of a composite key, reused
};

} // namespace

sqlite_page_sql_pair sqlite_page_sql(const source_config&, const page_query& q) {
  const std::string select = select_head(q) + " WHERE ";
  const std::string s = quote(q.stamp_column), r = quote(q.recno_column);
  const std::string tail =
      " AND " + s + " <= ?3" + filter_of(q) + " ORDER BY " + s + ", " + r + " LIMIT ?4";
  // Two simple range predicates instead of one row-value comparison: SQLite
  // seeks (stamp = ?, recno > ?) and (stamp > ?) on an index on (stamp, recno)
  // even when recno is the INTEGER PRIMARY KEY (rowid), where a row-value
  // comparison would only seek on the stamp and rescan the whole tie group.
  return {select + s + " = ?1 AND " + r + " > ?2" + tail, select + s + " > ?1" + tail};
}

source_kind_entry sqlite_source_kind() {
  source_kind_entry e;
  e.kind = source_kind::sqlite;
  e.name = "sqlite";
  e.open = [](const source_config& cfg) -> std::unique_ptr<source> {
    return std::make_unique<sqlite_source>(cfg);
  };
  e.check_config = [](const config& cfg) {
    std::vector<config_diagnostic> out;
    const source_config& sc = cfg.source;
    std::error_code ec;
    if (!std::filesystem::exists(sc.path, ec))
      out.push_back({cfg.file, sc.line, sc.col, "source.path",
                     "SQLite database \"" + sc.path + "\" does not exist",
                     "create the demo database with `stampede demo` or `stampede-demo-db "
                     "generate --out " +
                         sc.path + "`, or fix source.path"});
    return out;
  };
  e.describe = [](const source_config& cfg) { return "SQLite \"" + cfg.path + "\""; };
  e.index_advice = [](const table_spec& t) {
    return "CREATE INDEX IF NOT EXISTS " + quote(t.table + "_stamp") + " ON " + quote(t.table) +
           "(" + quote(t.stamp_column) + ", " + quote(t.recno_column) + ");";
  };
  e.location_key = "source.path";
  e.open_hint = "check that the file is a readable SQLite database";
  return e;
}

} // namespace stampede
