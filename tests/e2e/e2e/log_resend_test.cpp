// End to end: `stampede log`, `log show`, `resend`, `checkpoint show|set` and
// `replay` with the real binaries, on a state made by a real `run --once`.
// Records fail because the reference target validates `document` (maxlen=11):
// every company (14-digit CNPJ) of service 1 (taxpayers) is a record error.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

using namespace e2e;

namespace {

const std::vector<std::string> kRejectCompanies{"--validate", "document:maxlen=11"};

// Live taxpayers the target rejects (document longer than 11 after trim).
std::int64_t companies(const world& w) {
  return sql_int(w.db, "SELECT COUNT(*) FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*' AND "
                       "length(rtrim(CT_CPFCNPJ)) > 11");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      out.push_back(line);
  return out;
}

struct log_line {
  std::string key, status, changed_by, message, key_field;
  std::uint64_t attempts = 0, generation = 0;
};

/// Runs one SQL query returning a single text value.
std::string sql_text(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/// A command that must be refused as bad input (exit 2) saying `says`.
void refused(world& w, const std::string& args, const std::string& says) {
  auto r = w.stampede_plain(args);
  INFO(args << ": " << r.out);
  CHECK(r.rc == 2);
  CHECK_THAT(r.out, Catch::Contains(says));
}

// `stampede log --json` output: one object per line.
std::vector<log_line> log_json(world& w, const std::string& args) {
  auto r = w.stampede_plain("log --json " + args);
  INFO(r.out);
  REQUIRE(r.rc == 0);
  std::vector<log_line> out;
  simdjson::dom::parser p;
  for (const auto& line : lines_of(r.out)) {
    simdjson::dom::element e;
    INFO(line);
    REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
    log_line l;
    l.key = std::string(std::string_view(e["key"]));
    l.status = std::string(std::string_view(e["status"]));
    l.changed_by = std::string(std::string_view(e["changed_by"]));
    l.message = std::string(std::string_view(e["message"]));
    l.key_field = std::string(std::string_view(e["key_field"]));
    l.attempts = std::uint64_t(e["attempts"]);
    l.generation = std::uint64_t(e["generation"]);
    out.push_back(l);
  }
  return out;
}

std::uint64_t count_of(world& w, std::uint32_t svc, const char* status) {
  auto st = w.stampede_plain("status --json --services " + std::to_string(svc));
  REQUIRE(st.rc == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(st.out);
  return std::uint64_t(doc["services"].at(0)["counts"][status]);
}

/// `stampede run` (continuous) in the background, holding the state dir.
class worker_process {
public:
  explicit worker_process(const world& w) {
    std::vector<std::string> args{bin("tools/stampede/stampede"), "run", "--services", "1",
                                  "--progress", "never", "-c", w.cfg.string()};
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }
  int stop() {
    int st = 0;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  ~worker_process() { stop(); }

private:
  pid_t pid_ = -1;
};

} // namespace

TEST_CASE("log lists records with their status and message, log show one record") {
  world w(0.2, {}, kRejectCompanies);
  const auto expected = companies(w);
  REQUIRE(expected > 0);
  auto run = w.stampede("run --once --services 1");
  INFO(run.out);
  REQUIRE((run.rc == 0 || run.rc == 4));  // 4: completed with records in Error

  auto errors = log_json(w, "--service 1 --status error --limit 0");
  CHECK(errors.size() == static_cast<std::size_t>(expected));
  for (const auto& e : errors) {
    CHECK(e.key_field == "R_E_C_N_O_");
    CHECK(e.changed_by == "worker");
    CHECK(e.attempts >= 1);
    CHECK_THAT(e.message, Catch::Contains("document"));
  }
  auto success = log_json(w, "--service 1 --status success --limit 0");
  CHECK(success.size() == static_cast<std::size_t>(w.live_rows("CONTRIBUINTES") - expected));

  // Limit: the most recently changed first, and says how many matched.
  auto table = w.stampede_plain("log --service 1 --limit 3");
  INFO(table.out);
  CHECK(table.rc == 0);
  CHECK(lines_of(table.out).size() == 5);  // header, 3 records, footer
  CHECK_THAT(table.out, Catch::Contains("3 of " + std::to_string(w.live_rows("CONTRIBUINTES")) +
                                        " matching records shown"));

  // --key is a point lookup; --since/--until filter on the last change.
  REQUIRE(!errors.empty());
  auto one = log_json(w, "--service 1 --key " + errors[0].key);
  REQUIRE(one.size() == 1);
  CHECK(one[0].status == "error");
  CHECK(log_json(w, "--service 1 --since 1h --limit 0").size() ==
        static_cast<std::size_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(log_json(w, "--service 1 --until 2000-01-01").empty());

  auto show = w.stampede_plain("log show 1 " + errors[0].key + " --json");
  INFO(show.out);
  REQUIRE(show.rc == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(show.out);
  CHECK(std::string_view(doc["entry"]["status"]) == "error");
  CHECK(std::string_view(doc["entry"]["key"]) == errors[0].key);
  CHECK(doc["items"].is_array());
  auto human = w.stampede_plain("log show 1 " + errors[0].key);
  CHECK(human.rc == 0);
  CHECK_THAT(human.out, Catch::Contains("status      error"));

  // Bad input: exit 2 with the flag named.
  refused(w, "log --since tomorrow", "--since 'tomorrow'");
  refused(w, "log --status failed", "--status 'failed'");
  refused(w, "log show 1 no-such-key", "has no record with R_E_C_N_O_ = 'no-such-key'");
  refused(w, "log show 99 1", "service 99 is not in");
}

TEST_CASE("log and checkpoint show on a state dir that does not exist: exit 2, say what to do") {
  world w(0.01);
  for (const char* cmd : {"log", "log show 1 1", "checkpoint show", "resend --service 1 --all",
                          "replay --service 1 --from 2024-01-01 --to 2024-01-02"})
    refused(w, cmd, "no state yet in " + w.state.string());
  CHECK(!fs::exists(w.state));
}

TEST_CASE("resend by key and by status applies at once without a worker") {
  world w(0.2, {}, kRejectCompanies);
  const auto expected = static_cast<std::size_t>(companies(w));
  auto run = w.stampede("run --once --services 1");
  REQUIRE((run.rc == 0 || run.rc == 4));
  auto errors = log_json(w, "--service 1 --status error --limit 0");
  REQUIRE(errors.size() == expected);
  REQUIRE(expected >= 2);

  // Exactly one of --key/--status/--all.
  refused(w, "resend --service 1", "exactly one of --key");
  refused(w, "resend --service 1 --all --key 1", "exactly one of --key");
  refused(w, "resend --service 99 --all", "service 99 is not in");
  refused(w, "resend --service 1 --status success", "--status 'success'");
  refused(w, "resend --service 1 --key no-such-key", "unknown key(s) (no record in service 1): no-such-key");

  const auto key = errors[0].key;
  auto by_key = w.stampede_plain("resend --service 1 --key " + key + " --key no-such-key --by tester");
  INFO(by_key.out);
  CHECK(by_key.rc == 0);
  CHECK_THAT(by_key.out, Catch::Contains("1 record(s) queued"));
  CHECK_THAT(by_key.out, Catch::Contains("no-such-key"));

  auto show = w.stampede_plain("log show 1 " + key + " --json");
  REQUIRE(show.rc == 0);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(show.out);
  CHECK(std::string_view(doc["entry"]["status"]) == "pending");
  CHECK(std::uint64_t(doc["entry"]["attempts"]) == 0);
  CHECK(std::uint64_t(doc["entry"]["generation"]) == errors[0].generation + 1);
  CHECK(std::string_view(doc["entry"]["changed_by"]) == "tester");
  CHECK(std::string_view(doc["resend_due"]) == "now");
  simdjson::dom::array items = doc["items"];
  REQUIRE(items.size() >= 1);
  auto last = items.at(items.size() - 1);
  CHECK(std::string_view(last["message"]) == "resend requested by tester");
  CHECK(std::string_view(last["by"]) == "tester");
  CHECK(std::uint64_t(last["attempt"]) == 0);

  CHECK(count_of(w, 1, "pending") == 1);
  CHECK(count_of(w, 1, "error") == expected - 1);

  auto all = w.stampede_plain("resend --service 1 --all --by tester");
  INFO(all.out);
  CHECK(all.rc == 0);
  CHECK_THAT(all.out, Catch::Contains(std::to_string(expected - 1) + " record(s) queued"));
  CHECK(log_json(w, "--service 1 --status error").empty());
  CHECK(log_json(w, "--service 1 --status pending --limit 0").size() == expected);
  CHECK(count_of(w, 1, "pending") == expected);
  CHECK(count_of(w, 1, "error") == 0);
  auto pending = log_json(w, "--service 1 --status pending --limit 0");
  for (const auto& l : pending)
    CHECK(l.changed_by == "tester");

  // Both requests are in the service's events.
  auto cp = w.stampede_plain("checkpoint show --service 1");
  CHECK_THAT(cp.out, Catch::Contains("resend of 2 keys requested by tester: 1 record(s) queued, "
                                     "1 unknown key(s)"));
  CHECK_THAT(cp.out, Catch::Contains("resend of every Error record requested by tester"));
  CHECK((!fs::exists(w.state / "requests") || fs::is_empty(w.state / "requests")));
}

TEST_CASE("checkpoint show, set (recorded with who asked) and replay") {
  world w(0.02);
  REQUIRE(w.stampede("run --once --services 1,19").rc == 0);
  simdjson::dom::parser p;
  auto show = [&] {
    auto r = w.stampede_plain("checkpoint show --json");
    INFO(r.out);
    REQUIRE(r.rc == 0);
    return std::string(r.out);
  };
  auto text = show();
  simdjson::dom::element doc = p.parse(text);
  simdjson::dom::element svc19;
  for (auto s : doc["services"].get_array())
    if (std::uint64_t(s["id"]) == 19)
      svc19 = s;
  const std::string before = std::string(std::string_view(svc19["checkpoint"]["stamp"])) + " #" +
                             std::to_string(std::int64_t(svc19["checkpoint"]["recno"]));
  REQUIRE(!before.empty());
  CHECK(bool(svc19["initial_load_complete"]));

  refused(w, "checkpoint set --service 19 --to yesterday", "--to: 'yesterday' is not a stamp");
  refused(w, "checkpoint set --service 19", "--to");

  auto set = w.stampede_plain("checkpoint set --service 19 --to \"2000-01-01 00:00:00\" --by tester");
  INFO(set.out);
  CHECK(set.rc == 0);
  CHECK_THAT(set.out, Catch::Contains("checkpoint set from " + before));
  text = show();
  doc = p.parse(text);
  for (auto s : doc["services"].get_array()) {
    if (std::uint64_t(s["id"]) != 19)
      continue;
    CHECK(std::string_view(s["checkpoint"]["stamp"]) == "2000-01-01 00:00:00.000");
    CHECK(std::int64_t(s["checkpoint"]["recno"]) == 0);
    simdjson::dom::array ev = s["events"];
    REQUIRE(ev.size() >= 1);
    auto last = ev.at(ev.size() - 1);
    CHECK(std::string_view(last["by"]) == "tester");
    CHECK(std::string(std::string_view(last["text"])) ==
          "checkpoint set from " + before + " to 2000-01-01 00:00:00.000 #0 by tester");
  }

  refused(w, "replay --service 19 --from \"2024-05-02\" --to \"2024-05-01\"", "is after --to");
  auto rp = w.stampede_plain("replay --service 19 --from 2024-05-01 --to \"2024-05-01 23:59:59.999\" "
                             "--by tester");
  INFO(rp.out);
  CHECK(rp.rc == 0);
  text = show();
  doc = p.parse(text);
  for (auto s : doc["services"].get_array()) {
    if (std::uint64_t(s["id"]) != 19)
      continue;
    simdjson::dom::array replays = s["replays"];
    REQUIRE(replays.size() == 1);
    CHECK(std::string_view(replays.at(0)["from"]) == "2024-05-01 00:00:00.000");
    CHECK(std::string_view(replays.at(0)["to"]) == "2024-05-01 23:59:59.999");
    CHECK(std::string_view(replays.at(0)["by"]) == "tester");
    CHECK(std::string_view(s["checkpoint"]["stamp"]) == "2000-01-01 00:00:00.000");
  }
}

namespace {

/// Waits until `service`'s initial load is complete per `checkpoint show`.
bool wait_loaded(world& w, std::uint32_t service) {
  for (int i = 0; i < 600; ++i) {
    auto r = w.stampede_plain("checkpoint show --service " + std::to_string(service) + " --json");
    if (r.rc == 0 && r.out.find("\"initial_load_complete\":true") != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// Whether process `pid` has `file` open (its /proc/PID/fd links).
bool has_open(pid_t pid, const fs::path& file) {
  std::error_code ec;
  for (auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
    if (fs::read_symlink(fd.path(), ec) == file)
      return true;
  return false;
}

std::size_t queued_requests(const world& w) {
  std::size_t n = 0;
  if (fs::exists(w.state / "requests"))
    for (auto& f : fs::directory_iterator(w.state / "requests"))
      n += f.path().extension() == ".json" ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("resend while a worker holds the state dir is queued, sent by the worker at once, and "
          "never lost when the worker dies before applying it") {
  world w(0.2, {}, kRejectCompanies);
  const auto expected = static_cast<std::size_t>(companies(w));
  REQUIRE(expected > 0);
  {
    // A running worker applies it within moments and sends the records
    // again (new idempotency generation: the target sees new requests,
    // rejected again by its rule), although service 1's slot is daily 20:00.
    worker_process worker(w);
    REQUIRE(wait_loaded(w, 1));
    const auto before = get_stats(w.target->url()).services[1].record_errors;
    REQUIRE(before == expected);
    auto q = w.stampede_plain("resend --service 1 --all --by tester");
    INFO(q.out);
    CHECK(q.rc == 0);
    CHECK_THAT(q.out, Catch::Contains("queued: the running worker applies it before its next cycle"));
    bool sent = false;
    for (int i = 0; i < 150 && !sent; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sent = get_stats(w.target->url()).services[1].record_errors == 2 * expected;
    }
    CHECK(sent);
    CHECK(queued_requests(w) == 0);
    CHECK(worker.stop() == 4);  // records of service 1 are in Error again
  }
  {
    // A worker frozen before it can apply the request, then killed: the
    // request file stays, and the next command holding the store applies it.
    worker_process worker(w);
    bool holds = false;  // RocksDB's LOCK file open: the worker holds the state dir
    for (int i = 0; i < 300 && !holds; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      holds = has_open(worker.pid(), w.state / "LOCK");
    }
    REQUIRE(holds);
    worker.signal(SIGSTOP);
    auto q = w.stampede_plain("resend --service 1 --all --by tester");
    INFO(q.out);
    CHECK(q.rc == 0);
    CHECK_THAT(q.out, Catch::Contains("queued: the running worker applies it before its next cycle"));
    auto cp = w.stampede_plain("checkpoint show --service 1");
    CHECK_THAT(cp.out, Catch::Contains("1 request(s) queued"));
    worker.signal(SIGKILL);
    CHECK(worker.stop() == 128 + SIGKILL);
  }
  CHECK(queued_requests(w) == 1);
  auto errors = log_json(w, "--service 1 --status error --limit 0");
  REQUIRE(errors.size() == expected);
  auto now = w.stampede_plain("resend --service 1 --status cancelled --by tester");
  INFO(now.out);
  CHECK(now.rc == 0);
  CHECK_THAT(now.out, Catch::Contains("applied an earlier queued request: service 1: resend of "
                                      "every Error record requested by tester: " +
                                      std::to_string(expected) + " record(s) queued"));
  CHECK(log_json(w, "--service 1 --status error").empty());
  CHECK(log_json(w, "--service 1 --status pending --limit 0").size() == expected);
}

TEST_CASE("a manual resend and a replay are delivered by the next run --once") {
  world w(0.2, {}, kRejectCompanies);
  const auto companies_n = companies(w);
  const auto taxpayers = w.live_rows("CONTRIBUINTES");
  REQUIRE(w.stampede("run --once --services 1,19").rc == 4);
  CHECK(get_stats(w.target->url()).services[1].creates ==
        static_cast<std::uint64_t>(taxpayers - companies_n));

  // The cause is fixed; the records in Error go out again, whatever the lookback.
  http("POST", w.target->url() + "/faults", "{}");
  REQUIRE(w.stampede_plain("resend --service 1 --all --by tester").rc == 0);
  auto again = w.stampede("run --once --services 1");
  INFO(again.out);
  CHECK(again.rc == 0);
  auto s1 = get_stats(w.target->url()).services[1];
  CHECK(s1.creates == static_cast<std::uint64_t>(taxpayers));
  CHECK(s1.live_keys == static_cast<std::uint64_t>(taxpayers));
  CHECK(log_json(w, "--service 1 --status success --limit 0").size() ==
        static_cast<std::size_t>(taxpayers));

  // Replay a stamp range of service 19: every live row in it is sent again
  // (an update, its content unchanged), the checkpoint stays, the range is done.
  auto stamp_at = [&](int offset) {
    return sql_text(w.db, "SELECT S_T_A_M_P_ FROM CREDITOS_IPTU ORDER BY 1 LIMIT 1 OFFSET " +
                            std::to_string(offset));
  };
  const auto from = stamp_at(100), to = stamp_at(299);
  const auto in_range = sql_int(w.db, "SELECT COUNT(*) FROM CREDITOS_IPTU WHERE D_E_L_E_T_ <> '*' "
                                      "AND S_T_A_M_P_ BETWEEN '" + from + "' AND '" + to + "'");
  REQUIRE(in_range > 0);
  auto before = get_stats(w.target->url()).services[19];
  auto cp_before = w.stampede_plain("checkpoint show --service 19 --json");
  REQUIRE(w.stampede_plain("replay --service 19 --from \"" + from + "\" --to \"" + to + "\"").rc == 0);
  auto rp = w.stampede("run --once --services 19");
  INFO(rp.out);
  CHECK(rp.rc == 0);
  auto after = get_stats(w.target->url()).services[19];
  CHECK(after.updates - before.updates == static_cast<std::uint64_t>(in_range));
  CHECK(after.creates == before.creates);
  auto cp_after = w.stampede_plain("checkpoint show --service 19 --json");
  simdjson::dom::parser p1, p2;
  simdjson::dom::element b = p1.parse(cp_before.out), a = p2.parse(cp_after.out);
  CHECK(std::string_view(a["services"].at(0)["checkpoint"]["stamp"]) ==
        std::string_view(b["services"].at(0)["checkpoint"]["stamp"]));
  CHECK(simdjson::dom::array(a["services"].at(0)["replays"]).size() == 0);
}

TEST_CASE("continuous: resend_schedule sends every Error record as it falls due, between the "
          "service's daily slots, and a manual resend to the running worker goes out at once") {
  // max_attempts = 0 and no lookback: only the resend_schedule can bring the
  // rejected companies back; service 1 runs "daily 20:00", so without waking
  // it the resends would wait for that slot.
  world w(0.2, {{"max_attempts", "0"}, {"lookback", "\"0s\""}}, kRejectCompanies);
  replace_in_file(w.cfg, "name = \"taxpayers\"", "name = \"taxpayers\"\nresend_schedule = \"every 2s\"");
  const auto taxpayers = static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES"));
  const auto rejected = static_cast<std::uint64_t>(companies(w));
  REQUIRE(rejected > 0);
  auto log = w.tmp.path / "worker.log";
  auto c = w.stampede_child({"run", "--services", "1"}, log);
  auto wait_for = [&](auto&& done, int seconds) {
    for (int i = 0; i < seconds * 10 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return done();
  };
  INFO(c->output());
  REQUIRE(wait_for([&] { return count_of(w, 1, "error") == rejected; }, 60));
  // The schedule fires while the rule still rejects them: they stay in Error.
  REQUIRE(wait_for([&] { return c->output().find("resend_schedule:") != std::string::npos; }, 20));
  CHECK(get_stats(w.target->url()).services[1].live_keys == taxpayers - rejected);

  // The platform fixes its rule: the next scheduled resend delivers them all.
  http("POST", w.target->url() + "/faults", "{}");
  CHECK(wait_for([&] { return get_stats(w.target->url()).services[1].live_keys == taxpayers; }, 30));
  CHECK(wait_for([&] { return count_of(w, 1, "error") == 0; }, 10));
  CHECK(log_json(w, "--service 1 --status success --limit 0").size() == taxpayers);

  // A manual resend of one delivered record: the worker wakes the service.
  const auto one = log_json(w, "--service 1 --status success --limit 1");
  REQUIRE(one.size() == 1);
  const auto before = get_stats(w.target->url()).services[1];
  auto q = w.stampede_plain("resend --service 1 --key " + one[0].key + " --by ana");
  INFO(q.out);
  REQUIRE(q.rc == 0);
  CHECK(wait_for([&] {
    const auto s = get_stats(w.target->url()).services[1];
    return s.updates + s.unchanged_updates > before.updates + before.unchanged_updates;
  }, 15));
  CHECK(get_stats(w.target->url()).services[1].duplicates == 0);

  c->signal(SIGTERM);
  REQUIRE(c->wait(std::chrono::seconds(40)));
  CHECK(c->rc() == 0);
}
