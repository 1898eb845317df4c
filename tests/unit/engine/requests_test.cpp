// The request inbox (engine/requests.hpp): file format, atomic write, apply
// semantics against a real RocksDB store in a temp dir.
#include "engine/requests.hpp"

#include "../config/helpers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace stampede;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "stampede-req-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string state() const { return (path / "state").string(); }
};

// Two services, 19 and 20 (the config tests' minimal config, twice).
config test_config() {
  using stampede::test::edit;
  auto one = edit(stampede::test::base_config, "id = 1\n", "id = 19\n");
  auto svc = one.substr(one.find("[[services]]"));
  return parse_config(one + "\n" + edit(edit(svc, "id = 19", "id = 20"), "taxpayers", "fees"),
                      "test.toml");
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ledger_entry entry(record_status s, std::uint32_t attempts, std::string batch = "") {
  ledger_entry e;
  e.content_hash = 42;
  e.remote_id = s == record_status::success ? "19-1" : "";
  e.status = s;
  e.attempts = attempts;
  e.last_stamp = "2024-05-01 10:00:00.000";
  e.last_op = 1;
  e.updated_ms = 1000;
  e.created_ms = 500;
  e.last_error = s == record_status::error ? "field 'x' breaks rule 'digits'" : "";
  e.generation = 3;
  e.batch_id = std::move(batch);
  e.items = 2;
  return e;
}

// Service 19: a success, two errors, a cancelled, a pending awaiting batch "b1".
void seed(state_store& st) {
  state_changes ch;
  ch.ledger = {{"1", entry(record_status::success, 1)},
               {"2", entry(record_status::error, 2)},
               {"3", entry(record_status::error, 5)},
               {"4", entry(record_status::cancelled, 5)},
               {"5", entry(record_status::pending, 1, "b1")}};
  service_state s;
  s.checkpoint_stamp = "2024-05-01 10:00:00.000";
  s.checkpoint_recno = 5;
  s.counts = {1, 1, 2, 1};
  st.apply(19, ch, s, true);
}

std::vector<std::pair<std::string, std::int64_t>> queue_of(state_store& st, std::uint32_t svc) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  st.scan_resend(svc, [&](std::string_view k, std::int64_t due) {
    out.emplace_back(std::string(k), due);
    return true;
  });
  return out;
}

std::vector<service_event> events_of(state_store& st, std::uint32_t svc) {
  std::vector<service_event> out;
  st.scan_events(svc, [&](const service_event& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

std::vector<std::pair<std::uint32_t, log_item>> items_of(state_store& st, std::uint32_t svc,
                                                         const std::string& key) {
  std::vector<std::pair<std::uint32_t, log_item>> out;
  st.scan_items(svc, key, [&](std::uint32_t no, const log_item& it) {
    out.emplace_back(no, it);
    return true;
  });
  return out;
}

request resend_keys(std::vector<std::string> keys, std::string by = "ana") {
  request r;
  r.kind = request_kind::resend;
  r.service = 19;
  r.by = std::move(by);
  r.created_ms = 1714557600000;
  r.scope = resend_scope::keys;
  r.keys = std::move(keys);
  return r;
}

request checkpoint_to(std::uint32_t service, std::string to, std::int64_t created_ms = 0) {
  request r;
  r.kind = request_kind::checkpoint_set;
  r.service = service;
  r.by = "bo";
  r.to = std::move(to);
  r.created_ms = created_ms;
  return r;
}

request replay_of(std::uint32_t service, std::string from, std::string to) {
  request r;
  r.kind = request_kind::replay;
  r.service = service;
  r.by = "cy";
  r.from = std::move(from);
  r.to = std::move(to);
  return r;
}

// A store in a temp dir holding seed().
struct seeded {
  temp_dir t;
  std::unique_ptr<state_store> store = state_store::open(t.state());
  seeded() { seed(*store); }
};

request resend_status(resend_scope s) {
  auto r = resend_keys({});
  r.scope = s;
  return r;
}

// Delegates to a real store, but apply() can be made to throw (a crash before
// the commit).
class failing_store : public state_store {
public:
  explicit failing_store(state_store& real) : real_(real) {}
  bool fail = true;
  std::vector<std::optional<ledger_entry>>
  get_many(std::uint32_t s, const std::vector<std::string_view>& k) override {
    return real_.get_many(s, k);
  }
  std::optional<ledger_entry> get(std::uint32_t s, std::string_view k) override {
    return real_.get(s, k);
  }
  service_state load_state(std::uint32_t s) override { return real_.load_state(s); }
  void commit(std::uint32_t s, const std::vector<std::pair<std::string, ledger_entry>>& u,
              const service_state& st, bool sync) override {
    if (fail)
      throw store_error(store_errc::io_error, "disk full (test)");
    real_.commit(s, u, st, sync);
  }
  void apply(std::uint32_t s, const state_changes& c, const service_state& st,
             bool sync) override {
    if (fail)
      throw store_error(store_errc::io_error, "disk full (test)");
    real_.apply(s, c, st, sync);
  }
  void scan_items(std::uint32_t s, std::string_view k,
                  const std::function<bool(std::uint32_t, const log_item&)>& fn) override {
    real_.scan_items(s, k, fn);
  }
  void scan_resend(std::uint32_t s,
                   const std::function<bool(std::string_view, std::int64_t)>& fn) override {
    real_.scan_resend(s, fn);
  }
  std::vector<pending_batch> pending_batches(std::uint32_t s) override {
    return real_.pending_batches(s);
  }
  void scan_events(std::uint32_t s, const std::function<bool(const service_event&)>& fn) override {
    real_.scan_events(s, fn);
  }
  void scan(std::uint32_t s,
            const std::function<bool(std::string_view, const ledger_entry&)>& fn) override {
    real_.scan(s, fn);
  }
  std::vector<std::uint32_t> services() override { return real_.services(); }
  void put_target(const target_health& t) override { real_.put_target(t); }
  std::vector<target_health> targets() override { return real_.targets(); }

private:
  state_store& real_;
};

} // namespace

TEST_CASE("request files round trip for every kind", "[requests]") {
  auto keys = resend_keys({"7", "a \"quoted\"\nkey", ""});
  CHECK(parse_request(to_json(keys)) == keys);
  for (auto s : {resend_scope::error, resend_scope::cancelled}) {
    auto r = resend_status(s);
    CHECK(parse_request(to_json(r)) == r);
  }
  auto cp = checkpoint_to(20, "2024-05-01 00:00:00.000");
  cp.recno = 9;
  CHECK(parse_request(to_json(cp)) == cp);
  auto rp = replay_of(65535, "2024-05-01 00:00:00.000", "2024-05-02 00:00:00.000");
  CHECK(parse_request(to_json(rp)) == rp);
  CHECK(to_json(resend_status(resend_scope::error)).find("\"status\":\"error\"") !=
        std::string::npos);
}

TEST_CASE("malformed request files are refused with the field named", "[requests]") {
  auto msg = [](std::string_view text) -> std::string {
    try {
      parse_request(text);
    } catch (const request_error& e) {
      return e.what();
    }
    return "(parsed)";
  };
  CHECK_THAT(msg("{\"version\":1,\"kind\":\"resend\",\"service\":19,\"by\":\"a\""),
             Catch::Contains("not JSON"));
  CHECK_THAT(msg("[1]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(msg(R"({"version":2,"kind":"resend","service":19,"by":"a","keys":["1"]})"),
             Catch::Contains("version"));
  CHECK_THAT(msg(R"({"version":1,"kind":"nuke","service":19,"by":"a"})"),
             Catch::Contains("unknown kind 'nuke'"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":0,"by":"a","keys":["1"]})"),
             Catch::Contains("out of range"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":19,"keys":["1"]})"),
             Catch::Contains("missing field 'by'"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":19,"by":"a","keys":["1"],"status":"error"})"),
             Catch::Contains("exactly one of 'keys' and 'status'"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":19,"by":"a"})"),
             Catch::Contains("exactly one of 'keys' and 'status'"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":19,"by":"a","keys":[1]})"),
             Catch::Contains("array of strings"));
  CHECK_THAT(msg(R"({"version":1,"kind":"resend","service":19,"by":"a","status":"success"})"),
             Catch::Contains("error or cancelled"));
  CHECK_THAT(msg(R"({"version":1,"kind":"replay","service":19,"by":"a","from":"x"})"),
             Catch::Contains("missing field 'to'"));
}

TEST_CASE("validate checks the service and normalizes stamps", "[requests]") {
  auto cfg = test_config();
  auto r = replay_of(19, "2024-05-01", "2024-05-01 12:30:00.5");
  validate(r, cfg);
  CHECK(r.from == "2024-05-01 00:00:00.000");
  CHECK(r.to == "2024-05-01 12:30:00.500");
  // Microseconds (PostgreSQL stamps) are kept: cut to milliseconds, a row
  // stamped exactly --to fell outside its own replay range.
  auto us = replay_of(19, "2024-05-01 12:30:00.123", "2024-05-01 12:30:00.123456");
  validate(us, cfg);
  CHECK(us.from == "2024-05-01 12:30:00.123");
  CHECK(us.to == "2024-05-01 12:30:00.123456");
  auto same = replay_of(19, "2024-05-01 12:30:00.123000", "2024-05-01 12:30:00.123");
  validate(same, cfg);  // one instant in 6 and 3 digits: not an empty range
  CHECK(same.to == "2024-05-01 12:30:00.123");

  auto fails = [&](request x) -> std::string {
    try {
      validate(x, cfg);
    } catch (const request_error& e) {
      return e.what();
    }
    return "(valid)";
  };
  auto other = r;
  other.service = 21;
  CHECK_THAT(fails(other), Catch::Contains("service 21 is not in test.toml (configured: 19,20)"));
  auto swapped = r;
  std::swap(swapped.from, swapped.to);
  CHECK_THAT(fails(swapped), Catch::Contains("is after --to"));
  auto cp = checkpoint_to(19, "01/05/2024");
  CHECK_THAT(fails(cp), Catch::Contains("--to: '01/05/2024' is not a stamp"));
  cp.to = "2024-02-30 00:00:00";
  CHECK_THAT(fails(cp), Catch::Contains("is not a stamp"));
  CHECK_THAT(fails(resend_keys({})), Catch::Contains("--key"));
  CHECK_THAT(fails(resend_keys({"1"}, "")), Catch::Contains("--by"));
}

TEST_CASE("write_request is atomic and names sort by time", "[requests]") {
  temp_dir t;
  auto a = resend_keys({"1"});
  auto b = resend_status(resend_scope::error);
  b.created_ms = a.created_ms + 1;
  auto pb = write_request(t.state(), b);  // written first, but later in time
  auto pa = write_request(t.state(), a);
  // A temp file left by a crash between create and rename is never applied.
  std::ofstream(fs::path(requests_dir(t.state())) / ".tmp-20240501T100000000Z-dead.json") << "{";
  auto files = pending_request_files(t.state());
  REQUIRE(files == std::vector<std::string>{pa, pb});
  CHECK(fs::path(pa).filename().string().rfind("20240501T100000000Z-", 0) == 0);
  CHECK(parse_request(slurp(pa)) == a);
  CHECK(parse_request(slurp(pb)) == b);
  std::size_t entries = 0;
  for (auto& e : fs::directory_iterator(requests_dir(t.state())))
    entries += e.path().filename().string().rfind(".tmp-", 0) == 0 ? 0 : 1;
  CHECK(entries == 2);  // nothing but the two requests
  // Same millisecond: still two distinct files.
  auto pc = write_request(t.state(), a);
  CHECK(pc != pa);
  CHECK(pending_request_files(t.state()).size() == 3);
}

TEST_CASE("resend by status: pending, attempts 0, new generation, queue, counts, event",
          "[requests]") {
  seeded db;
  auto& store = db.store;
  auto a = apply_request(*store, resend_status(resend_scope::error), 7000);
  CHECK(a.changed == 2);
  CHECK_THAT(a.summary, Catch::Contains("2 record(s) queued"));
  for (std::string k : {"2", "3"}) {
    auto e = store->get(19, k);
    REQUIRE(e);
    CHECK(e->status == record_status::pending);
    CHECK(e->attempts == 0);
    CHECK(e->generation == 4);
    CHECK(e->changed_by == "ana");
    CHECK(e->updated_ms == 7000);
    CHECK(e->items == 3);
    CHECK(e->content_hash == 42);  // kept: the worker decides what to send
    CHECK(e->created_ms == 500);
    auto items = items_of(*store, 19, k);
    REQUIRE(items.size() == 1);
    CHECK(items[0].first == 2);  // the entry had 2 items: this is item no 2
    CHECK(items[0].second.attempt == 0);
    CHECK(items[0].second.status == record_status::pending);
    CHECK(items[0].second.message == "resend requested by ana");
    CHECK(items[0].second.by == "ana");
    CHECK(items[0].second.time_ms == 7000);
  }
  CHECK(store->get(19, "1")->status == record_status::success);
  CHECK(store->get(19, "4")->status == record_status::cancelled);
  CHECK(store->get(19, "4")->generation == 3);
  CHECK(queue_of(*store, 19) ==
        std::vector<std::pair<std::string, std::int64_t>>{{"2", 0}, {"3", 0}});
  auto st = store->load_state(19);
  CHECK(st.counts == std::array<std::uint64_t, 4>{3, 1, 0, 1});
  CHECK(st.checkpoint_stamp == "2024-05-01 10:00:00.000");  // untouched
  auto ev = events_of(*store, 19);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].by == "ana");
  CHECK(ev[0].time_ms == 7000);
  CHECK_THAT(ev[0].text, Catch::Contains("every Error record"));

  // Cancelled ones are a separate choice.
  auto c = apply_request(*store, resend_status(resend_scope::cancelled), 8000);
  CHECK(c.changed == 1);
  CHECK(store->get(19, "4")->status == record_status::pending);
  CHECK(store->load_state(19).counts == std::array<std::uint64_t, 4>{4, 1, 0, 0});
  // Nothing left in Error: a second resend changes nothing but is recorded.
  auto again = apply_request(*store, resend_status(resend_scope::error), 9000);
  CHECK(again.changed == 0);
  CHECK(events_of(*store, 19).size() == 3);
}

TEST_CASE("resend by key: unknown and in-flight keys are reported, the others applied",
          "[requests]") {
  seeded db;
  auto& store = db.store;
  auto a = apply_request(*store, resend_keys({"1", "99", "5", "1"}), 7000);
  CHECK(a.changed == 1);  // "1" once, though given twice
  CHECK(a.unknown_keys == std::vector<std::string>{"99"});
  CHECK(a.in_flight_keys == std::vector<std::string>{"5"});
  auto e = store->get(19, "1");
  CHECK(e->status == record_status::pending);
  CHECK(e->remote_id == "19-1");  // kept: the resend is an update
  CHECK(store->get(19, "5")->batch_id == "b1");
  CHECK(!store->get(19, "99"));
  CHECK(queue_of(*store, 19) == std::vector<std::pair<std::string, std::int64_t>>{{"1", 0}});
  CHECK(store->load_state(19).counts == std::array<std::uint64_t, 4>{2, 0, 2, 1});
}

TEST_CASE("a large resend commits in chunks with the same result", "[requests]") {
  seeded db;
  auto& store = db.store;
  auto a = apply_request(*store, resend_status(resend_scope::error), 7000, /*apply_chunk=*/1);
  CHECK(a.changed == 2);
  CHECK(store->load_state(19).counts == std::array<std::uint64_t, 4>{3, 1, 0, 1});
  CHECK(queue_of(*store, 19).size() == 2);
  CHECK(events_of(*store, 19).size() == 1);
}

TEST_CASE("checkpoint_set and replay change the service state and leave an event",
          "[requests]") {
  seeded db;
  auto& store = db.store;
  auto cp = checkpoint_to(19, "2024-04-01 00:00:00.000");
  auto a = apply_request(*store, cp, 7000);
  auto st = store->load_state(19);
  CHECK(st.checkpoint_stamp == "2024-04-01 00:00:00.000");
  CHECK(st.checkpoint_recno == 0);
  CHECK(st.counts == std::array<std::uint64_t, 4>{1, 1, 2, 1});
  auto ev = events_of(*store, 19);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].text ==
        "checkpoint set from 2024-05-01 10:00:00.000 #5 to 2024-04-01 00:00:00.000 #0 by bo");
  CHECK(a.summary == "service 19: " + ev[0].text);

  auto rp = replay_of(19, "2024-01-01 00:00:00.000", "2024-01-31 23:59:59.999");
  apply_request(*store, rp, 1714557600123);
  apply_request(*store, rp, 1714557600456);  // same second: still a new generation
  st = store->load_state(19);
  REQUIRE(st.replays.size() == 2);
  CHECK(st.replays[0] == replay_range{rp.from, rp.to, 1714557600, "cy"});
  CHECK(st.replays[1].generation == 1714557601);
  CHECK(st.checkpoint_stamp == "2024-04-01 00:00:00.000");  // a replay never moves it
  CHECK(events_of(*store, 19).size() == 3);
}

TEST_CASE("apply_pending_requests: in order, deleted after commit, malformed rejected",
          "[requests]") {
  seeded db;
  auto& t = db.t;
  auto& store = db.store;
  auto cfg = test_config();
  auto r1 = resend_status(resend_scope::error);
  r1.created_ms = 1714557600000;
  auto cp = checkpoint_to(19, "2024-04-01", 1714557600002);  // normalized on apply
  // Service 20: left alone when only 19 is applied.
  auto other = checkpoint_to(20, "2024-04-02", 1714557600003);
  write_request(t.state(), r1);
  write_request(t.state(), cp);
  auto p20 = write_request(t.state(), other);
  auto dir = fs::path(requests_dir(t.state()));
  std::ofstream(dir / "20240501T100000001Z-bad.json") << "{\"version\":1,\"kind\":";
  request unknown_svc = cp;
  unknown_svc.service = 21;
  unknown_svc.created_ms = 1714557600004;
  auto p21 = write_request(t.state(), unknown_svc);

  auto applied = apply_pending_requests(*store, t.state(), cfg, 19u);
  REQUIRE(applied.size() == 3);
  CHECK(!applied[0].rejected);
  CHECK(applied[0].changed == 2);
  CHECK(applied[1].rejected);
  CHECK_THAT(applied[1].error, Catch::Contains("not JSON"));
  CHECK(!applied[2].rejected);
  CHECK(applied[2].req.to == "2024-04-01 00:00:00.000");
  CHECK(store->load_state(19).checkpoint_stamp == "2024-04-01 00:00:00.000");
  CHECK(fs::exists(dir / "rejected" / "20240501T100000001Z-bad.json"));
  CHECK_THAT(slurp(dir / "rejected" / "20240501T100000001Z-bad.json.reason"),
             Catch::Contains("not JSON"));
  CHECK(pending_request_files(t.state()) == std::vector<std::string>{p20, p21});

  // Everything else: 20 applied, 21 (not configured) rejected, never dropped.
  applied = apply_pending_requests(*store, t.state(), cfg);
  REQUIRE(applied.size() == 2);
  CHECK(!applied[0].rejected);
  CHECK(store->load_state(20).checkpoint_stamp == "2024-04-02 00:00:00.000");
  CHECK(applied[1].rejected);
  CHECK_THAT(applied[1].error, Catch::Contains("service 21 is not in"));
  CHECK(fs::exists(dir / "rejected" / fs::path(p21).filename()));
  CHECK(pending_request_files(t.state()).empty());
}

TEST_CASE("a request survives when the commit fails, and is applied later", "[requests]") {
  seeded db;
  auto& t = db.t;
  auto& store = db.store;
  auto cfg = test_config();
  auto path = write_request(t.state(), resend_keys({"2"}));
  failing_store broken(*store);
  CHECK_THROWS_AS(apply_pending_requests(broken, t.state(), cfg), store_error);
  CHECK(fs::exists(path));
  CHECK(store->get(19, "2")->status == record_status::error);
  CHECK(queue_of(*store, 19).empty());

  auto applied = apply_pending_requests(*store, t.state(), cfg);
  REQUIRE(applied.size() == 1);
  CHECK(applied[0].changed == 1);
  CHECK(!fs::exists(path));
  CHECK(store->get(19, "2")->status == record_status::pending);
}

TEST_CASE("submit_request applies at once, or queues while the store is held", "[requests]") {
  temp_dir t;
  auto cfg = test_config();
  {
    auto store = state_store::open(t.state());
    seed(*store);
    // The store is held (as by a running worker): the request is queued.
    auto q = submit_request(t.state(), cfg, resend_keys({"2"}));
    CHECK(q.queued);
    CHECK(!q.mine);
    CHECK(pending_request_files(t.state()) == std::vector<std::string>{q.file});
    CHECK(store->get(19, "2")->status == record_status::error);
  }
  // No worker: applied now, the queued (older) one first.
  auto later = resend_keys({"3"});
  later.created_ms += 1;
  auto d = submit_request(t.state(), cfg, later);
  CHECK(!d.queued);
  REQUIRE(d.mine);
  CHECK(d.mine->changed == 1);
  REQUIRE(d.others.size() == 1);
  CHECK(d.others[0].req.keys == std::vector<std::string>{"2"});
  CHECK(pending_request_files(t.state()).empty());
  auto store = state_store::open(t.state(), true);
  CHECK(store->get(19, "2")->status == record_status::pending);
  CHECK(store->get(19, "3")->status == record_status::pending);
  auto ev = events_of(*store, 19);
  REQUIRE(ev.size() == 2);
  CHECK_THAT(ev[0].text, Catch::Contains("key 2"));
  CHECK_THAT(ev[1].text, Catch::Contains("key 3"));
  // Invalid requests are refused before anything is written.
  auto bad = resend_keys({"1"});
  bad.service = 21;
  CHECK_THROWS_AS(submit_request(t.state(), cfg, bad), request_error);
  CHECK(pending_request_files(t.state()).empty());
}

TEST_CASE("resend_schedule: the first tick plans, a due tick queues every Error record, then "
          "plans the next", "[requests]") {
  temp_dir d;
  auto cfg = test_config();
  auto& svc = cfg.services.at(0);  // 19
  REQUIRE(svc.id == 19);
  svc.resend_when = parse_schedule("every 1h");
  auto st = state_store::open(d.state());
  seed(*st);
  resend_scheduler rs(cfg);
  const std::int64_t hour = 3600 * 1000;
  const std::int64_t t0 = 100 * hour + 10 * 60 * 1000;  // 10 minutes past an hour
  CHECK(rs.tick(*st, t0).empty());                      // plans 101h
  CHECK(queue_of(*st, 19).empty());
  CHECK(rs.tick(*st, 101 * hour - 1).empty());          // not yet due
  auto a = rs.tick(*st, 101 * hour);
  REQUIRE(a.size() == 1);
  CHECK(a[0].req.service == 19);
  CHECK(a[0].changed == 2);                             // the two Error records, not Cancelled
  auto q = queue_of(*st, 19);
  REQUIRE(q.size() == 2);
  CHECK(q[0].first == "2");
  CHECK(q[1].first == "3");
  auto e2 = st->get(19, "2");
  REQUIRE(e2);
  CHECK(e2->status == record_status::pending);
  CHECK(e2->attempts == 0);
  CHECK(e2->changed_by == "resend_schedule");
  CHECK(st->get(19, "4")->status == record_status::cancelled);
  // Planned again for 102h: nothing more until then; service 20 has no schedule.
  CHECK(rs.tick(*st, 101 * hour + 1000).empty());
  CHECK(rs.tick(*st, 102 * hour).size() == 1);
}
