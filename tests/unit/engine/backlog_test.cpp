// The source backlog of a service (engine/backlog.hpp) on a real SQLite
// source: the rows after a stored checkpoint, the age of the oldest by the
// source clock, the service's own `where`, a source that cannot be read, and
// the text status and the web overview show.
#include "engine/backlog.hpp"

#include "../config/helpers.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace stampede::test;

namespace {

struct fixture {
  temp_dir dir;
  std::string db = dir.file("src.db");
  config cfg;
  std::unique_ptr<source> src;

  explicit fixture(const std::string& service_lines = "") {
    // Rows 1..8 in January 2024 (branch 01 and 02 alternately); 9 and 10 an
    // hour and two hours old by the SQLite clock.
    std::string sql =
        "CREATE TABLE SA1010 (R_E_C_N_O_ INTEGER PRIMARY KEY, S_T_A_M_P_ TEXT, "
        "D_E_L_E_T_ TEXT DEFAULT ' ', A1_COD TEXT, A1_FILIAL TEXT); BEGIN;";
    for (int i = 1; i <= 8; ++i)
      sql += "INSERT INTO SA1010 VALUES (" + std::to_string(i) + ", '2024-01-0" + std::to_string(i) +
             " 00:00:00.000', ' ', 'c" + std::to_string(i) + "', '0" + std::to_string(1 + i % 2) +
             "');";
    sql += "INSERT INTO SA1010 VALUES (9, strftime('%Y-%m-%d %H:%M:%f', 'now', '-2 hours'), ' ', "
           "'c9', '01');"
           "INSERT INTO SA1010 VALUES (10, strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hours'), ' ', "
           "'c10', '02');";
    sql_exec(db, sql + "COMMIT;");
    cfg = parse_config(edit(edit(base_config, "path = \"demo.db\"", "path = \"" + db + "\""),
                            "target = \"portal\"", "target = \"portal\"\n" + service_lines),
                       "t.toml");
    src = source::open(cfg.source);
  }
};

service_state at_checkpoint(const std::string& stamp, std::int64_t recno) {
  service_state st;
  st.checkpoint_stamp = stamp;
  st.checkpoint_recno = recno;
  return st;
}

} // namespace

TEST_CASE("backlog: the rows after the checkpoint and the age of the oldest by the source clock",
          "[engine][backlog]") {
  fixture f;
  const auto& svc = f.cfg.services.at(0);
  auto b = measure_backlog(*f.src, f.cfg, svc, at_checkpoint("2024-01-08 00:00:00.000", 8), 42);
  CHECK(b.measured);
  CHECK(b.error.empty());
  CHECK(b.measured_ms == 42);
  CHECK(b.rows == 2);
  CHECK_FALSE(b.capped);
  CHECK(b.oldest_age_seconds > 2 * 3600 - 10);
  CHECK(b.oldest_age_seconds < 2 * 3600 + 60);
  CHECK(backlog_text(b) == "2 (oldest 2.0h)");

  // No checkpoint yet: every row; the oldest is from January 2024.
  b = measure_backlog(*f.src, f.cfg, svc, service_state{}, 0);
  CHECK(b.rows == 10);
  CHECK(b.oldest_age_seconds > 86400.0 * 300);

  // Mid-table: rows 6..10.
  CHECK(measure_backlog(*f.src, f.cfg, svc, at_checkpoint("2024-01-05 00:00:00.000", 5), 0).rows == 5);

  // Caught up: 0, age 0.
  page_query q;
  q.table = "SA1010";
  q.key_column = "A1_COD";
  q.limit = 100;
  row_page page;
  f.src->read_page(q, page);
  REQUIRE(page.size() == 10);
  REQUIRE(page.next.recno == 10);
  b = measure_backlog(*f.src, f.cfg, svc, at_checkpoint(page.next.stamp, 10), 0);
  CHECK(b.measured);
  CHECK(b.rows == 0);
  CHECK(b.oldest_age_seconds == 0);
  CHECK(backlog_text(b) == "0");
}

TEST_CASE("backlog: a service's where with params counts only its rows", "[engine][backlog]") {
  fixture f("where = \"A1_FILIAL = :branch\"\nparams = { branch = \"01\" }");
  const auto& svc = f.cfg.services.at(0);
  // Branch 01: rows 2, 4, 6, 8 and 9; after row 4: 6, 8, 9.
  CHECK(measure_backlog(*f.src, f.cfg, svc, service_state{}, 0).rows == 5);
  auto b = measure_backlog(*f.src, f.cfg, svc, at_checkpoint("2024-01-04 00:00:00.000", 4), 0);
  CHECK(b.rows == 3);
  CHECK(b.oldest_age_seconds > 86400.0 * 300);  // row 6, January 2024
  // After row 8 only row 9 (two hours old) is branch 01; row 10 is not.
  b = measure_backlog(*f.src, f.cfg, svc, at_checkpoint("2024-01-08 00:00:00.000", 8), 0);
  CHECK(b.rows == 1);
  CHECK(b.oldest_age_seconds > 2 * 3600 - 10);
  CHECK(b.oldest_age_seconds < 2 * 3600 + 60);
}

TEST_CASE("backlog: a table the source lacks is an error, not a throw", "[engine][backlog]") {
  fixture f;
  auto cfg = f.cfg;
  cfg.services.at(0).table = "NOPE";
  const auto b = measure_backlog(*f.src, cfg, cfg.services.at(0), service_state{}, 7);
  CHECK_FALSE(b.measured);
  CHECK(b.measured_ms == 7);
  CHECK(b.error.find("service 1: source backlog:") == 0);
  CHECK(b.error.find("NOPE") != std::string::npos);
  CHECK(backlog_text(b) == "error");
}

TEST_CASE("backlog: the text of a measurement", "[engine][backlog]") {
  source_backlog b;
  CHECK(backlog_text(b) == "-");
  b.measured = true;
  CHECK(backlog_text(b) == "0");
  b.rows = 1234;
  b.oldest_age_seconds = 300;
  CHECK(backlog_text(b) == "1234 (oldest 5m)");
  b.rows = backlog_cap;
  b.capped = true;
  b.oldest_age_seconds = 2 * 86400;
  CHECK(backlog_text(b) == ">1000000 (oldest 2.0d)");
}
