// Test helpers shared by the source tests (SQLite unit, PostgreSQL
// integration): every row of a page_query, page after page; the where and
// join cases both sources must pass alike.
//
// Operation: `walk(src, q)` reads from q.after until a page says `last` and
//   returns one line per row: "key|first mapped column" plus "|deleted" for a
//   soft-deleted row and "|problem" for a row with a problem.
//   `check_filter_and_join` runs the same assertions on both databases'
//   fixtures (tables SA1-like and SA2-like, written in each dialect);
//   `check_backlog` those of source::backlog on a table of six rows.
// Concurrency: one source, one thread.
// Limitations: at most 100 pages (a test that pages more fails).
#pragma once

#include "source/source.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace stampede::test {

inline std::vector<std::string> walk(source& src, page_query q) {
  std::vector<std::string> out;
  row_page p;
  for (int pages = 0;; ++pages) {
    REQUIRE(pages < 100);
    src.read_page(q, p);
    for (std::size_t i = 0; i < p.rows.size(); ++i) {
      bool null = false;
      const auto& r = p.rows[i];
      out.push_back(r.key + "|" + std::string(p.at(i, 0, null)) + (r.deleted ? "|deleted" : "") +
                    (r.problem.empty() ? "" : "|problem"));
    }
    if (p.last) break;
    q.after = p.next;
  }
  return out;
}

/// `q`: four rows c1 (branch 01, "a"), c2 (02, "b"), c3 (01, "O'Brien"), c4
/// (01, "d", deleted), filtered to branch 01 by its where; `name_where`
/// compares the name column with :name (and with the literal ':name').
/// `j`: a join whose stamp is the newer of both tables' (c1 10:00, c3 11:00);
/// `city_where` compares its city column with :c.
inline void check_filter_and_join(source& src, page_query q, const std::string& name_where,
                                  page_query j, const std::string& city_where) {
  CHECK(walk(src, q) == std::vector<std::string>{"c1|a", "c3|O'Brien", "c4|d|deleted"});
  CHECK(src.count_rows(q, std::nullopt) == 3);
  CHECK(src.count_rows(q, parse_stamp("2024-01-01 10:00:01")) == 1);
  row_page p;
  CHECK(src.read_by_keys(q, {"c2", "c3"}, p) == std::vector<std::string>{"c2"});
  // Bound, never interpolated: a value with a quote is just a value.
  q.where = name_where;
  q.params = {{"name", "O'Brien"}};
  CHECK(walk(src, q) == std::vector<std::string>{"c3|O'Brien"});

  CHECK(walk(src, j) == std::vector<std::string>{"c1|X", "c3|Y"});
  CHECK(src.count_rows(j, parse_stamp("2024-01-01 10:30:00")) == 1);
  j.after = src.start_at(j, *parse_stamp("2024-01-01 10:30:00"));
  CHECK(walk(src, j) == std::vector<std::string>{"c3|Y"});
  CHECK(src.read_by_keys(j, {"c3", "c2"}, p) == std::vector<std::string>{"c2"});
  j.after = {};
  j.where = city_where;  // a where on the query's result
  j.params = {{"c", "X"}};
  CHECK(walk(src, j) == std::vector<std::string>{"c1|X"});
}

/// The keyset position after the first `n` rows of `q` (pages of one row).
inline keyset_pos position_after(source& src, page_query q, int n) {
  q.limit = 1;
  row_page p;
  for (int i = 0; i < n; ++i) {
    src.read_page(q, p);
    REQUIRE(p.size() == 1);
    q.after = p.next;
  }
  return q.after;
}

/// `q`: six rows (recno key stamp branch): 1 k1 10:00:00 01, 2 k2 10:00:01
/// 01, 3 k3 10:00:01 02, 4 k4 10:00:01 01, 5 k5 10:00:02 01, 6 k6 10:00:03
/// 02 (2024-01-01); `branch_where` keeps branch :b, `branch_query` is a
/// SELECT of the rows of branch '02'. The backlog after a position counts
/// the rows the walk from there reads, the rest of a tie group included.
inline void check_backlog(source& src, page_query q, const std::string& branch_where,
                          const std::string& branch_query) {
  auto at = [](const std::string& t) { return parse_stamp("2024-01-01 " + t); };
  auto all = src.backlog(q, {}, 100);
  CHECK(all.rows == 6);
  CHECK_FALSE(all.capped);
  CHECK(all.oldest == at("10:00:00"));
  CHECK(walk(src, q).size() == 6);

  // Inside the tie group at 10:00:01: after recno 2, recnos 3 and 4 are left.
  const keyset_pos in_ties = position_after(src, q, 2);
  auto b = src.backlog(q, in_ties, 100);
  CHECK(b.rows == 4);
  CHECK(b.oldest == at("10:00:01"));
  page_query from = q;
  from.after = in_ties;
  CHECK(walk(src, from).size() == 4);
  // Past the whole group: the oldest is the next stamp.
  b = src.backlog(q, position_after(src, q, 4), 100);
  CHECK(b.rows == 2);
  CHECK(b.oldest == at("10:00:02"));
  // After the last row: nothing, no oldest.
  b = src.backlog(q, position_after(src, q, 6), 100);
  CHECK(b.rows == 0);
  CHECK_FALSE(b.oldest);

  // The count stops at the cap.
  b = src.backlog(q, {}, 3);
  CHECK(b.rows == 3);
  CHECK(b.capped);
  b = src.backlog(q, {}, 6);
  CHECK(b.rows == 6);
  CHECK_FALSE(b.capped);

  // A where with a bound parameter: branch 01 is rows 1, 2, 4, 5.
  page_query f = q;
  f.where = branch_where;
  f.params = {{"b", "01"}};
  CHECK(src.backlog(f, {}, 100).rows == 4);
  const keyset_pos f_ties = position_after(src, f, 2);  // after k2: k4 (same stamp), k5
  b = src.backlog(f, f_ties, 100);
  CHECK(b.rows == 2);
  CHECK(b.oldest == at("10:00:01"));
  b = src.backlog(f, position_after(src, f, 3), 100);
  CHECK(b.rows == 1);
  CHECK(b.oldest == at("10:00:02"));

  // A query: branch 02 is rows 3 and 6.
  page_query j = q;
  j.table = "";
  j.query = branch_query;
  b = src.backlog(j, {}, 100);
  CHECK(b.rows == 2);
  CHECK(b.oldest == at("10:00:01"));
  b = src.backlog(j, position_after(src, j, 1), 100);
  CHECK(b.rows == 1);
  CHECK(b.oldest == at("10:00:03"));
}

} // namespace stampede::test
