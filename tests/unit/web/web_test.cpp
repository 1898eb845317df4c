// The web monitor's routes (web/pages.hpp) over a real engine and state
// store, and its server (web/server.hpp) over real HTTP.
#include "engine/engine.hpp"
#include "engine/requests.hpp"
#include "web/cycle_history.hpp"
#include "web/server.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace stampede;
namespace fs = std::filesystem;

namespace {

struct temp_world {
  fs::path dir;
  config cfg;
  std::unique_ptr<engine> eng;
  std::vector<const service_config*> svcs;
  temp_world() {
    std::string tmpl = (fs::temp_directory_path() / "stampede-web-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    std::ofstream(dir / "erp.db").put('\0');
    const std::string text = "[source]\nkind = \"sqlite\"\npath = \"" + (dir / "erp.db").string() +
                             "\"\n[state]\ndir = \"" + (dir / "state").string() +
                             "\"\n[targets.portal]\nbase_url = \"http://127.0.0.1:1\"\n"
                             "[[services]]\nid = 1\nname = \"people <&> co\"\ntable = \"SA1010\"\n"
                             "target = \"portal\"\n[[services.fields]]\nname = \"code\"\n"
                             "column = \"A1_COD\"\n"
                             "[[services]]\nid = 2\nname = \"other\"\ntable = \"SA2010\"\n"
                             "target = \"portal\"\n[[services.fields]]\nname = \"code\"\n"
                             "column = \"A2_COD\"\n";
    cfg = parse_config(text, "web_test.toml");
    engine_options eo;
    eo.serve_metrics = false;
    eng = std::make_unique<engine>(cfg, eo);
    for (const auto& s : cfg.services)
      svcs.push_back(&s);
  }
  ~temp_world() {
    eng.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  web_site site(bool payloads = false) {
    web_site s;
    s.eng = eng.get();
    s.services = svcs;
    s.show_payloads = payloads;
    s.version = "stampede test";
    return s;
  }
  /// Service 1: "A1" delivered (remote id r-1), "B<2>" in Error with one
  /// log item whose payloads hold a secret-looking text.
  void seed() {
    ledger_entry ok;
    ok.status = record_status::success;
    ok.remote_id = "r-1";
    ok.attempts = 1;
    ok.updated_ms = ok.created_ms = 1714557600000;
    ledger_entry bad;
    bad.status = record_status::error;
    bad.attempts = 2;
    bad.last_error = "email breaks rule maxlen=22";
    bad.updated_ms = bad.created_ms = 1714557601000;
    bad.items = 1;
    state_changes ch;
    ch.ledger = {{"A1", ok}, {"B<2>", bad}};
    log_item it;
    it.time_ms = bad.updated_ms;
    it.status = record_status::error;
    it.attempt = 2;
    it.http_status = 422;
    it.message = "email breaks rule maxlen=22";
    it.sent = R"({"email":"someone-private@example.com"})";
    it.received = R"({"error":"maxlen"})";
    ch.items.push_back({"B<2>", 0, it});
    service_state st;
    st.counts[static_cast<std::size_t>(record_status::success)] = 1;
    st.counts[static_cast<std::size_t>(record_status::error)] = 1;
    st.created = 1;
    st.failed = 1;
    st.last_run_ms = bad.updated_ms;
    eng->store().apply(1, ch, st, /*sync=*/false);
  }
};

web_response get(const web_site& site, const std::string& path,
                 std::map<std::string, std::string> q = {}) {
  web_request r;
  r.path = path;
  r.query = std::move(q);
  return route(r, site);
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

} // namespace

TEST_CASE("html_escape escapes the five characters that matter in text and attributes", "[web]") {
  CHECK(html_escape(R"(<a href="x">'&'</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(html_escape("plain ção") == "plain ção");
}

TEST_CASE("parse_query decodes percent and plus, keeps malformed escapes, last value wins",
          "[web]") {
  auto q = parse_query("a=1&b=x%20y+z&c=%zz%4&&d&a=2&k=%3Cb%3E");
  CHECK(q["a"] == "2");
  CHECK(q["b"] == "x y z");
  CHECK(q["c"] == "%zz%4");
  CHECK(q.count("d") == 1);
  CHECK(q["d"].empty());
  CHECK(q["k"] == "<b>");
  CHECK(parse_query("").empty());
}

TEST_CASE("overview and /api/status show the stored counts, escaped", "[web]") {
  temp_world w;
  w.seed();
  auto site = w.site();
  auto page = get(site, "/");
  CHECK(page.status == 200);
  CHECK(has(page.content_type, "text/html"));
  CHECK(has(page.body, "data-service=\"1\""));
  CHECK(has(page.body, "data-service=\"2\""));
  CHECK(has(page.body, "people &lt;&amp;&gt; co"));
  CHECK_FALSE(has(page.body, "people <&> co"));
  CHECK(has(page.body, "http-equiv=\"refresh\""));

  auto api = get(site, "/api/status");
  REQUIRE(api.status == 200);
  simdjson::dom::parser p;
  auto doc = p.parse(api.body);
  auto s1 = doc["services"].at(0);
  CHECK(std::uint64_t(s1["id"]) == 1);
  CHECK(std::uint64_t(s1["counts"]["success"]) == 1);
  CHECK(std::uint64_t(s1["counts"]["error"]) == 1);
  CHECK(bool(s1["running"]) == false);
  CHECK(std::string_view(doc["targets"].at(0)["breaker"]) == "closed");
}

TEST_CASE("the log page filters by service and status, the record page shows its items",
          "[web]") {
  temp_world w;
  w.seed();
  auto site = w.site();
  auto errors = get(site, "/log", {{"service", "1"}, {"status", "error"}});
  REQUIRE(errors.status == 200);
  CHECK(has(errors.body, "B&lt;2&gt;"));
  CHECK(has(errors.body, "key=B%3C2%3E"));
  CHECK_FALSE(has(errors.body, ">A1<"));
  CHECK(has(errors.body, "1 records match"));
  auto all = get(site, "/api/log", {{"service", "1"}});
  simdjson::dom::parser p;
  auto doc = p.parse(all.body);
  CHECK(std::uint64_t(doc["matched"]) == 2);

  auto rec = get(site, "/record", {{"service", "1"}, {"key", "B<2>"}});
  REQUIRE(rec.status == 200);
  CHECK(has(rec.body, "id=\"status\">error"));
  CHECK(has(rec.body, "email breaks rule maxlen=22"));
  CHECK(has(rec.body, "bytes, hidden"));
  CHECK_FALSE(has(rec.body, "someone-private@example.com"));
  auto shown = get(w.site(/*payloads=*/true), "/record", {{"service", "1"}, {"key", "B<2>"}});
  CHECK(has(shown.body, "someone-private@example.com"));
  auto rec_json = get(site, "/api/record", {{"service", "1"}, {"key", "A1"}});
  REQUIRE(rec_json.status == 200);
  auto r = p.parse(rec_json.body);
  CHECK(std::string_view(r["record"]["remote_id"]) == "r-1");
}

TEST_CASE("bad parameters are 400 with what to fix, unknown pages 404, writes 405", "[web]") {
  temp_world w;
  auto site = w.site();
  auto bad_status = get(site, "/api/log", {{"status", "bogus"}});
  CHECK(bad_status.status == 400);
  CHECK(has(bad_status.body, "pending, success, error, cancelled"));
  CHECK(get(site, "/log", {{"service", "9"}}).status == 400);
  CHECK(get(site, "/log", {{"since", "yesterday"}}).status == 400);
  CHECK(get(site, "/log", {{"page", "0"}}).status == 400);
  CHECK(get(site, "/record", {{"service", "1"}}).status == 400);
  CHECK(get(site, "/record", {{"service", "1"}, {"key", "nope"}}).status == 404);
  CHECK(get(site, "/nothing").status == 404);
  web_request post;
  post.method = "POST";
  post.path = "/";
  CHECK(route(post, site).status == 405);
}

TEST_CASE("healthz needs a running loop, readyz reports failing services", "[web]") {
  temp_world w;
  auto site = w.site();
  auto h = get(site, "/healthz");
  CHECK(h.status == 503);
  CHECK(has(h.body, "not running"));
  CHECK(get(site, "/readyz").status == 200);
  service_state st;
  st.consecutive_failures = 2;
  st.last_error = "target portal unreachable";
  w.eng->store().commit(2, {}, st, false);
  auto r = get(site, "/readyz");
  CHECK(r.status == 503);
  CHECK(has(r.body, "service 2 other: last cycle failed (2 in a row): target portal unreachable"));
}

namespace {
std::size_t collect(char* p, std::size_t n, std::size_t m, void* out) {
  static_cast<std::string*>(out)->append(p, n * m);
  return n * m;
}
} // namespace

TEST_CASE("the server answers over HTTP with the page's status and type, a taken port is an error",
          "[web]") {
  temp_world w;
  w.seed();
  web_server server(w.site(), "127.0.0.1:0");
  REQUIRE(server.port() > 0);
  auto fetch = [&](const std::string& path, long& code, std::string& type) {
    std::string body;
    CURL* c = curl_easy_init();
    const auto url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    REQUIRE(curl_easy_perform(c) == CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    char* ct = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    type = ct ? ct : "";
    curl_easy_cleanup(c);
    return body;
  };
  long code = 0;
  std::string type;
  auto body = fetch("/log?service=1&status=error", code, type);
  CHECK(code == 200);
  CHECK(has(type, "text/html"));
  CHECK(has(body, "B&lt;2&gt;"));
  body = fetch("/record?service=1&key=B%3C2%3E", code, type);
  CHECK(code == 200);
  CHECK(has(body, "id=\"status\">error"));
  fetch("/healthz", code, type);
  CHECK(code == 503);
  CHECK(type == "application/json");

  try {
    web_server second(w.site(), "127.0.0.1:" + std::to_string(server.port()));
    FAIL("a second server bound the same port");
  } catch (const web_error& e) {
    CHECK(has(e.what(), "cannot serve the web monitor on 127.0.0.1:"));
  }
  CHECK_THROWS_AS(web_server(w.site(), "no-port"), web_error);
}

TEST_CASE("actions need the admin token: off without one, 401 without it, 403 when wrong or "
          "cross-origin, queued in the request inbox with it", "[web]") {
  temp_world w;
  w.seed();
  auto site = w.site();
  web_request r;
  r.method = "POST";
  r.path = "/api/resend";
  r.form = {{"service", "1"}, {"status", "error"}};
  auto off = route(r, site);
  CHECK(off.status == 403);
  CHECK(has(off.body, "actions are off"));
  CHECK(has(get(site, "/").body, "id=\"actions-off\""));

  site.admin_token = "0123456789abcdef-admin";
  CHECK(route(r, site).status == 401);
  r.form["token"] = "0123456789abcdef-wrong";
  CHECK(route(r, site).status == 403);
  r.form["token"] = site.admin_token;
  r.headers = {{"origin", "http://evil.example"}, {"host", "127.0.0.1:9464"}};
  auto cross = route(r, site);
  CHECK(cross.status == 403);
  CHECK(has(cross.body, "cross-origin"));
  CHECK(pending_request_files(w.cfg.state.dir).empty());

  r.headers = {{"origin", "http://127.0.0.1:9464"}, {"host", "127.0.0.1:9464"}};
  auto ok = route(r, site);
  INFO(ok.body);
  CHECK(ok.status == 200);
  auto files = pending_request_files(w.cfg.state.dir);
  REQUIRE(files.size() == 1);
  std::ifstream in(files[0]);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto rq = parse_request(text);
  CHECK(rq.service == 1);
  CHECK(rq.scope == resend_scope::error);
  CHECK(rq.by == "web");

  // The worker's inbox handling applies it: the Error record is queued again.
  auto applied = apply_pending_requests(w.eng->store(), w.cfg.state.dir, w.cfg, {}, false);
  REQUIRE(applied.size() == 1);
  CHECK(applied[0].changed == 1);
  CHECK(w.eng->store().get(1, "B<2>")->status == record_status::pending);

  // One record by key, the token as a bearer header; the form needs no origin.
  web_request k;
  k.method = "POST";
  k.path = "/actions/resend";
  k.form = {{"service", "1"}, {"key", "A1"}};
  k.headers = {{"authorization", "Bearer " + site.admin_token}};
  auto by_key = route(k, site);
  CHECK(by_key.status == 200);
  CHECK(has(by_key.content_type, "text/html"));
  CHECK(pending_request_files(w.cfg.state.dir).size() == 1);
  k.form = {{"service", "1"}, {"token", site.admin_token}};
  CHECK(route(k, site).status == 400);  // neither key nor status

  web_request run;
  run.method = "POST";
  run.path = "/api/run";
  run.form = {{"service", "2"}, {"token", site.admin_token}};
  CHECK(route(run, site).status == 503);  // no schedule loop runs in this test

  auto page = get(site, "/");
  CHECK(has(page.body, "id=\"run-form\""));
  CHECK(has(page.body, "id=\"resend-form\""));
  CHECK_FALSE(has(page.body, site.admin_token));
  CHECK(has(get(site, "/record", {{"service", "1"}, {"key", "A1"}}).body, "id=\"resend-record\""));
}

TEST_CASE("cycle_history keeps the newest cycles per service and folds repeated idle ones",
          "[web]") {
  cycle_history h(3);
  auto cycle = [](std::uint32_t svc, std::uint64_t rows, std::uint64_t created, bool ok = true) {
    cycle_result r;
    r.service = svc;
    r.ok = ok;
    r.code = ok ? errc::none : errc::target_failed;
    r.error = ok ? "" : "target portal: 503";
    r.rows_read = rows;
    r.counts.created = created;
    return r;
  };
  h.add(cycle(1, 100, 100), 1000);
  for (int i = 0; i < 5; ++i)
    h.add(cycle(1, 0, 0), 2000 + i);  // idle: one entry
  auto one = h.recent(1u);
  REQUIRE(one.size() == 2);
  CHECK(one[0].repeats == 5);
  CHECK(one[0].end_ms == 2004);
  CHECK(one[1].counts.created == 100);
  h.add(cycle(1, 10, 0, false), 3000);
  h.add(cycle(1, 5, 5), 4000);
  one = h.recent(1u);
  REQUIRE(one.size() == 3);  // the oldest dropped
  CHECK(one[0].end_ms == 4000);
  CHECK(one[1].outcome == "failed");
  CHECK(one[2].repeats == 5);
  cycle_result skipped;
  skipped.service = 2;
  skipped.skipped = true;
  h.add(skipped, 5000);
  h.add(cycle(2, 1, 1), 3500);
  auto all = h.recent();
  REQUIRE(all.size() == 4);
  CHECK(all[0].end_ms == 4000);
  CHECK(all[1].service == 2);

  cycle_progress pr;
  pr.service = 2;
  pr.initial_load = true;
  pr.rows_expected = 200;
  pr.rows_read = 150;
  pr.records_done = 90;
  h.progress(pr);
  REQUIRE(h.current(2));
  CHECK(h.current(2)->records_done == 90);
  CHECK_FALSE(h.current(1));
  h.add(cycle(2, 200, 200), 6000);  // its end clears the sample
  CHECK_FALSE(h.current(2));
  all = h.recent();

  temp_world w;
  auto site = w.site();
  site.cycles = &h;
  auto page = get(site, "/cycles", {{"service", "1"}});
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "idle ×5"));
  CHECK(has(page.body, "target portal: 503"));
  CHECK_FALSE(has(page.body, "data-service=\"2\""));
  auto api = get(site, "/api/cycles");
  simdjson::dom::parser p;
  auto doc = p.parse(api.body);
  CHECK(doc["cycles"].get_array().size() == 5);
  CHECK(get(site, "/cycles", {{"service", "7"}}).status == 400);
}
