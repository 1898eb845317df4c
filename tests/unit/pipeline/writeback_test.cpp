// Write-back logic without a database: parameter names, where each value comes
// from, which records qualify, batched tries, row-by-row isolation, log items.
#include "pipeline/writeback.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using namespace std::chrono_literals;

namespace {

service_config service_with(const std::string& sql, writeback_on on = writeback_on::create) {
  service_config s;
  s.id = 1;
  s.name = "taxpayers";
  for (auto n : {"code", "address.city", "active"}) {
    field_mapping f;
    f.name = n;
    f.column = "X";
    s.fields.push_back(f);
  }
  s.writeback = writeback_config{sql, on};
  return s;
}

/// A batch of `ops` (keys k1, k2, ...), every record ok with remote id "r<i>"
/// and the answer {"key":..,"id":..,"version":<i>}.
batch_result result_of(const std::vector<record_op>& ops) {
  auto b = std::make_shared<send_batch>();
  batch_result r;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    out_record rec;
    rec.key = "k" + std::to_string(i + 1);
    rec.op = ops[i];
    rec.remote_id = ops[i] == record_op::create ? "" : "old" + std::to_string(i + 1);
    const std::string data = R"({"code":"C)" + std::to_string(i + 1) +
                             R"(","address":{"city":"Recife"},"active":true})";
    rec.data_off = static_cast<std::uint32_t>(b->arena.size());
    rec.data_len = static_cast<std::uint32_t>(data.size());
    b->arena += data;
    b->records.push_back(rec);
    record_outcome o;
    o.ok = true;
    o.remote_id = ops[i] == record_op::create ? "r" + std::to_string(i + 1) : "";
    o.received = R"({"key":")" + rec.key + R"(","id":"r)" + std::to_string(i + 1) +
                 R"(","version":)" + std::to_string(i + 1) + "}";
    r.outcomes.push_back(o);
  }
  r.batch = b;
  return r;
}

struct fake_sink : writeback_sink {
  std::vector<std::vector<writeback_row>> calls;
  int fail_next = 0;              // fail this many calls
  std::string refuse_key;         // any transaction holding this key fails
  std::vector<std::int64_t> execute(const std::vector<writeback_row>& rows) override {
    calls.push_back(rows);
    if (fail_next > 0) {
      --fail_next;
      throw std::runtime_error("database is locked");
    }
    for (const auto& r : rows)
      if (r.key == refuse_key)
        throw std::runtime_error("CHECK constraint failed: A1_IDERP");
    return std::vector<std::int64_t>(rows.size(), 1);
  }
};

} // namespace

TEST_CASE("write-back parameter names: in order, once, never inside literals or comments",
          "[pipeline][writeback]") {
  CHECK(sql_parameter_names("UPDATE SA1010 SET A1_IDERP = :id WHERE R_E_C_N_O_ = :key") ==
        std::vector<std::string>{"id", "key"});
  CHECK(sql_parameter_names("UPDATE t SET a = :id, b = ':no', \"c:x\" = :version -- :not\n"
                            "WHERE k = :key AND j = :id /* :nope */") ==
        std::vector<std::string>{"id", "version", "key"});
  CHECK(sql_parameter_names("UPDATE t SET a = :id::text WHERE k = :key") ==
        std::vector<std::string>{"id", "key"});
  CHECK(sql_parameter_names("UPDATE t SET a = 'it''s :x' WHERE k = :key") ==
        std::vector<std::string>{"key"});
  CHECK(sql_parameter_names("UPDATE t SET a = 1").empty());
}

TEST_CASE("write-back values: remote id, key, mapped fields by name, answer members by name",
          "[pipeline][writeback]") {
  auto svc = service_with("UPDATE t SET a = :id, c = :code, d = :address_city, e = :active, "
                          "v = :version WHERE k = :key");
  writeback_plan plan(svc, sql_parameter_names(svc.writeback->sql));
  CHECK(plan.needs_answer());
  std::vector<writeback_row> rows;
  std::vector<writeback_outcome> problems;
  plan.rows(result_of({record_op::create, record_op::update, record_op::del}), rows, problems);
  REQUIRE(rows.size() == 1);  // on = create: the update and the delete write nothing
  CHECK(problems.empty());
  CHECK(rows[0].key == "k1");
  REQUIRE(rows[0].values.size() == 6);
  CHECK(rows[0].values[0] == std::optional<std::string>("r1"));
  CHECK(rows[0].values[1] == std::optional<std::string>("C1"));
  CHECK(rows[0].values[2] == std::optional<std::string>("Recife"));
  CHECK(rows[0].values[3] == std::optional<std::string>("1"));
  CHECK(rows[0].values[4] == std::optional<std::string>("1"));
  CHECK(rows[0].values[5] == std::optional<std::string>("k1"));

  // on = always: updates too (with the remote id they already had); deletes never.
  svc.writeback->on = writeback_on::always;
  writeback_plan always(svc, sql_parameter_names(svc.writeback->sql));
  rows.clear();
  always.rows(result_of({record_op::create, record_op::update, record_op::del}), rows, problems);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].key == "k2");
  CHECK(rows[1].values[0] == std::optional<std::string>("old2"));

  // An answer without the member: the record is a problem, not a NULL write.
  auto r = result_of({record_op::create});
  r.outcomes[0].received = R"({"key":"k1","id":"r1"})";
  rows.clear();
  plan.rows(r, rows, problems);
  CHECK(rows.empty());
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0].message, Catch::Contains("the target's answer has no `version`"));

  // Failed records and target-level failures write nothing.
  r = result_of({record_op::create});
  r.outcomes[0].ok = false;
  rows.clear();
  problems.clear();
  plan.rows(r, rows, problems);
  CHECK(rows.empty());
  r = result_of({record_op::create});
  r.target = target_failure{failure_class::credentials, "HTTP 401", 401, "http://x"};
  plan.rows(r, rows, problems);
  CHECK(rows.empty());
  CHECK(problems.empty());
}

TEST_CASE("write-back typos: a name close to id, key or a field is flagged",
          "[pipeline][writeback]") {
  auto svc = service_with("x");
  auto typos = writeback_param_typos(svc, {"id", "kye", "version", "cod", "adress_city"});
  REQUIRE(typos.size() == 3);
  CHECK(typos[0] == std::pair<std::string, std::string>{"kye", "key"});
  CHECK(typos[1] == std::pair<std::string, std::string>{"cod", "code"});
  CHECK(typos[2] == std::pair<std::string, std::string>{"adress_city", "address_city"});
  auto svc2 = service_with("UPDATE t SET a = :id WHERE k = :key");
  CHECK_FALSE(writeback_plan(svc2, {"id", "key"}).needs_answer());
}

TEST_CASE("write-back runs the batch in one transaction, retried with doubling pauses",
          "[pipeline][writeback]") {
  auto svc = service_with("UPDATE t SET a = :id WHERE k = :key");
  auto sink = std::make_unique<fake_sink>();
  auto* fs = sink.get();
  fs->fail_next = 2;
  std::vector<std::chrono::milliseconds> pauses;
  writeback_runner run(writeback_plan(svc, {"id", "key"}), std::move(sink), {3, 100ms},
                       [&](std::chrono::milliseconds d) { pauses.push_back(d); });
  auto outs = run.run(result_of({record_op::create, record_op::create, record_op::update}));
  REQUIRE(fs->calls.size() == 3);
  CHECK(fs->calls[2].size() == 2);  // both creates in one transaction
  CHECK(pauses == std::vector<std::chrono::milliseconds>{100ms, 200ms});
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].ok);
  CHECK(outs[0].message == "write-back: 1 row changed (try 3)");
}

TEST_CASE("write-back: a row the database refuses fails alone, visibly, the others are written",
          "[pipeline][writeback]") {
  auto svc = service_with("UPDATE t SET a = :id WHERE k = :key");
  auto sink = std::make_unique<fake_sink>();
  auto* fs = sink.get();
  fs->refuse_key = "k2";
  writeback_runner run(writeback_plan(svc, {"id", "key"}), std::move(sink), {3, 1ms},
                       [](std::chrono::milliseconds) {});
  auto outs = run.run(result_of({record_op::create, record_op::create, record_op::create}));
  CHECK(fs->calls.size() == 3 + 3);  // three tries of the batch, then each row alone
  REQUIRE(outs.size() == 3);
  CHECK(outs[0].ok);
  CHECK_FALSE(outs[1].ok);
  CHECK(outs[1].message == "write-back failed after 4 tries: CHECK constraint failed: A1_IDERP");
  CHECK(outs[2].ok);

  // As log items: status unchanged, attempt 0, by write-back, item numbers move on.
  ledger_entry e;
  e.status = record_status::success;
  e.items = 2;
  std::vector<std::pair<std::string, ledger_entry>> ledger{{"k1", e}, {"k2", e}, {"k3", e}};
  auto c = writeback_items(outs, ledger, 1234, 20);
  REQUIRE(c.items.size() == 3);
  CHECK(c.items[1].key == "k2");
  CHECK(c.items[1].no == 2);
  CHECK(c.items[1].value.status == record_status::success);
  CHECK(c.items[1].value.attempt == 0);
  CHECK(c.items[1].value.by == "write-back");
  CHECK_THAT(c.items[1].value.message, Catch::StartsWith("write-back failed"));
  REQUIRE(c.ledger.size() == 3);
  for (const auto& [k, le] : c.ledger) {
    CHECK(le.items == 3);
    CHECK(le.status == record_status::success);
  }
  // The oldest item goes when max_items is reached.
  c = writeback_items(outs, ledger, 1234, 2);
  CHECK(c.items_erase.size() == 3);
}

TEST_CASE("write-back with a composite key binds each key column by its name",
          "[pipeline][writeback]") {
  service_config svc = service_with(
      "UPDATE SA1 SET A1_IDERP = :id WHERE A1_FILIAL = :A1_FILIAL AND A1_COD = :A1_COD");
  svc.key_columns = {"A1_FILIAL", "A1_COD"};
  writeback_plan plan(svc, sql_parameter_names(svc.writeback->sql));
  REQUIRE(plan.params().size() == 3);
  CHECK(plan.params()[1].src == writeback_param::from::key_part);
  CHECK(plan.params()[2].part == 1);
  CHECK_FALSE(plan.needs_answer());
  batch_result r = result_of({record_op::create, record_op::create});
  auto& recs = r.batch->records;
  recs[0].key.clear();
  append_key_part(recs[0].key, "01", 0);
  append_key_part(recs[0].key, "A|B", 1);  // escaped in the key, plain in the parameter
  recs[1].key = "<NULL A1_FILIAL|A1_COD> R_E_C_N_O_ 7";  // a label: binds NULL, matches nothing
  std::vector<writeback_row> rows;
  std::vector<writeback_outcome> problems;
  plan.rows(r, rows, problems);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].values == std::vector<std::optional<std::string>>{"r1", "01", "A|B"});
  CHECK(rows[1].values[1] == std::nullopt);
  // A near miss of a key column's name is a typo, not an answer member.
  CHECK(writeback_param_typos(svc, {"A1_FILIAl"}) ==
        std::vector<std::pair<std::string, std::string>>{{"A1_FILIAl", "A1_FILIAL"}});
}
