// End to end: the target shapes of issue 8 through the real binaries, each
// example config (examples/*.toml) against stampede-target playing that API:
// CouchDB's _bulk_docs (flat docs, _rev round trip, deletes, conflicts as
// record errors) and a webhook that acknowledges by status (204, retries of a
// 503, a 2xx of the wrong shape as an unknown outcome). Assertions go through
// the target's own state.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace e2e;

namespace {

/// `world` with examples/NAME.toml as its config: the example reads the
/// database, state dir and target URL from the environment.
void use_example(world& w, const std::string& name, const std::string& target_url) {
  std::ofstream(w.cfg) << read_file(fs::path(STAMPEDE_SOURCE_DIR) / "examples" / (name + ".toml"));
  ::setenv("STAMPEDE_DB", w.db.c_str(), 1);
  ::setenv("STAMPEDE_TARGET_URL", target_url.c_str(), 1);
}

/// A number or string member of a JSON object, as text ("" when absent).
std::string member(simdjson::dom::element e, const char* k) {
  std::string_view s;
  if (e[k].get(s) == simdjson::SUCCESS) return std::string(s);
  std::int64_t i = 0;
  if (e[k].get(i) == simdjson::SUCCESS) return std::to_string(i);
  return {};
}

/// id -> rev of every live document of a CouchDB database of the target.
std::map<std::string, std::string> couch_docs(const std::string& couch, const std::string& db) {
  simdjson::dom::parser p;
  auto body = http("GET", couch + "/" + db + "/_all_docs");
  std::map<std::string, std::string> out;
  for (auto row : p.parse(body)["rows"].get_array())
    out[member(row, "id")] = member(row["value"], "rev");
  return out;
}

std::uint64_t couch_stat(const std::string& couch, const std::string& db, const char* what) {
  simdjson::dom::parser p;
  std::uint64_t v = 0;
  if (p.parse(http("GET", couch + "/" + db + "/_stats"))[what].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

std::set<std::string> live_keys(world& w) {
  std::set<std::string> out;
  FILE* p = ::popen(("sqlite3 " + w.db.string() +
                     " \"SELECT R_E_C_N_O_ FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*'\"").c_str(),
                    "r");
  char line[64];
  while (p && std::fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    out.insert(s);
  }
  if (p) ::pclose(p);
  return out;
}

/// The `returned` member `name` of `stampede log show 1 KEY --json`.
std::string logged_returned(world& w, const std::string& key, const char* name) {
  auto r = w.stampede_plain("log show 1 " + key + " --json");
  REQUIRE(r.rc == 0);
  simdjson::dom::parser p;
  std::string_view v;
  if (p.parse(r.out)["entry"]["returned"][name].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

}  // namespace

TEST_CASE("couchdb example: flat docs, the _rev round trip, deletes and a conflict as a record error") {
  world w(0.2);
  const std::string couch = w.target->url() + "/couchdb";
  use_example(w, "couchdb", couch);
  REQUIRE(w.stampede("check").rc == 0);

  auto first = w.stampede("run --once --services 1");
  INFO(first.out);
  REQUIRE(first.rc == 0);
  auto keys = live_keys(w);
  REQUIRE(keys.size() > 20);
  auto docs = couch_docs(couch, "taxpayers");
  std::set<std::string> ids;
  for (const auto& [id, rev] : docs) {
    ids.insert(id);
    CHECK(rev.rfind("1-", 0) == 0);
  }
  CHECK(ids == keys);  // exactly the live rows, keyed by R_E_C_N_O_ as _id
  CHECK(couch_stat(couch, "taxpayers", "creates") == keys.size());
  // The body is the mapped fields themselves.
  const std::string some = *keys.begin();
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(http("GET", couch + "/taxpayers/" + some));
  CHECK(member(doc, "code") != "");
  CHECK(member(doc, "_id") == some);
  // The revision is kept per record and shown by the log monitor.
  CHECK(logged_returned(w, some, "rev") == docs.at(some));

  // Changes: updates carry the rev they got, deletes are _deleted docs.
  auto m = w.mutate("--count 30 --services 1", w.tmp.path / "m1.json");
  REQUIRE(m.rc == 0);
  auto mut = read_report(w.tmp.path / "m1.json");
  auto second = w.stampede("run --once --services 1");
  INFO(second.out);
  REQUIRE(second.rc == 0);
  CHECK(couch_stat(couch, "taxpayers", "conflicts") == 0);
  auto after = couch_docs(couch, "taxpayers");
  std::set<std::string> after_ids;
  for (const auto& [id, rev] : after) after_ids.insert(id);
  CHECK(after_ids == live_keys(w));
  std::uint64_t updated_live = 0;
  for (auto recno : mut.updated[1]) {
    const auto k = std::to_string(recno);
    if (!after.count(k) || !docs.count(k)) continue;  // deleted or inserted by the same mutation
    ++updated_live;
    CHECK(after.at(k).rfind("2-", 0) == 0);
    CHECK(logged_returned(w, k, "rev") == after.at(k));
  }
  CHECK(updated_live > 0);
  std::uint64_t deleted = 0;
  for (auto recno : mut.deleted[1]) {
    const auto k = std::to_string(recno);
    if (!docs.count(k)) continue;
    ++deleted;
    auto gone = http("GET", couch + "/taxpayers/" + k);
    CHECK(gone.find("\"deleted\"") != std::string::npos);
  }
  CHECK(deleted > 0);
  CHECK(couch_stat(couch, "taxpayers", "deletes") == deleted);

  // Someone else updates a document: our rev is stale, CouchDB answers a
  // conflict for it, which is that record's error (the others go on).
  const std::string k = *after_ids.begin();
  const std::string stale = after.at(k);
  auto other = http("POST", couch + "/taxpayers/_bulk_docs",
                    R"({"docs":[{"_id":")" + k + R"(","_rev":")" + stale + R"(","by":"someone else"}]})");
  REQUIRE(other.find("\"ok\":true") != std::string::npos);
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'CHANGED IN THE ERP', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 seconds') WHERE R_E_C_N_O_ = " + k);
  auto third = w.stampede("run --once --services 1");
  INFO(third.out);
  CHECK(third.rc == 4);  // records in Error
  std::string msg;
  CHECK(w.logged(1, "error", &msg) == 1);
  CHECK(msg.find("conflict: Document update conflict.") != std::string::npos);
  CHECK(couch_stat(couch, "taxpayers", "conflicts") == 1);
}

TEST_CASE("webhook example: acknowledged by status, a 503 retried, nothing lost or repeated") {
  world w(0.2);
  use_example(w, "webhook", w.target->url());
  REQUIRE(w.stampede("check").rc == 0);
  const std::string hook = w.target->url() + "/hooks/taxpayers";
  // Answers 204 (the default) to the first batch, then 202 {"status":"accepted"}.
  auto first = w.stampede("run --once --services 1");
  INFO(first.out);
  REQUIRE(first.rc == 0);
  simdjson::dom::parser p;
  simdjson::dom::element got = p.parse(http("GET", hook));
  const auto keys = live_keys(w);
  std::uint64_t records = 0;
  REQUIRE(got["records"].get(records) == simdjson::SUCCESS);
  CHECK(records == keys.size());
  std::set<std::string> seen;
  for (auto [k, n] : got["keys"].get_object()) {
    seen.insert(std::string(k));
    CHECK(std::uint64_t(n) == 1);
  }
  CHECK(seen == keys);
  std::string_view idem;
  REQUIRE(got["headers"]["idempotency-key"].get(idem) == simdjson::SUCCESS);
  CHECK(idem.size() == 16);
  CHECK(w.logged(1, "success") == static_cast<std::int64_t>(keys.size()));

  // The next request answers 503 and keeps nothing: the same batch is retried.
  http("POST", hook + "/_config", R"({"answer":"accepted","fail_next":1})");
  auto m = w.mutate("--count 12 --services 1", w.tmp.path / "m.json");
  REQUIRE(m.rc == 0);
  auto second = w.stampede("run --once --services 1");
  INFO(second.out);
  REQUIRE(second.rc == 0);
  simdjson::dom::element again = p.parse(http("GET", hook));
  std::uint64_t failed = 0;
  REQUIRE(again["failed"].get(failed) == simdjson::SUCCESS);
  CHECK(failed == 1);
  std::uint64_t twice = 0;
  for (auto [k, n] : again["keys"].get_object()) {
    CHECK(std::uint64_t(n) <= 2);
    if (std::uint64_t(n) == 2) ++twice;
  }
  CHECK(twice > 0);  // the changed rows went out a second time, once each
}

TEST_CASE("webhook: a 2xx that does not match acknowledge = records is an unknown outcome, never a success") {
  world w(0.05);
  use_example(w, "webhook", w.target->url());
  replace_in_file(w.cfg, "acknowledge = \"status\"", "acknowledge = \"records\"");
  replace_in_file(w.cfg, "in_flight = 2\n", "in_flight = 2\nrequest_attempts = 3\nretry_backoff_base = \"1ms\"\nretry_backoff_max = \"5ms\"\n");
  const std::string hook = w.target->url() + "/hooks/taxpayers";
  http("POST", hook + "/_config", R"({"answer":"malformed200"})");
  auto r = w.stampede("run --once --services 1");
  INFO(r.out);
  CHECK(r.rc == 1);  // target level: exhausted
  CHECK(r.out.find("unknown") != std::string::npos);
  // No record burned an attempt; the checkpoint did not move.
  CHECK(w.logged(1, "error") == 0);
  CHECK(w.logged(1, "success") == 0);
  auto st = w.stampede_plain("status --json");
  CHECK(st.out.find("\"initial_load\":\"complete\"") == std::string::npos);
}
