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

/// The examples keep source.safety_delay at its default (2 s): rows stamped
/// by a mutation are read once that long has passed.
void past_safety_delay() { std::this_thread::sleep_for(std::chrono::milliseconds(2200)); }

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

/// The first column of every row `sql` returns (sqlite3 CLI).
std::set<std::string> keys_of(world& w, const std::string& sql) {
  std::set<std::string> out;
  FILE* p = ::popen(("sqlite3 " + w.db.string() + " \"" + sql + "\"").c_str(), "r");
  char line[256];
  while (p && std::fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    out.insert(s);
  }
  if (p) ::pclose(p);
  return out;
}

std::set<std::string> live_keys(world& w) {
  return keys_of(w, "SELECT R_E_C_N_O_ FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*'");
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
  REQUIRE(w.stampede_plain("check").rc == 0);

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
  past_safety_delay();
  auto mut = read_report(w.tmp.path / "m1.json");
  auto second = w.stampede("run --once --services 1");
  INFO(second.out);
  REQUIRE(second.rc == 0);
  CHECK(couch_stat(couch, "taxpayers", "conflicts") == 0);
  auto after = couch_docs(couch, "taxpayers");
  std::set<std::string> after_ids;
  for (const auto& [id, rev] : after) after_ids.insert(id);
  CHECK(after_ids == live_keys(w));
  // An update of a mapped column moves the rev (the record carried the one
  // it had); one of a column this example does not map sends nothing.
  std::uint64_t moved = 0;
  for (auto recno : mut.updated[1]) {
    const auto k = std::to_string(recno);
    if (!after.count(k) || !docs.count(k)) continue;  // deleted or inserted by the same mutation
    if (after.at(k) == docs.at(k)) continue;           // unchanged content: not sent
    ++moved;
    CHECK(after.at(k).rfind("2-", 0) == 0);
    CHECK(logged_returned(w, k, "rev") == after.at(k));
  }
  CHECK(moved > 0);
  CHECK(couch_stat(couch, "taxpayers", "updates") == moved);
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
  REQUIRE(w.stampede_plain("check").rc == 0);
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
  past_safety_delay();
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
  replace_in_file(w.cfg, "\nacknowledge = \"status\"", "\nacknowledge = \"records\"");
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

namespace {


std::uint64_t json_u64(const std::string& body, const char* pointer) {
  simdjson::dom::parser p;
  std::uint64_t v = 0;
  if (p.parse(body).at_pointer(pointer).get(v) != simdjson::SUCCESS) return 0;
  return v;
}

}  // namespace

TEST_CASE("smartlink example: the setup once, per-service types in path and header, deletes skipped") {
  world w(0.1);
  const std::string base = w.target->url();
  use_example(w, "smartlink", base);
  REQUIRE(w.stampede_plain("check").rc == 0);
  auto first = w.stampede("run --once");
  INFO(first.out);
  REQUIRE(first.rc == 0);
  simdjson::dom::parser p;
  auto records = [&] {
    std::map<std::string, std::set<std::string>> by_entity;
    simdjson::dom::element doc = p.parse(http("GET", base + "/link/records/T1"));
    for (auto r : doc["records"].get_array()) by_entity[member(r, "entity")].insert(member(r, "key"));
    return by_entity;
  };
  auto got = records();
  CHECK(got["FinLan"] == live_keys(w));
  CHECK(got["CtbLan"] == keys_of(w, "SELECT R_E_C_N_O_ FROM IMOVEIS WHERE D_E_L_E_T_ <> '*'"));
  auto stats = http("GET", base + "/link/_stats");
  CHECK(json_u64(stats, "/setups") == 1);
  CHECK(json_u64(stats, "/dead") == 0);
  CHECK(json_u64(stats, "/rejected") == 0);

  // Changes go out as Alt messages; deletes are recorded, not sent; the
  // unchanged setup is not sent again by the next worker.
  auto m = w.mutate("--count 20 --services 1", w.tmp.path / "m.json");
  REQUIRE(m.rc == 0);
  past_safety_delay();
  auto mut = read_report(w.tmp.path / "m.json");
  auto second = w.stampede("run --once");
  INFO(second.out);
  REQUIRE(second.rc == 0);
  stats = http("GET", base + "/link/_stats");
  CHECK(json_u64(stats, "/setups") == 1);
  CHECK(json_u64(stats, "/dead") == 0);
  CHECK(json_u64(stats, "/updates") > 0);
  REQUIRE_FALSE(mut.deleted[1].empty());
  const auto gone = std::to_string(mut.deleted[1].front());
  auto show = w.stampede_plain("log show 1 " + gone + " --json");
  INFO(show.out);
  CHECK(show.out.find("\"operation\":\"delete\"") != std::string::npos);
  CHECK(show.out.find("\"status\":\"success\"") != std::string::npos);
  CHECK(records()["FinLan"].count(gone) == 1);  // Smartlink was not told

  // A changed setup is sent again (before the next batch: a row changes).
  replace_in_file(w.cfg, "\"requeueCountMax\": 3", "\"requeueCountMax\": 5");
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'OUTRO', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 seconds') WHERE R_E_C_N_O_ = " +
                     *records()["FinLan"].begin());
  auto third = w.stampede("run --once");
  INFO(third.out);
  REQUIRE(third.rc == 0);
  CHECK(json_u64(http("GET", base + "/link/_stats"), "/setups") == 2);
  CHECK(http("GET", base + "/link/setup/T1").find("\"requeueCountMax\":5") != std::string::npos);
}

TEST_CASE("senior-set example: positional answers, empty erro is success, codCli returned, written back and sent as id_erp") {
  world w(0.1);
  const std::string base = w.target->url();
  use_example(w, "senior-set", base);
  // One customer SET will refuse.
  const std::string bad = *live_keys(w).begin();
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_TIPO = 'F', CT_CPFCNPJ = '123' WHERE R_E_C_N_O_ = " + bad);
  REQUIRE(w.stampede_plain("check").rc == 0);
  auto first = w.stampede("run --once");
  INFO(first.out);
  CHECK(first.rc == 4);  // the refused customer is in Error
  std::string msg;
  CHECK(w.logged(1, "error", &msg) == 1);
  CHECK(msg == "CPF inválido: cpf '123' deve ter 11 dígitos");
  const auto live = live_keys(w);
  CHECK(w.logged(1, "success") == static_cast<std::int64_t>(live.size() - 1));
  // Every other customer exists once, with its codCli written back and kept.
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(http("GET", base + "/set/clientes"));
  std::map<std::string, std::string> cod_of;  // CRM id -> codCli
  for (auto c : doc["clientes"].get_array()) cod_of[member(c, "id")] = member(c, "codCli");
  const auto props = keys_of(w, "SELECT 'IM' || R_E_C_N_O_ FROM IMOVEIS WHERE D_E_L_E_T_ <> '*'");
  CHECK(cod_of.size() == live.size() - 1 + props.size());
  const std::string k = *std::next(live.begin());
  REQUIRE(cod_of.count(k));
  CHECK(sql_int(w.db, "SELECT CAST(CT_OBS AS INTEGER) FROM CONTRIBUINTES WHERE R_E_C_N_O_ = " + k) ==
        std::stoll(cod_of.at(k)));
  CHECK(logged_returned(w, k, "codCli") == cod_of.at(k));
  CHECK(logged_returned(w, k, "codFil") == "1");

  // An update goes out with id_erp = its codCli: SET updates that customer.
  const auto creates = json_u64(http("GET", base + "/set/_stats"), "/creates");
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'NOVO NOME', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 seconds') WHERE R_E_C_N_O_ = " + k);
  auto second = w.stampede("run --once --services 1");
  INFO(second.out);
  auto st = http("GET", base + "/set/_stats");
  CHECK(json_u64(st, "/creates") == creates);
  CHECK(json_u64(st, "/updates") >= 1);
  simdjson::dom::element after = p.parse(http("GET", base + "/set/clientes"));
  for (auto c : after["clientes"].get_array())
    if (member(c, "id") == k) {
      CHECK(member(c, "codCli") == cod_of.at(k));
      CHECK(member(c["data"], "nome") == "NOVO NOME");
      CHECK(member(c["data"], "id_erp") == cod_of.at(k));
    }
}

TEST_CASE("carol example: OAuth2 client credentials (form and Basic), whole records re-sent on change") {
  ::setenv("CAROL_CLIENT_ID", "protheus", 1);
  ::setenv("CAROL_CLIENT_SECRET", "s3cr3t-carol-demo", 1);
  world w(0.1, {}, {"--auth", "oauth2", "--client-id", "protheus", "--client-secret-env",
                    "CAROL_CLIENT_SECRET"});
  const std::string base = w.target->url();
  use_example(w, "carol", base);
  ::setenv("CAROL_TOKEN_URL", (base + "/oauth/token").c_str(), 1);
  REQUIRE(w.stampede_plain("check").rc == 0);
  auto first = w.stampede("run --once");
  INFO(first.out);
  REQUIRE(first.rc == 0);
  auto st = get_stats(base);
  CHECK(st.services[1].live_keys == live_keys(w).size());
  CHECK(st.services[2].live_keys ==
        keys_of(w, "SELECT R_E_C_N_O_ FROM IMOVEIS WHERE D_E_L_E_T_ <> '*'").size());
  CHECK(first.out.find("s3cr3t-carol-demo") == std::string::npos);

  // A change re-sends the whole mapped record.
  const std::string k = *live_keys(w).begin();
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'NOME NOVO', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 seconds') WHERE R_E_C_N_O_ = " + k);
  auto second = w.stampede("run --once --services 1");
  INFO(second.out);
  REQUIRE(second.rc == 0);
  CHECK(get_stats(base).services[1].updates == 1);
  // The target's record (its /services/ GETs want a token too).
  auto tok = run("curl -s -d 'grant_type=client_credentials&client_id=protheus&client_secret=s3cr3t-carol-demo' " +
                 base + "/oauth/token");
  simdjson::dom::parser tp;
  std::string_view token;
  REQUIRE(tp.parse(tok.out)["access_token"].get(token) == simdjson::SUCCESS);
  auto rec = run("curl -s -H 'Authorization: Bearer " + std::string(token) + "' " + base +
                 "/services/1/keys/" + k);
  INFO(rec.out);
  for (const char* f : {"\"code\":", "\"name\":\"NOME NOVO\"", "\"document\":", "\"active\":"})
    CHECK(rec.out.find(f) != std::string::npos);

  // The same credentials in HTTP Basic (client_secret_basic) are accepted too.
  replace_in_file(w.cfg, "client_auth = \"client_secret_post\"", "client_auth = \"client_secret_basic\"");
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'OUTRO NOME', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-20 seconds') WHERE R_E_C_N_O_ = " + k);
  auto third = w.stampede("run --once --services 1");
  INFO(third.out);
  REQUIRE(third.rc == 0);
  CHECK(get_stats(base).services[1].updates == 2);
}

TEST_CASE("vtex example: refused records resent automatically up to max_attempts, then Cancelled, every attempt in the log") {
  ::setenv("VTEX_RESEND_BACKOFF", "0ms", 1);
  world w(0.1, {}, {"--validate", "email:nonempty"});
  use_example(w, "vtex", w.target->url());
  REQUIRE(w.stampede_plain("check").rc == 0);
  const auto bad = keys_of(w, "SELECT R_E_C_N_O_ FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*' AND "
                              "(CT_EMAIL IS NULL OR TRIM(CT_EMAIL) = '')");
  REQUIRE_FALSE(bad.empty());
  auto first = w.stampede("run --once");
  INFO(first.out);
  CHECK(first.rc == 4);
  CHECK(w.logged(1, "error") == static_cast<std::int64_t>(bad.size()));
  CHECK(w.logged(1, "success") == static_cast<std::int64_t>(live_keys(w).size() - bad.size()));
  // Each later run resends them (backoff 0 here) until the third attempt.
  for (int run = 0; run < 4 && w.logged(1, "cancelled") < static_cast<std::int64_t>(bad.size()); ++run)
    w.stampede("run --once");
  CHECK(w.logged(1, "cancelled") == static_cast<std::int64_t>(bad.size()));
  CHECK(w.logged(1, "error") == 0);
  auto show = w.stampede_plain("log show 1 " + *bad.begin() + " --json");
  INFO(show.out);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(show.out);
  std::uint64_t attempts = 0;
  REQUIRE(doc["entry"]["attempts"].get(attempts) == simdjson::SUCCESS);
  CHECK(attempts == 3);
  std::uint64_t failed_items = 0;
  for (auto it : doc["items"].get_array()) {
    if (member(it, "status") != "error" && member(it, "status") != "cancelled") continue;
    ++failed_items;
    CHECK(member(it, "sent").find("\"code\"") != std::string::npos);   // payloads of failures kept
    CHECK(member(it, "received").find("email") != std::string::npos);  // the target's reason
  }
  CHECK(failed_items == 3);
}

TEST_CASE("target shapes: bad templates make check and run exit 2 with file:line, nothing written") {
  world w(0.05);
  use_example(w, "couchdb", w.target->url() + "/couchdb");
  struct bad_case {
    const char* from;
    const char* to;
    const char* says;
  };
  const bad_case cases[] = {
      {"fields = { _rev = \"{rev}\" }", "fields = { _rev = \"{revision}\" }", "unknown placeholder {revision}"},
      {"returns = { id = \"/id\", rev = \"/rev\" }", "returns = { id = \"/id\" }", "unknown placeholder {rev}"},
      {"[[services]]", "[[targets.couch.setup]]\npath = \"/x\"\nbody = '{nope'\n\n[[services]]",
       "is not valid JSON"},
      {"error_rule = \"first_decides\"", "error_rule = \"first_decides\"\nacknowledge = \"status\"",
       "acknowledge = \"status\" accepts a request by its HTTP status alone"},
  };
  const std::string good = read_file(w.cfg);
  for (const auto& c : cases) {
    INFO(c.says);
    std::ofstream(w.cfg) << good;
    replace_in_file(w.cfg, c.from, c.to);
    auto chk = w.stampede_plain("check");
    CHECK(chk.rc == 2);
    CHECK(chk.out.find(c.says) != std::string::npos);
    CHECK(chk.out.find(w.cfg.string() + ":") != std::string::npos);  // file:line:column
    auto run = w.stampede("run --once");
    CHECK(run.rc == 2);
    CHECK_FALSE(fs::exists(w.state));
  }
}

TEST_CASE("portal-do-gestor example: the INTEGRACAO_PORTAL key, services 1-22 in async lotes, remote ids kept") {
  const std::string key = "demo-key-0123456789";
  ::setenv("INTEGRACAO_PORTAL", key.c_str(), 1);
  world w(0.05, {}, {"--auth", "static", "--static-key-env", "INTEGRACAO_PORTAL"});
  use_example(w, "portal-do-gestor", w.target->url());
  REQUIRE(w.stampede_plain("check").rc == 0);
  auto r = w.stampede("run --once");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto st = get_stats(w.target->url());
  REQUIRE(st.services.size() == 22);
  std::uint64_t delivered = 0;
  for (const auto& [id, s] : st.services) delivered += s.live_keys;
  CHECK(st.services.at(1).live_keys == static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(st.services.at(2).live_keys == static_cast<std::uint64_t>(w.live_rows("IMOVEIS")));
  CHECK(delivered > 1000);
  CHECK(st.duplicates == 0);
  // The remote id of the batch-results step is kept per record.
  auto show = w.stampede_plain("log show 1 " + *live_keys(w).begin() + " --json");
  CHECK(show.out.find("\"remote_id\":\"1-") != std::string::npos);
  // The key never leaves memory.
  CHECK(r.out.find(key) == std::string::npos);
  CHECK(bytes_under(w.state).find(key) == std::string::npos);
  // A wrong key is a target-level credentials failure: nothing burns an attempt.
  ::setenv("INTEGRACAO_PORTAL", "wrong-key-0123456789", 1);
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_NOME = 'X', S_T_A_M_P_ = "
                 "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 seconds') WHERE R_E_C_N_O_ = " +
                     *live_keys(w).begin());
  auto bad = w.stampede("run --once --services 1");
  INFO(bad.out);
  CHECK(bad.rc == 1);
  CHECK(bad.out.find("credentials") != std::string::npos);
  CHECK(w.logged(1, "error") == 0);
  ::setenv("INTEGRACAO_PORTAL", key.c_str(), 1);
}
