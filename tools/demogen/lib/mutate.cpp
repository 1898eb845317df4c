// mutate(): updates, inserts and soft-deletes rows of an existing demo database.
#include "tools/demogen/lib/demogen.hpp"
#include "tools/demogen/lib/rng.hpp"
#include "tools/demogen/lib/sqlite_db.hpp"
#include "tools/demogen/lib/timefmt.hpp"
#include "tools/demogen/lib/values.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <unordered_set>

namespace stampede::demogen {

namespace {

enum class op { update, insert, del };

constexpr int pick_attempts = 64;
constexpr int change_attempts = 32;

// A cell of `a` equals a cell of `b`?
bool same(const row_cells& a, std::size_t i, const row_cells& b, std::size_t j) {
  const cell& x = a.cells[i];
  const cell& y = b.cells[j];
  if (x.t != y.t) return false;
  if (x.t == cell::type::integer) return x.i == y.i;
  if (x.t == cell::type::null) return true;
  return a.text(i) == b.text(j);
}

// Copies cell i of `from` to the end of `to`.
void copy_cell(const row_cells& from, std::size_t i, row_cells& to) {
  cell c = from.cells[i];
  if (c.t == cell::type::text) {
    c.off = static_cast<std::uint32_t>(to.arena.size());
    to.arena += from.text(i);
  }
  to.cells.push_back(c);
}

// Replaces the last cell of `out` (equal to `old`) by a different value when
// regeneration kept producing the same one (flags, short choice lists).
void force_change(const column_def& c, row_cells& out) {
  cell& last = out.cells.back();
  if (last.t == cell::type::integer) {
    last.i = last.i < c.max ? last.i + 1 : last.i - 1;
    return;
  }
  std::string v = last.t == cell::type::text ? std::string(out.text(out.cells.size() - 1)) : "";
  // Only a text cell owns the arena's tail; a NULL cell's `off` means nothing.
  if (last.t == cell::type::text)
    out.arena.resize(last.off);
  std::string nv;
  if (c.kind == column_kind::flag) {
    nv.assign(v == "T" ? "F" : "T");
  } else if (c.kind == column_kind::choice && c.choices.size() > 1) {
    std::size_t k = 0;
    while (k < c.choices.size() && c.choices[k] != std::string_view(v).substr(0, c.choices[k].size()))
      ++k;
    nv = c.choices[(k + 1) % c.choices.size()];
    if (nv.size() < c.width) nv.append(c.width - nv.size(), ' ');
  } else if (c.kind == column_kind::decimal && !v.empty() && v.back() != '9') {
    nv = v;
    ++nv.back();  // +1 unit in the last decimal place
  } else if (c.kind == column_kind::decimal) {
    nv = v;
    nv.back() = '8';
  } else if (c.kind == column_kind::date) {
    nv = v == "        " ? "20240102" : "        ";
  } else {
    nv = v;
    nv += " (rev.)";
  }
  last.t = cell::type::text;
  last.off = static_cast<std::uint32_t>(out.arena.size());
  last.len = static_cast<std::uint32_t>(nv.size());
  out.arena += nv;
}

struct target {
  const service_def* s = nullptr;
  std::unique_ptr<row_generator> gen;
  std::int64_t max_recno = 0;
  std::unordered_set<std::int64_t> touched;
  std::vector<std::size_t> mutable_cols;
  std::unique_ptr<sqlite_stmt> select, update, del, insert;
};

void read_cells(const sqlite_stmt& st, int n, row_cells& out) {
  out.clear();
  for (int c = 0; c < n; ++c) {
    cell cl;
    if (st.is_null(c)) {
      cl.t = cell::type::null;
    } else if (st.is_integer(c)) {
      cl.t = cell::type::integer;
      cl.i = st.int_at(c);
    } else {
      cl.t = cell::type::text;
      cl.off = static_cast<std::uint32_t>(out.arena.size());
      const auto t = st.text_at(c);
      out.arena += t;
      cl.len = static_cast<std::uint32_t>(t.size());
    }
    out.cells.push_back(cl);
  }
}

void bind_cells(sqlite_stmt& st, const row_cells& row, int first) {
  for (std::size_t c = 0; c < row.cells.size(); ++c) {
    const int i = first + static_cast<int>(c);
    const cell& cl = row.cells[c];
    switch (cl.t) {
      case cell::type::null: st.bind_null(i); break;
      case cell::type::integer: st.bind_int(i, cl.i); break;
      case cell::type::text: st.bind_text(i, row.text(c)); break;
    }
  }
}

// References to a service whose table is not in the file: copy a value that
// some existing row of the same table already uses (or leave NULL).
void patch_absent_refs(sqlite_db& db, const service_def& s, const value_context& ctx,
                       std::int64_t recno, rng& r, row_cells& row) {
  for (std::size_t c = 0; c < s.columns.size(); ++c) {
    const column_def& cd = s.columns[c];
    if (cd.kind != column_kind::ref || row.cells[c].t != cell::type::null) continue;
    const bool absent = cd.ref ? ctx.ref_rows[cd.ref] == 0
                               : !(ctx.ref_rows[19] && ctx.ref_rows[20] && ctx.ref_rows[21]);
    if (!absent) continue;
    sqlite_stmt cp(db, "SELECT " + cd.name + " FROM " + s.table + " WHERE R_E_C_N_O_ >= ? AND " +
                           cd.name + " IS NOT NULL ORDER BY R_E_C_N_O_ LIMIT 1");
    cp.bind_int(1, r.between(1, std::max<std::int64_t>(1, recno - 1)));
    if (!cp.step()) continue;
    const auto v = cp.text_at(0);
    cell& cl = row.cells[c];
    cl.t = cell::type::text;
    cl.off = static_cast<std::uint32_t>(row.arena.size());
    cl.len = static_cast<std::uint32_t>(v.size());
    row.arena += v;
  }
}

}  // namespace

mutate_report mutate(const mutate_options& o) {
  if (o.path.empty()) throw error(errc::bad_options, "no database path; give one, e.g. --db demo/erp.db");
  auto share_ok = [](double v) { return std::isfinite(v) && v >= 0 && v <= 1; };
  if (!share_ok(o.late_share))
    throw error(errc::bad_options, "late share must be between 0 and 1 (e.g. 0.1 = 10%)");
  if (!share_ok(o.update_share) || !share_ok(o.delete_share) ||
      o.update_share + o.delete_share > 1.0 + 1e-9)
    throw error(errc::bad_options,
                "update and delete shares must be in [0, 1] and add up to at most 1");
  if (o.late_by.count() < 0) throw error(errc::bad_options, "late_by must not be negative");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.path, ec))
    throw error(errc::missing_database, "database file '" + o.path +
                                            "' does not exist; create it first with "
                                            "`stampede-demo-db generate --out " + o.path + "`");

  sqlite_db db(o.path, false);
  sqlite3_busy_timeout(db.get(), 5000);

  // Which services: the requested ones (their tables must exist) or every table present.
  std::vector<const service_def*> chosen;
  if (o.only.empty()) {
    for (const auto& s : services())
      if (db.table_exists(s.table)) chosen.push_back(&s);
    if (chosen.empty())
      throw error(errc::missing_table, "'" + o.path +
                                           "' holds no demo tables; create it with "
                                           "`stampede-demo-db generate --out " + o.path + "`");
  } else {
    for (auto id : o.only) {
      const service_def* s = find_service(id);
      if (!s)
        throw error(errc::bad_options,
                    "unknown service id " + std::to_string(id) + "; the demo has services 1..22");
      if (!db.table_exists(s->table))
        throw error(errc::missing_table, "service " + std::to_string(id) + " (table " +
                                             s->table + ") is not in '" + o.path +
                                             "'; generate it first (--services " +
                                             std::to_string(id) + ")");
      if (std::find(chosen.begin(), chosen.end(), s) == chosen.end()) chosen.push_back(s);
    }
  }

  value_context ctx;
  ctx.until_ms = now_ms();
  for (const auto& s : services())
    if (db.table_exists(s.table))
      ctx.ref_rows[s.id] = static_cast<std::uint64_t>(
          db.scalar("SELECT MAX(R_E_C_N_O_) FROM " + s.table));

  // The seed is mixed with the file's state, so repeated runs change other rows.
  std::uint64_t seed = o.seed;
  for (const auto* s : chosen) {
    sqlite_stmt st(db, "SELECT MAX(S_T_A_M_P_) FROM " + s->table);
    const std::string newest = st.step() ? std::string(st.text_at(0)) : "";
    seed = stream_seed(seed, ctx.ref_rows[s->id], std::hash<std::string>{}(newest));
  }
  rng r(seed);

  std::vector<target> targets(chosen.size());
  for (std::size_t t = 0; t < chosen.size(); ++t) {
    target& tg = targets[t];
    const service_def& s = *chosen[t];
    tg.s = &s;
    tg.gen = std::make_unique<row_generator>(s, ctx);
    tg.max_recno = static_cast<std::int64_t>(ctx.ref_rows[s.id]);
    std::string cols, sets, all, params;
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      all += s.columns[c].name + ", ";
      params += "?, ";
      if (!s.columns[c].mutable_) continue;
      tg.mutable_cols.push_back(c);
      cols += s.columns[c].name + ", ";
      sets += s.columns[c].name + " = ?, ";
    }
    tg.select = std::make_unique<sqlite_stmt>(
        db, "SELECT " + cols + "S_T_A_M_P_, D_E_L_E_T_ FROM " + s.table + " WHERE R_E_C_N_O_ = ?");
    tg.update = std::make_unique<sqlite_stmt>(
        db, "UPDATE " + s.table + " SET " + sets + "S_T_A_M_P_ = ? WHERE R_E_C_N_O_ = ?");
    tg.del = std::make_unique<sqlite_stmt>(
        db, "UPDATE " + s.table + " SET D_E_L_E_T_ = '*', S_T_A_M_P_ = ? WHERE R_E_C_N_O_ = ?");
    tg.insert = std::make_unique<sqlite_stmt>(
        db, "INSERT INTO " + s.table + " (" + all + "D_E_L_E_T_, R_E_C_N_O_, S_T_A_M_P_) VALUES (" +
                params + "' ', ?, ?)");
  }

  // The plan: exactly round(count * share) updates / deletes / late operations.
  const auto n = o.count;
  const auto n_upd = static_cast<std::uint64_t>(std::llround(static_cast<double>(n) * o.update_share));
  const auto n_del = std::min<std::uint64_t>(
      n - n_upd, static_cast<std::uint64_t>(std::llround(static_cast<double>(n) * o.delete_share)));
  const auto n_late = static_cast<std::uint64_t>(std::llround(static_cast<double>(n) * o.late_share));
  std::vector<op> ops(n, op::insert);
  std::fill_n(ops.begin(), n_upd, op::update);
  std::fill_n(ops.begin() + static_cast<std::ptrdiff_t>(n_upd), n_del, op::del);
  std::vector<std::uint8_t> late(n, 0);
  std::fill_n(late.begin(), std::min(n, n_late), std::uint8_t{1});
  for (std::uint64_t i = n; i > 1; --i) {  // Fisher-Yates, both lists
    std::swap(ops[i - 1], ops[r.below(i)]);
    std::swap(late[i - 1], late[r.below(i)]);
  }

  mutate_report rep;
  const std::int64_t start = now_ms();
  rep.late_stamp = format_stamp(start - o.late_by.count());
  db.exec("BEGIN IMMEDIATE");
  row_cells old, fresh, extra;
  std::string stamp, fresh_stamp;
  std::uint64_t block_left = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (block_left == 0) {  // several rows share one fresh stamp
      block_left = static_cast<std::uint64_t>(r.between(1, 10));
      fresh_stamp = format_stamp(std::max(now_ms(), start));
    }
    --block_left;
    target& tg = targets[r.below(targets.size())];
    const service_def& s = *tg.s;
    op kind = ops[i];
    bool is_late = late[i] != 0;
    const int nmut = static_cast<int>(tg.mutable_cols.size());

    std::int64_t recno = 0;
    std::string old_stamp;
    if (kind != op::insert) {  // find a live row not yet touched by this run
      for (int a = 0; a < pick_attempts && recno == 0 && tg.max_recno > 0; ++a) {
        const std::int64_t cand = r.between(1, tg.max_recno);
        if (tg.touched.count(cand)) continue;
        tg.select->bind_int(1, cand);
        if (tg.select->step() && tg.select->text_at(nmut + 1) != "*" &&
            (!is_late || tg.select->text_at(nmut) < std::string_view(rep.late_stamp) ||
             a >= pick_attempts / 2)) {
          recno = cand;
          read_cells(*tg.select, nmut, old);
          old_stamp = tg.select->text_at(nmut);
        }
        tg.select->reset();
      }
      if (recno == 0) kind = op::insert;  // nothing left to update/delete here
    }
    // A late stamp must not move a row's stamp backwards: such a row goes fresh.
    if (is_late && kind != op::insert && !(old_stamp < rep.late_stamp)) is_late = false;
    stamp = is_late ? rep.late_stamp : fresh_stamp;
    if (!is_late && kind != op::insert && !(old_stamp < stamp)) {
      const auto t = parse_stamp(old_stamp);
      stamp = format_stamp(t ? *t + 1 : now_ms());
    }

    auto& rec = rep.services[s.id];
    if (kind == op::update) {
      // Regenerate a random non-empty subset of the mutable columns; the first
      // chosen one is guaranteed to change.
      std::size_t forced = 0;
      do {  // references never are the forced change (a perturbed code would dangle)
        forced = r.below(tg.mutable_cols.size());
      } while (s.columns[tg.mutable_cols[forced]].kind == column_kind::ref);
      fresh.clear();
      for (std::size_t k = 0; k < tg.mutable_cols.size(); ++k) {
        const std::size_t col = tg.mutable_cols[k];
        if (k != forced && !r.percent(40)) {
          copy_cell(old, k, fresh);
          continue;
        }
        for (int a = 0;; ++a) {
          extra.clear();
          tg.gen->fill_column(col, recno, r, extra);
          if (ctx.ref_rows[s.columns[col].ref] == 0 && s.columns[col].kind == column_kind::ref) {
            copy_cell(old, k, fresh);  // referenced table absent: keep the reference
            break;
          }
          if (k != forced || !same(extra, 0, old, k)) {
            copy_cell(extra, 0, fresh);
            break;
          }
          if (a == change_attempts) {
            copy_cell(old, k, fresh);
            force_change(s.columns[col], fresh);
            break;
          }
        }
      }
      bind_cells(*tg.update, fresh, 1);
      tg.update->bind_text(nmut + 1, stamp);
      tg.update->bind_int(nmut + 2, recno);
      tg.update->run();
      rec.updated.push_back(recno);
    } else if (kind == op::del) {
      tg.del->bind_text(1, stamp);
      tg.del->bind_int(2, recno);
      tg.del->run();
      rec.deleted.push_back(recno);
    } else {
      recno = ++tg.max_recno;
      tg.gen->fill(recno, r, fresh);
      patch_absent_refs(db, s, ctx, recno, r, fresh);
      const int ncols = static_cast<int>(s.columns.size());
      bind_cells(*tg.insert, fresh, 1);
      tg.insert->bind_int(ncols + 1, recno);
      tg.insert->bind_text(ncols + 2, stamp);
      tg.insert->run();
      rec.inserted.push_back(recno);
    }
    tg.touched.insert(recno);
    if (is_late) rec.late.push_back(recno);
  }
  db.exec("COMMIT");
  return rep;
}

}  // namespace stampede::demogen
