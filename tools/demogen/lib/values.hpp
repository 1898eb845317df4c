// Row values of the demo database: one business row of a service at a time.
//
// Operation: `row_generator` turns (service, R_E_C_N_O_, rng) into the
//   values of the service's business columns, appended to a reusable
//   `row_cells` arena (no allocation once the arena has grown). Codes are
//   derived from R_E_C_N_O_; references pick a random existing code of the
//   referenced service using `value_context::ref_rows`.
// Concurrency: a generator is immutable after construction; `fill` only
//   touches the caller's rng and row_cells.
// Limitations: text pools are small and fixed (Portuguese names with accents,
//   quotes, tabs and newlines on purpose); a reference to a service with
//   ref_rows == 0 yields NULL (mutate() patches those).
#pragma once

#include "tools/demogen/lib/demogen.hpp"
#include "tools/demogen/lib/rng.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stampede::demogen {

struct cell {
  enum class type : std::uint8_t { null, text, integer };
  type t = type::null;
  std::uint32_t off = 0;
  std::uint32_t len = 0;
  std::int64_t i = 0;
};

struct row_cells {
  std::string arena;
  std::vector<cell> cells;
  void clear() {
    arena.clear();
    cells.clear();
  }
  std::string_view text(std::size_t c) const {
    return std::string_view(arena).substr(cells[c].off, cells[c].len);
  }
};

struct value_context {
  std::int64_t until_ms = 0;                   // newest datetime (UTC ms)
  std::array<std::uint64_t, 23> ref_rows{};    // service id -> codes 1..n exist
};

/// Appends the code of row `n`: digits zero-padded to 6, then spaces to `width`.
void put_code(std::string& out, std::uint64_t n, std::uint32_t width);
/// Digits put_code writes for row n.
std::uint32_t code_digits(std::uint64_t n);

class row_generator {
 public:
  row_generator(const service_def& s, const value_context& ctx);

  /// Clears `out` and appends one cell per business column of row `recno`.
  void fill(std::int64_t recno, rng& r, row_cells& out) const {
    out.clear();
    append(recno, r, out);
  }
  /// Appends one cell per business column of row `recno` (batches of rows).
  void append(std::int64_t recno, rng& r, row_cells& out) const;
  /// Appends one cell: a fresh value for column `col` (mutate updates).
  void fill_column(std::size_t col, std::int64_t recno, rng& r, row_cells& out) const;

  const service_def& service() const { return s_; }

 private:
  struct row_state {
    bool company = false;
    std::uint32_t origin = 19;
  };
  void value(const column_def& c, std::int64_t recno, rng& r, row_state& st,
             row_cells& out) const;

  const service_def& s_;
  value_context ctx_;
  std::int64_t first_day_ = 0;  // datetimes: two years before until
};

}  // namespace stampede::demogen
