// The SQLite source (see sqlite_source.hpp). Read-only, NOMUTEX connection;
// two prepared statements per page shape, reused with sqlite3_reset.
#include "source/sqlite/sqlite_source.hpp"

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
    require_identifier(cfg.stamp_column, "source.stamp_column");
    require_identifier(cfg.recno_column, "source.recno_column");
    require_identifier(cfg.deleted_column, "source.deleted_column");
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

  keyset_pos start_at(const std::string& table, stamp from) override {
    // The smallest text any layout of the column writes for `from`.
    std::string lo;
    for (const auto& l : layouts_for(table)) {
      std::string t = format_stamp(from, l);
      if (lo.empty() || t < lo) lo = std::move(t);
    }
    return keyset_pos{std::move(lo), null_recno};
  }

  stamp_sample sample_stamps(const std::string& table, std::size_t n) override {
    require_identifier(table, "table");
    std::vector<std::optional<std::string>> texts;
    // A table of at most 2n rows is read once, whole; a larger one at both ends.
    stmt_ptr cnt = prepare("SELECT count(*) FROM " + quote(table));
    if (sqlite3_step(cnt.get()) != SQLITE_ROW)
      fail(source_errc::query_failed, "counting the rows of " + table);
    const bool whole = std::uint64_t(sqlite3_column_int64(cnt.get(), 0)) <= 2 * n;
    for (const char* dir : {"ASC", "DESC"}) {
      if (whole && dir[0] == 'D') break;
      stmt_ptr st = prepare("SELECT " + quote(cfg_.stamp_column) + " FROM " + quote(table) +
                            " ORDER BY " + quote(cfg_.stamp_column) + " " + dir + " LIMIT " +
                            std::to_string(whole ? 2 * n : n));
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

  std::optional<table_info> describe(const std::string& table) override {
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
    sqlite3_bind_text(st, 2, cfg_.stamp_column.data(), int(cfg_.stamp_column.size()),
                      SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    info.has_stamp_index = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      fail(source_errc::query_failed, "listing the indexes of " + table);
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
    const std::string upper = upper_text(q.table, q.upper);
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
    if (!sh.by_key) {
      auto sql = sqlite_page_sql(cfg_, q).ties;  // validates every identifier
      sql = sql.substr(0, sql.find(" WHERE ")) + " WHERE " + quote(q.key_column) + " = ?1";
      sh.by_key = prepare(sql);
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
      for (const auto& k : keys) {
        sqlite3_stmt* st = sh.by_key.get();
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, k.data(), int(k.size()), SQLITE_STATIC);
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

  std::uint64_t count_rows(const std::string& table, std::optional<stamp> upper_bound) override {
    auto it = counts_.find(table);
    if (it == counts_.end()) {
      require_identifier(table, "table");
      it = counts_
               .emplace(table, prepare("SELECT count(*) FROM " + quote(table) + " WHERE " +
                                       quote(cfg_.stamp_column) + " <= ?1"))
               .first;
    }
    sqlite3_stmt* st = it->second.get();
    sqlite3_reset(st);
    const std::string u = upper_text(table, upper_bound);
    sqlite3_bind_text(st, 1, u.data(), int(u.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(st);
      throw source_error(source_errc::query_failed, "counting rows of " + table + ": " + msg);
    }
    auto n = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    return n;
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
      auto sql = sqlite_page_sql(cfg_, q).ties;
      sql = sql.substr(0, sql.find(" WHERE ")) + " WHERE " + quote(cfg_.stamp_column) +
            " = ?1 AND " + quote(cfg_.recno_column) + " IS NULL";
      sh.nulls = prepare(sql);
    }
    sqlite3_stmt* st = sh.nulls.get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, s.data(), int(s.size()), SQLITE_TRANSIENT);
    return fill_rows(st, q, out, keep, std::numeric_limits<std::size_t>::max() - keep);
  }

  void vet(const page_query& q, row_page& out) {
    vet_rows(out, q.key_column, cfg_.stamp_column, cfg_.recno_column);
  }

  // The layouts of `table`'s newest stamps (canonical .fff when none is
  // readable): a bound is written in each, and the smallest (a start) or the
  // largest (an upper bound) text is used, so text comparison never leaves
  // out a row of a layout the column uses near the checkpoint.
  const std::vector<stamp_layout>& layouts_for(const std::string& table) {
    auto it = layouts_.find(table);
    if (it != layouts_.end()) return it->second;
    require_identifier(table, "table");
    std::vector<stamp_layout> ls;
    stmt_ptr st = prepare("SELECT " + quote(cfg_.stamp_column) + " FROM " + quote(table) +
                          " WHERE " + quote(cfg_.stamp_column) + " IS NOT NULL ORDER BY " +
                          quote(cfg_.stamp_column) + " DESC LIMIT 64");
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
    return layouts_.emplace(table, std::move(ls)).first->second;
  }

  // The SQL upper bound: the largest text any layout writes for `upper`
  // (rows past `upper` in time are then dropped by fill_rows); no bound: "\x7f".
  std::string upper_text(const std::string& table, const std::optional<stamp>& upper) {
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
      r.deleted = del != nullptr && sqlite3_column_bytes(st, 2) > 0 && del[0] == '*';
      r.key_null = sqlite3_column_type(st, 3) == SQLITE_NULL;
      render(st, 3, r.key);
      r.prior.reset();
      for (std::size_t c = 0; c < ncols; ++c) append_cell(st, int(c) + 4, out);
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

  void step_simple(sqlite3_stmt* st, const char* doing) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) fail(source_errc::query_failed, doing);
  }

  shape& shape_for(const page_query& q) {
    key_.clear();
    key_ += q.table;
    key_ += '\x1f';
    key_ += q.key_column;
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
};

} // namespace

sqlite_page_sql_pair sqlite_page_sql(const source_config& cfg, const page_query& q) {
  require_identifier(cfg.stamp_column, "source.stamp_column");
  require_identifier(cfg.recno_column, "source.recno_column");
  require_identifier(cfg.deleted_column, "source.deleted_column");
  require_identifier(q.table, "table");
  require_identifier(q.key_column, "key column");
  for (const auto& c : q.columns) require_identifier(c, "column");
  const std::string s = quote(cfg.stamp_column), r = quote(cfg.recno_column);
  std::string select =
      "SELECT " + s + ", " + r + ", " + quote(cfg.deleted_column) + ", " + quote(q.key_column);
  for (const auto& c : q.columns) select += ", " + quote(c);
  select += " FROM " + quote(q.table) + " WHERE ";
  const std::string tail = " AND " + s + " <= ?3 ORDER BY " + s + ", " + r + " LIMIT ?4";
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
  e.index_advice = [](const source_config& cfg, const std::string& table) {
    return "CREATE INDEX IF NOT EXISTS " + quote(table + "_stamp") + " ON " + quote(table) + "(" +
           quote(cfg.stamp_column) + ", " + quote(cfg.recno_column) + ");";
  };
  e.location_key = "source.path";
  e.open_hint = "check that the file is a readable SQLite database";
  return e;
}

} // namespace stampede
