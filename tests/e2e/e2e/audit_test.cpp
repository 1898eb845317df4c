// End to end: late commits (SQLite) and `stampede audit`. A row committed
// late with a stamp inside the lookback is caught by the next cycle; beyond
// the lookback the cycle misses it and `stampede audit` finds it (and hard
// deletes); `audit --repair` queues it and the next run delivers it.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {

const std::map<std::string, std::string> kAuditCfg{{"page_size", "70"}, {"batch_records", "30"}};

struct audit_json {
  std::uint64_t missing = 0, changed = 0, deleted = 0, drift = 0, ahead = 0, source_rows = 0;
};

audit_json audit(world& w, const std::string& extra, int expect_rc) {
  auto r = w.stampede_plain("audit --service 19 --json " + extra);
  INFO(r.out);
  REQUIRE(r.rc == expect_rc);
  simdjson::dom::parser p;
  auto line = r.out.substr(0, r.out.find('\n'));
  simdjson::dom::element doc = p.parse(line);
  audit_json a;
  a.missing = std::uint64_t(doc["missing"]);
  a.changed = std::uint64_t(doc["changed"]);
  a.deleted = std::uint64_t(doc["deleted"]);
  a.drift = std::uint64_t(doc["drift"]);
  a.ahead = std::uint64_t(doc["ahead"]);
  a.source_rows = std::uint64_t(doc["source_rows"]);
  return a;
}

/// Initial load, then late commits (stamps 2 minutes behind the checkpoint).
mutation load_then_commit_late(world& w) {
  REQUIRE(w.stampede("run --once --services 19").rc == 0);
  auto rep1 = w.tmp.path / "m1.json";
  REQUIRE(w.mutate("--count 50 --services 19 --late-share 0", rep1).rc == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));  // safety_delay
  REQUIRE(w.stampede("run --once --services 19").rc == 0);
  auto rep2 = w.tmp.path / "m2.json";
  auto m = w.mutate("--count 40 --services 19 --late-share 1 --late-by 2m", rep2);
  INFO(m.out);
  REQUIRE(m.rc == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  return read_report(rep2);
}

} // namespace

TEST_CASE("late commits within the lookback are caught by the next cycle: the audit then finds "
          "no drift", "[audit][late]") {
  world w(0.05, kAuditCfg);  // lookback 10m
  auto mu = load_then_commit_late(w);
  auto before = get_stats(w.target->url()).services[19];
  auto r = w.stampede("run --once --services 19");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  auto after = get_stats(w.target->url()).services[19];
  CHECK(after.creates - before.creates == mu.total(mu.inserted));
  CHECK(after.updates - before.updates == mu.total(mu.updated));
  CHECK(after.deletes - before.deletes == mu.total(mu.deleted));
  auto a = audit(w, "", 0);
  CHECK(a.drift == 0);
  CHECK(a.source_rows == static_cast<std::uint64_t>(
                           sql_int(w.db, "SELECT COUNT(*) FROM CREDITOS_IPTU")));
}

TEST_CASE("late commits beyond the lookback are missed by the cycle, found by audit, queued by "
          "audit --repair and delivered by the next run, hard deletes are reported", "[audit][late]") {
  auto cfg = kAuditCfg;
  cfg["lookback"] = "\"1ms\"";
  world w(0.05, cfg);
  auto mu = load_then_commit_late(w);
  const auto changed = mu.total(mu.updated) + mu.total(mu.inserted) + mu.total(mu.deleted);
  REQUIRE(changed == 40);
  auto before = get_stats(w.target->url()).services[19];
  REQUIRE(w.stampede("run --once --services 19").rc == 0);
  auto missed = get_stats(w.target->url()).services[19];
  // The premise: the cycle did not see (all of) them.
  REQUIRE(missed.creates + missed.updates + missed.deletes <
          before.creates + before.updates + before.deletes + changed);

  // A hard delete of a delivered row, too.
  const auto gone = sql_int(w.db, "SELECT MIN(R_E_C_N_O_) FROM CREDITOS_IPTU WHERE D_E_L_E_T_ <> '*'");
  sql_exec(w.db, "DELETE FROM CREDITOS_IPTU WHERE R_E_C_N_O_ = " + std::to_string(gone));

  auto a = audit(w, "", 4);
  CHECK(a.missing == mu.total(mu.inserted));
  CHECK(a.changed == mu.total(mu.updated) + mu.total(mu.deleted));  // soft deletes not delivered
  CHECK(a.deleted == 1);
  CHECK(a.drift == changed + 1);
  CHECK(a.ahead == 0);
  // The drift metric, for node_exporter's textfile collector.
  auto prom = w.tmp.path / "audit.prom";
  REQUIRE(w.stampede_plain("audit --service 19 --metrics-file " + prom.string()).rc == 4);
  auto metrics = read_file(prom);
  CHECK(metrics.find("stampede_audit_drift_records{service=\"19\",kind=\"missing\"} " +
                     std::to_string(mu.total(mu.inserted)) + "\n") != std::string::npos);
  CHECK(metrics.find("stampede_audit_drift_records{service=\"19\",kind=\"deleted\"} 1\n") !=
        std::string::npos);
  auto human = w.stampede_plain("audit --service 19");
  INFO(human.out);
  CHECK(human.rc == 4);
  CHECK(human.out.find(std::to_string(mu.total(mu.inserted)) + " missing from the ledger") !=
        std::string::npos);
  CHECK(human.out.find("deleted: " + std::to_string(gone)) != std::string::npos);

  auto rep = w.stampede_plain("audit --service 19 --repair --by ana");
  INFO(rep.out);
  CHECK(rep.rc == 4);
  CHECK(rep.out.find(std::to_string(changed) + " record(s) queued") != std::string::npos);
  auto r = w.stampede("run --once --services 19");
  INFO(r.out);
  CHECK(r.rc == 0);
  auto after = get_stats(w.target->url()).services[19];
  CHECK(after.creates - before.creates == mu.total(mu.inserted));
  CHECK(after.updates - before.updates == mu.total(mu.updated));
  CHECK(after.deletes - before.deletes == mu.total(mu.deleted));
  CHECK(after.duplicates == 0);
  // Every live source row is at the target (plus the hard-deleted one).
  CHECK(after.live_keys == static_cast<std::uint64_t>(w.live_rows("CREDITOS_IPTU")) + 1);

  // Only the hard delete is left.
  auto again = audit(w, "", 4);
  CHECK(again.missing == 0);
  CHECK(again.changed == 0);
  CHECK(again.deleted == 1);
  auto log = w.stampede_plain("log --service 19 --key " + std::to_string(mu.inserted.at(19).at(0)) +
                              " --json");
  CHECK(log.out.find("\"status\":\"success\"") != std::string::npos);
}

TEST_CASE("audit: bad input is exit 2, before any run it reports every row as ahead", "[audit]") {
  world w(0.02, kAuditCfg);
  auto unknown = w.stampede_plain("audit --service 99");
  CHECK(unknown.rc == 2);
  CHECK(unknown.out.find("service 99") != std::string::npos);
  auto nostate = w.stampede_plain("audit --service 19");
  CHECK(nostate.rc == 2);
  CHECK(nostate.out.find("no state yet") != std::string::npos);
  REQUIRE(w.stampede("run --once --services 1").rc == 0);  // creates the state dir
  auto a = audit(w, "", 0);
  CHECK(a.drift == 0);
  CHECK(a.ahead == a.source_rows);
  CHECK(a.source_rows > 0);
}
