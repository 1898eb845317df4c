// side_reader: resumed async batches, replay ranges and the resend queue,
// against a real SQLite source and a real RocksDB state store.
#include "../config/helpers.hpp"

#include "source/side_reader.hpp"
#include "source/source.hpp"

using namespace stampede;
using namespace stampede::test;

namespace {

struct fixture {
  temp_dir dir;
  std::string db = dir.file("src.db");
  std::unique_ptr<state_store> store;
  std::unique_ptr<source> src;

  fixture() {
    std::string sql =
        "CREATE TABLE T (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT DEFAULT ' ', NAME TEXT);"
        "BEGIN;";
    for (int i = 1; i <= 30; ++i)
      sql += "INSERT INTO T VALUES (" + std::to_string(i) + ", '2024-01-" + (i < 10 ? "0" : "") +
             std::to_string(i) + " 00:00:00.000', ' ', 'n" + std::to_string(i) + "');";
    sql += "COMMIT;";
    sql_exec(db, sql);
    source_config c;
    c.path = db;
    src = source::open(c);
    store = state_store::open(dir.file("state"));
  }

  page_query base() const {
    page_query q;
    q.table = "T";
    q.columns = {"NAME"};
    q.key_column = "R_E_C_N_O_";
    q.limit = 4;
    return q;
  }
};

} // namespace

TEST_CASE("side_reader: resumed batches first, then replays, then the due resend keys",
          "[side_reader][resend]") {
  fixture f;
  state_changes c;
  ledger_entry err;
  err.status = record_status::error;
  err.attempts = 2;
  err.items = 3;
  for (const char* k : {"5", "6", "99"})
    c.ledger.emplace_back(k, err);
  c.resend = {{"5", 100}, {"6", 5000}, {"99", 50}};  // 6 is not due at now = 1000
  pending_batch pb;
  pb.batch_id = "b-1";
  pending_record pr;
  pr.key = "7";
  pr.idempotency_key = "idem-7";
  pb.records.push_back(pr);
  c.batches.push_back(pb);
  f.store->apply(1, c, service_state{}, true);

  side_reader sr(*f.src, *f.store, 1, f.base(),
                 {{"2024-01-10 00:00:00.000", "2024-01-15 00:00:00.000", 7, "ana"}}, 1000, 1000);
  REQUIRE(sr.resend_keys() == 2);
  row_page p;
  // 1. the async batch of an earlier cycle, to poll
  REQUIRE(sr.next(p));
  REQUIRE(p.resume);
  REQUIRE(p.resume->resume_batch_id == "b-1");
  REQUIRE(p.resume->records.at(0).idempotency_key == "idem-7");
  REQUIRE(p.detached);
  // 2. the replay range 10..15 inclusive: 6 rows in pages of 4, forced
  std::vector<std::int64_t> replayed;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(sr.next(p));
    REQUIRE_FALSE(p.resume);
    REQUIRE(p.force);
    REQUIRE(p.generation == 7);
    REQUIRE(p.end.stamp.empty());  // never moves the checkpoint
    for (auto& r : p.rows) replayed.push_back(r.recno);
  }
  REQUIRE(replayed == std::vector<std::int64_t>{10, 11, 12, 13, 14, 15});
  // 3. the due resend keys: 5 is re-read (with its ledger entry), 99 is gone
  REQUIRE(sr.next(p));
  REQUIRE_FALSE(p.force);
  REQUIRE(p.rows.size() == 1);
  REQUIRE(p.rows[0].key == "5");
  REQUIRE(p.rows[0].prior.has_value());
  REQUIRE(p.rows[0].prior->items == 3);
  REQUIRE(p.gone.size() == 1);
  REQUIRE(p.gone[0].first == "99");
  REQUIRE(p.gone[0].second->attempts == 2);
  REQUIRE_FALSE(sr.next(p));

  // The keyset walk of the same cycle meets rows 5 and 10..15 again: they
  // went out already (one record once per cycle); the page end stays.
  auto q = f.base();
  q.limit = 20;
  f.src->read_page(q, p);
  const auto end = p.end;
  sr.drop_sent(p);
  std::vector<std::string> keys;
  for (auto& r : p.rows) keys.push_back(r.key);
  REQUIRE(keys == std::vector<std::string>{"1", "2", "3", "4", "6", "7", "8", "9", "16", "17", "18",
                                           "19", "20"});
  REQUIRE(p.cells.size() == keys.size());
  bool null = false;
  REQUIRE(p.at(4, 0, null) == "n6");  // cells moved with their rows
  REQUIRE(p.end == end);
}
