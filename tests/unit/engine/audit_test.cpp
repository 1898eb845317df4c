// The audit (engine/audit.hpp) against a real SQLite source and a real
// RocksDB state store: missing, changed and hard-deleted rows, in ranges
// smaller than the table, and the repair request through the inbox's apply.
#include "engine/audit.hpp"
#include "engine/requests.hpp"
#include "pipeline/transform.hpp"

#include "../config/helpers.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace stampede;
using namespace stampede::test;

namespace {

struct fixture {
  temp_dir dir;
  std::string db = dir.file("src.db");
  config cfg;
  std::unique_ptr<state_store> store;
  std::unique_ptr<source> src;

  fixture() {
    std::string sql =
      "CREATE TABLE SA1010 (R_E_C_N_O_ INTEGER PRIMARY KEY, S_T_A_M_P_ TEXT, "
      "D_E_L_E_T_ TEXT DEFAULT ' ', A1_COD TEXT); BEGIN;";
    for (int i = 1; i <= 10; ++i)
      sql += "INSERT INTO SA1010 VALUES (" + std::to_string(i) + ", '2024-01-" +
             (i < 10 ? "0" : "") + std::to_string(i) + " 00:00:00.000', ' ', 'c" +
             std::to_string(i) + "');";
    sql_exec(db, sql + "COMMIT;");
    cfg = parse_config(edit(base_config, "path = \"demo.db\"", "path = \"" + db + "\""), "t.toml");
    src = source::open(cfg.source);
    store = state_store::open(dir.file("state"));
  }

  /// Delivers rows 1..8 (Success, their real content hashes); the checkpoint
  /// is row 8's stamp, so rows 9 and 10 are the next cycle's work.
  void deliver_first_eight() {
    const auto& svc = cfg.services.at(0);
    transformer tf(svc, cfg.target_of(svc), cfg.source);
    page_query q;
    q.table = svc.table;
    q.columns = tf.columns();
    q.key_column = "R_E_C_N_O_";
    q.upper = parse_stamp("2024-01-08 00:00:00.000");
    q.limit = 100;
    row_page page;
    page.service = svc.id;
    src->read_page(q, page);
    REQUIRE(page.rows.size() == 8);
    state_changes ch;
    for (const auto& b : tf.run(page))
      for (const auto& r : b->records) {
        ledger_entry e;
        e.content_hash = r.content_hash;
        e.remote_id = "1-" + r.key;
        e.status = record_status::success;
        e.last_stamp = r.stamp;
        ch.ledger.emplace_back(r.key, e);
      }
    REQUIRE(ch.ledger.size() == 8);
    service_state st;
    st.checkpoint_stamp = "2024-01-08 00:00:00.000";
    st.checkpoint_recno = 8;
    st.initial_load_complete = true;
    store->apply(svc.id, ch, st, true);
  }

  audit_report audit(std::uint32_t range) {
    auditor a(cfg, cfg.services.at(0), *store, *src);
    audit_options o;
    o.range_rows = range;
    return a.run(o);
  }
};

} // namespace

TEST_CASE("audit: a ledger in step with the source has no drift, rows after the checkpoint are "
          "not drift", "[audit]") {
  fixture f;
  f.deliver_first_eight();
  auto r = f.audit(3);
  CHECK(r.source_rows == 10);
  CHECK(r.ledger_entries == 8);
  CHECK(r.in_sync == 8);
  CHECK(r.ahead == 2);
  CHECK(r.drift() == 0);
  CHECK_FALSE(repair_request(r, "t").has_value());
}

TEST_CASE("audit: rows missing from the ledger, changed without a delivery and deleted from the "
          "source are found in ranges smaller than the table", "[audit]") {
  fixture f;
  f.deliver_first_eight();
  // 11: committed late with a stamp behind the checkpoint, never seen (no
  // ledger entry). 5: changed, stamp kept. 2: soft-deleted without the delete
  // being delivered (its entry says alive). 7: deleted from the source
  // without a soft delete. 3: Pending (hash 0): the resend queue's, in sync.
  f.store->apply(1, [] {
    state_changes c;
    c.ledger.emplace_back("3", ledger_entry{});
    return c;
  }(), f.store->load_state(1), true);
  sql_exec(f.db, "UPDATE SA1010 SET A1_COD = 'changed' WHERE R_E_C_N_O_ = 5;"
                 "DELETE FROM SA1010 WHERE R_E_C_N_O_ = 7;"
                 "UPDATE SA1010 SET D_E_L_E_T_ = '*' WHERE R_E_C_N_O_ = 2;"
                 "INSERT INTO SA1010 VALUES (11, '2024-01-04 12:00:00.000', ' ', 'late');");
  for (std::uint32_t range : {1u, 3u, 100u}) {
    INFO("range " << range);
    auto r = f.audit(range);
    CHECK(r.source_rows == 10);  // 1..6, 8..11
    CHECK(r.ahead == 2);
    CHECK(r.missing == 1);
    CHECK(r.missing_keys == std::vector<std::string>{"11"});
    CHECK(r.changed == 2);
    CHECK(std::set<std::string>(r.changed_keys.begin(), r.changed_keys.end()) ==
          std::set<std::string>{"2", "5"});
    CHECK(r.deleted == 1);
    CHECK(r.deleted_keys == std::vector<std::string>{"7"});
    CHECK(r.in_sync == 5);  // 1, 3, 4, 6, 8
    CHECK(r.drift() == 4);
  }
}

TEST_CASE("audit --repair: the missing and changed keys become one resend request that creates "
          "entries for rows never delivered and queues them all", "[audit][resend]") {
  fixture f;
  f.deliver_first_eight();
  sql_exec(f.db, "UPDATE SA1010 SET A1_COD = 'changed' WHERE R_E_C_N_O_ = 5;"
                 "INSERT INTO SA1010 VALUES (11, '2024-01-04 12:00:00.000', ' ', 'late');");
  auto rep = f.audit(4);
  REQUIRE(rep.drift() == 2);
  auto req = repair_request(rep, "ana");
  REQUIRE(req);
  CHECK(req->create_missing);
  CHECK(req->by == "ana");
  // Through the inbox's file format and back.
  CHECK(parse_request(to_json(*req)) == *req);
  auto applied = apply_request(*f.store, *req, 5000);
  CHECK(applied.changed == 2);
  CHECK(applied.unknown_keys.empty());
  auto created = f.store->get(1, "11");
  REQUIRE(created);
  CHECK(created->status == record_status::pending);
  CHECK(created->remote_id.empty());
  CHECK(created->changed_by == "ana");
  auto changed = f.store->get(1, "5");
  REQUIRE(changed);
  CHECK(changed->status == record_status::pending);
  CHECK(changed->generation == 1);
  CHECK(changed->remote_id == "1-5");  // an update goes to the same remote record
  std::set<std::string> queued;
  f.store->scan_resend(1, [&](std::string_view k, std::int64_t due) {
    queued.emplace(k);
    CHECK(due == 0);
    return true;
  });
  CHECK(queued == std::set<std::string>{"11", "5"});
  auto st = f.store->load_state(1);
  CHECK(st.counts[static_cast<std::size_t>(record_status::pending)] == 2);

  // Without create_missing the same keys resend only what the ledger knows.
  fixture g;
  g.deliver_first_eight();
  request plain = *req;
  plain.create_missing = false;
  auto a2 = apply_request(*g.store, plain, 5000);
  CHECK(a2.unknown_keys == std::vector<std::string>{"11"});
}

TEST_CASE("audit: a service with its own column names, no soft-delete column and a padded "
          "composite key reads the source with them", "[audit][source_options]") {
  temp_dir dir;
  const std::string db = dir.file("own.db");
  sql_exec(db, "CREATE TABLE CUST (ID INTEGER, UPDATED TEXT, BR CHAR(2), CODE CHAR(6), NAME TEXT);"
               "INSERT INTO CUST VALUES (1, '2024-01-01 00:00:00.000', '01', 'c1    ', 'a'),"
               " (2, '2024-01-02 00:00:00.000', '01', 'c2    ', 'b'),"
               " (3, '2024-01-03 00:00:00.000', '01', 'c3    ', 'c'),"
               " (4, '2024-01-04 00:00:00.000', '02', 'c1    ', 'd');");
  std::string text = edit(base_config, "path = \"demo.db\"", "path = \"" + db + "\"");
  text = edit(text, "table = \"SA1010\"",
              "table = \"CUST\"\nstamp_column = \"UPDATED\"\nrecno_column = \"ID\"\n"
              "deleted_column = \"\"\nkey_columns = [\"BR\", \"CODE\"]");
  text = edit(text, "column = \"A1_COD\"", "column = \"NAME\"");
  const config cfg = parse_config(text, "t.toml");
  const auto& svc = cfg.services.at(0);
  auto src = source::open(cfg.source);
  auto store = state_store::open(dir.file("state"));

  // Deliver every row (Success with its real content hash).
  transformer tf(svc, cfg.target_of(svc), cfg.source);
  page_query q;
  static_cast<table_spec&>(q) = spec_of(cfg.source, svc);
  q.columns = tf.columns();
  row_page page;
  page.service = svc.id;
  src->read_page(q, page);
  REQUIRE(page.rows.size() == 4);
  state_changes ch;
  for (const auto& b : tf.run(page))
    for (const auto& r : b->records) {
      ledger_entry e;
      e.content_hash = r.content_hash;
      e.status = record_status::success;
      e.last_stamp = r.stamp;
      ch.ledger.emplace_back(r.key, e);
    }
  REQUIRE(ch.ledger.size() == 4);
  CHECK(ch.ledger[0].first == "01|c1");  // trimmed and joined
  service_state st;
  st.checkpoint_stamp = "2024-01-04 00:00:00.000";
  st.checkpoint_recno = 4;
  st.initial_load_complete = true;
  store->apply(svc.id, ch, st, true);

  sql_exec(db, "DELETE FROM CUST WHERE ID = 2; UPDATE CUST SET NAME = 'changed' WHERE ID = 3;");
  auditor a(cfg, svc, *store, *src);
  audit_options o;
  o.range_rows = 2;
  auto r = a.run(o);
  CHECK(r.source_rows == 3);
  CHECK(r.in_sync == 2);
  CHECK(r.changed_keys == std::vector<std::string>{"01|c3"});
  CHECK(r.deleted_keys == std::vector<std::string>{"01|c2"});  // found gone by its two columns
}
