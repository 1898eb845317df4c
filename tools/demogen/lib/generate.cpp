// generate(): writes the demo database.
#include "tools/demogen/lib/demogen.hpp"
#include "tools/demogen/lib/rng.hpp"
#include "tools/demogen/lib/sqlite_db.hpp"
#include "tools/demogen/lib/timefmt.hpp"
#include "tools/demogen/lib/values.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <filesystem>
#include <system_error>

namespace stampede::demogen {

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t history_ms = 730 * ms_per_day;  // stamps span two years
constexpr std::uint64_t mass_block_min_rows = 20000;   // tables with an annual "mass launch"
constexpr std::uint64_t mass_block_rows = 5200;        // > the default page size (5000)
constexpr std::uint64_t progress_every = 65536;

std::vector<std::uint32_t> selected_ids(const std::vector<std::uint32_t>& only) {
  std::vector<std::uint32_t> ids;
  if (only.empty()) {
    for (const auto& s : services()) ids.push_back(s.id);
    return ids;
  }
  for (auto id : only) {
    if (!find_service(id))
      throw error(errc::bad_options, "unknown service id " + std::to_string(id) +
                                         "; the demo has services 1..22");
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void remove_old(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec)
      throw error(errc::io_failure, "cannot create directory '" + p.parent_path().string() +
                                        "': " + ec.message());
  }
  if (fs::is_directory(p, ec))
    throw error(errc::bad_options,
                "output path '" + path + "' is a directory; give a file name such as demo/erp.db");
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    fs::remove(path + suffix, ec);
    if (ec)
      throw error(errc::io_failure,
                  "cannot remove old '" + path + suffix + "': " + ec.message());
  }
}

// Stamps of one table: blocks of 1..50 rows share a stamp, blocks advance
// through the two years before `until`; 10% of rows were "modified later".
class stamp_plan {
 public:
  stamp_plan(std::uint64_t rows, std::int64_t until, std::uint64_t seed)
      : r_(seed), until_(until), rows_(rows) {
    const double blocks = static_cast<double>(rows) / 25.5 + 1.0;
    avg_step_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(history_ms / blocks));
    cur_ = until - history_ms + r_.between(0, avg_step_);
    mass_at_ = rows >= mass_block_min_rows ? rows * 2 / 5 : rows + 1;
  }

  // Appends the stamp of the next row (0-based index i) to out.
  void next(std::uint64_t i, std::string& out) {
    if (left_ == 0) {
      cur_ = std::min(until_, cur_ + r_.between(1, 2 * avg_step_ - 1));
      in_mass_ = i >= mass_at_;
      if (in_mass_) {
        left_ = std::min<std::uint64_t>(mass_block_rows, rows_ - i);
        mass_at_ = ~std::uint64_t{0};
      } else {
        left_ = static_cast<std::uint64_t>(r_.between(1, 50));
      }
      text_.clear();
      put_stamp(text_, cur_);
    }
    --left_;
    if (!in_mass_ && cur_ < until_ && r_.percent(10)) {
      put_stamp(out, cur_ + r_.between(1, until_ - cur_));
    } else {
      out += text_;
    }
  }

 private:
  rng r_;
  std::int64_t until_;
  std::uint64_t rows_;
  std::int64_t avg_step_ = 1;
  std::int64_t cur_ = 0;
  std::uint64_t mass_at_ = 0;
  std::uint64_t left_ = 0;
  bool in_mass_ = false;  // one statement stamped these rows: none modified later
  std::string text_;
};

// Rows of one table in batches: cells of row i are [i*width, (i+1)*width),
// the business columns then D_E_L_E_T_ and S_T_A_M_P_ (as text cells).
struct row_batch {
  row_cells data;
  std::uint64_t first = 0;  // 0-based index of the first row
  std::uint64_t rows = 0;
};

// A producer thread fills row batches while the caller inserts the previous
// ones: value generation and SQLite work overlap. Batches are recycled.
class batch_producer {
 public:
  batch_producer(const service_def& s, std::uint64_t rows, const value_context& ctx,
                 std::uint64_t seed)
      : gen_(s, ctx),
        values_(stream_seed(seed, s.id)),
        deletes_(stream_seed(seed, s.id, 2)),
        stamps_(rows, ctx.until_ms, stream_seed(seed, s.id, 1)),
        rows_(rows) {
    for (int i = 0; i < depth; ++i) free_.push_back(std::make_unique<row_batch>());
    thread_ = std::thread([this] { run(); });
  }
  ~batch_producer() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  /// The next batch (nullptr at the end); give it back with recycle().
  std::unique_ptr<row_batch> next() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return !full_.empty() || done_; });
    if (error_) std::rethrow_exception(error_);
    if (full_.empty()) return nullptr;
    auto b = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return b;
  }
  void recycle(std::unique_ptr<row_batch> b) {
    std::lock_guard<std::mutex> l(m_);
    free_.push_back(std::move(b));
    cv_.notify_all();
  }

 private:
  static constexpr int depth = 4;
  static constexpr std::uint64_t batch_rows = 2048;

  void run() {
    try {
      for (std::uint64_t i = 0; i < rows_;) {
        std::unique_ptr<row_batch> b;
        {
          std::unique_lock<std::mutex> l(m_);
          cv_.wait(l, [&] { return !free_.empty() || stop_; });
          if (stop_) return;
          b = std::move(free_.back());
          free_.pop_back();
        }
        b->data.clear();
        b->first = i;
        b->rows = std::min(batch_rows, rows_ - i);
        for (std::uint64_t k = 0; k < b->rows; ++k, ++i) {
          gen_.append(static_cast<std::int64_t>(i + 1), values_, b->data);
          push_text(b->data, deletes_.percent(2) ? "*" : " ");
          cell st{cell::type::text, static_cast<std::uint32_t>(b->data.arena.size()), 0, 0};
          stamps_.next(i, b->data.arena);
          st.len = static_cast<std::uint32_t>(b->data.arena.size() - st.off);
          b->data.cells.push_back(st);
        }
        std::lock_guard<std::mutex> l(m_);
        full_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> l(m_);
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> l(m_);
    done_ = true;
    cv_.notify_all();
  }
  static void push_text(row_cells& d, std::string_view v) {
    d.cells.push_back(cell{cell::type::text, static_cast<std::uint32_t>(d.arena.size()),
                           static_cast<std::uint32_t>(v.size()), 0});
    d.arena += v;
  }

  const row_generator gen_;
  rng values_, deletes_;
  stamp_plan stamps_;
  const std::uint64_t rows_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<row_batch>> full_;
  std::vector<std::unique_ptr<row_batch>> free_;
  bool stop_ = false, done_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

void load_service(sqlite_db& db, const service_def& s, std::uint64_t rows,
                  const value_context& ctx, std::uint64_t seed,
                  const generate_options& o) {
  db.exec("BEGIN");
  db.exec(create_table_sql(s));

  std::string sql = "INSERT INTO " + s.table + " (";
  std::string params;
  for (const auto& c : s.columns) {
    sql += c.name + ", ";
    params += "?, ";
  }
  // R_E_C_N_O_ is left to SQLite: the table starts empty and rows arrive in
  // order, so it assigns 1..n (max + 1) and takes its fast append path.
  sql += "D_E_L_E_T_, S_T_A_M_P_) VALUES (" + params + "?, ?)";
  sqlite_stmt ins(db, sql);
  const std::size_t width = s.columns.size() + 2;  // cells per row in a batch

  if (o.progress) o.progress(s.id, 0, rows);
  batch_producer producer(s, rows, ctx, seed);
  std::uint64_t reported = 0;
  while (auto b = producer.next()) {
    const row_cells& d = b->data;
    for (std::uint64_t k = 0; k < b->rows; ++k) {
      const std::size_t base = static_cast<std::size_t>(k) * width;
      for (std::size_t c = 0; c < width; ++c) {
        const cell& cl = d.cells[base + c];
        const int p = static_cast<int>(c) + 1;
        switch (cl.t) {
          case cell::type::null: ins.bind_null(p); break;
          case cell::type::integer: ins.bind_int(p, cl.i); break;
          case cell::type::text: ins.bind_text(p, d.text(base + c)); break;
        }
      }
      ins.run();
    }
    const std::uint64_t done = b->first + b->rows;
    producer.recycle(std::move(b));
    if (o.progress && done < rows && done - reported >= progress_every) {
      reported = done;
      o.progress(s.id, done, rows);
    }
  }
  db.exec("CREATE INDEX " + stamp_index_name(s) + " ON " + s.table +
          " (S_T_A_M_P_, R_E_C_N_O_)");
  db.exec("COMMIT");
  if (o.progress) o.progress(s.id, rows, rows);
}

}  // namespace

generate_result generate(const generate_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.path.empty())
    throw error(errc::bad_options, "no output path; give one, e.g. --out demo/erp.db");
  if (!std::isfinite(o.scale) || o.scale <= 0 || o.scale > 10000)
    throw error(errc::bad_options, "scale must be a number in (0, 10000]; 1.0 = about 100k rows");
  if (o.rows && *o.rows == 0) throw error(errc::bad_options, "rows must be at least 1");
  const auto ids = selected_ids(o.only);

  value_context ctx;
  ctx.until_ms = o.until_ms ? *o.until_ms : now_ms() - 10 * 60 * 1000;
  if (ctx.until_ms < history_ms)
    throw error(errc::bad_options, "until must be after 1972 (stamps span two years before it)");
  for (const auto& s : services()) {
    const bool chosen = std::binary_search(ids.begin(), ids.end(), s.id);
    const std::uint64_t n = chosen && o.rows ? *o.rows : planned_rows(s, o.scale);
    if (code_digits(n) > s.columns.front().width)
      throw error(errc::bad_options,
                  "service " + std::to_string(s.id) + " (" + s.name + ") cannot hold " +
                      std::to_string(n) + " rows: its codes are " +
                      std::to_string(s.columns.front().width) + " characters wide");
    ctx.ref_rows[s.id] = n;
  }

  remove_old(o.path);
  generate_result res;
  try {
    sqlite_db db(o.path, true);
    db.exec("PRAGMA page_size = 16384");
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("PRAGMA cache_size = -262144");  // 256 MiB: the index sort stays in memory
    for (auto id : ids) {
      const auto& s = *find_service(id);
      load_service(db, s, ctx.ref_rows[id], ctx, o.seed, o);
      res.rows[id] = ctx.ref_rows[id];
    }
    // Leave the file ready for a concurrent reader (stampede) and writer (mutate).
    db.exec("PRAGMA locking_mode = NORMAL");
    db.exec("PRAGMA journal_mode = WAL");
    // synchronous stays OFF for this connection: no fsync of a multi-GB file at
    // close (a demo file need not survive a power cut; readers open it normally).
  } catch (...) {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"})
      std::filesystem::remove(o.path + suffix, ec);
    throw;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace stampede::demogen
