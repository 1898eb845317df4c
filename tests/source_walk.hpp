// Test helpers shared by the source tests (SQLite unit, PostgreSQL
// integration): every row of a page_query, page after page; the where and
// join cases both sources must pass alike.
//
// Operation: `walk(src, q)` reads from q.after until a page says `last` and
//   returns one line per row: "key|first mapped column" plus "|deleted" for a
//   soft-deleted row and "|problem" for a row with a problem.
//   `check_filter_and_join` runs the same assertions on both databases'
//   fixtures (tables SA1-like and SA2-like, written in each dialect).
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

} // namespace stampede::test
