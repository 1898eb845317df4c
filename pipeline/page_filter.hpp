// Dropping rows from a page already read: the shard filter (pipeline/shard.hpp)
// and the side reader's rows already sent this cycle (source/side_reader.hpp).
//
// Operation: `keep_rows(page, keep)` keeps, in order, the rows for which
//   `keep(row_meta)` is true, with their cells (row-major, moved down); the
//   arena stays as it is (cells point into it). `end`, `next` and `last`
//   are untouched: the keyset walk and the checkpoint do not change.
// Concurrency: none; the page belongs to the caller.
// Limitations: the dropped rows' bytes stay in the arena until the page goes.
#pragma once

#include "pipeline/record.hpp"

#include <cstddef>

namespace stampede {

/// Returns how many rows were dropped.
template <class Keep>
std::size_t keep_rows(row_page& page, Keep&& keep) {
  if (page.rows.empty())
    return 0;
  const std::size_t ncol = page.columns ? page.columns->size() : 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < page.rows.size(); ++i) {
    if (!keep(page.rows[i]))
      continue;
    if (kept != i) {
      page.rows[kept] = std::move(page.rows[i]);
      for (std::size_t c = 0; c < ncol; ++c)
        page.cells[kept * ncol + c] = page.cells[i * ncol + c];
    }
    ++kept;
  }
  const std::size_t dropped = page.rows.size() - kept;
  page.rows.resize(kept);
  page.cells.resize(kept * ncol);
  return dropped;
}

} // namespace stampede
