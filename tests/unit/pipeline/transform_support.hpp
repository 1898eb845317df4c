// Test helpers for the transform tests: build configs and row pages by hand.
#pragma once

#include "pipeline/config.hpp"
#include "pipeline/record.hpp"

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stampede::test {

inline field_mapping fcol(std::string name, std::string column, field_type t = field_type::string) {
  field_mapping f;
  f.name = std::move(name);
  f.column = std::move(column);
  f.type = t;
  return f;
}

inline field_mapping fval(std::string name, std::string value, field_type t = field_type::string) {
  field_mapping f;
  f.name = std::move(name);
  f.value = std::move(value);
  f.type = t;
  return f;
}

/// A cell: nullopt = SQL NULL.
using cellv = std::optional<std::string>;

struct row_spec {
  row_spec() = default;
  row_spec(std::string k, std::vector<cellv> c, bool del = false,
           std::optional<ledger_entry> p = std::nullopt)
      : key(std::move(k)), cells(std::move(c)), deleted(del), prior(std::move(p)) {}
  std::string key;
  std::vector<cellv> cells;
  bool deleted = false;
  std::optional<ledger_entry> prior;
};

/// Builds a page with `cols` columns (must equal transformer::columns()).
inline row_page make_page(std::uint32_t service, const std::vector<std::string>& cols,
                          const std::vector<row_spec>& rows, std::uint64_t seq = 0) {
  row_page p;
  p.service = service;
  p.seq = seq;
  p.columns = std::make_shared<const std::vector<std::string>>(cols);
  std::int64_t recno = 0;
  for (const row_spec& r : rows) {
    for (std::size_t c = 0; c < cols.size(); ++c) {
      row_page::cell cell;
      if (c < r.cells.size() && r.cells[c]) {
        cell.off = static_cast<std::uint32_t>(p.arena.size());
        cell.len = static_cast<std::uint32_t>(r.cells[c]->size());
        cell.null = false;
        p.arena += *r.cells[c];
      }
      p.cells.push_back(cell);
    }
    row_page::row_meta m;
    m.key = r.key;
    m.recno = ++recno;
    m.stamp = "2024-01-01 00:00:00." + std::to_string(100 + recno % 900);
    m.deleted = r.deleted;
    m.prior = r.prior;
    p.rows.push_back(std::move(m));
  }
  if (!p.rows.empty()) p.end = keyset_pos{p.rows.back().stamp, p.rows.back().recno};
  return p;
}

} // namespace stampede::test
