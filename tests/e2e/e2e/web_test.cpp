// The web monitor in a real browser: headless Chromium (Debian's chromium)
// loads the pages a running worker serves, and what it renders is checked
// against `stampede status --json` and `stampede log --json`.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace e2e;

namespace {

/// The page as Chromium rendered it (its DOM after loading).
std::string browse(const std::string& url, const fs::path& profile) {
  auto r = run("(chromium --headless --no-sandbox --disable-gpu --user-data-dir=" + profile.string() +
               " --dump-dom '" + url + "' 2>/dev/null)");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  REQUIRE(r.out.find("</html>") != std::string::npos);
  return r.out;
}

/// Saves a screenshot of `url` as `png` and checks it is a PNG of some size.
void screenshot(const std::string& url, const fs::path& png, const fs::path& profile) {
  fs::create_directories(png.parent_path());
  std::error_code ec;
  fs::remove(png, ec);
  auto r = run("(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
               "--window-size=1500,900 --user-data-dir=" + profile.string() +
               " --screenshot=" + png.string() + " '" + url + "' 2>/dev/null)");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto bytes = read_file(png);
  CHECK(bytes.size() > 10000);
  CHECK(bytes.compare(0, 4, "\x89PNG") == 0);
}

/// The number in the `count-STATUS` cell of service `id`'s overview row.
std::uint64_t overview_count(const std::string& dom, std::uint32_t id, const std::string& status) {
  const auto row_at = dom.find("data-service=\"" + std::to_string(id) + "\"");
  REQUIRE(row_at != std::string::npos);
  const auto row = dom.substr(row_at, dom.find("</tr>", row_at) - row_at);
  std::smatch m;
  const std::regex cell("count-" + status + "\"><a [^>]*>([0-9]+)</a>");
  REQUIRE(std::regex_search(row, m, cell));
  return std::stoull(m[1]);
}

std::uint64_t status_count(world& w, std::uint32_t id, const std::string& status) {
  auto st = w.stampede_plain("status --json --services " + std::to_string(id));
  INFO(st.out);
  REQUIRE(st.rc == 0);
  simdjson::dom::parser p;
  return std::uint64_t(p.parse(st.out)["services"].at(0)["counts"][status]);
}

int http_code(const std::string& method, const std::string& url) {
  auto r = run("curl -s -o /dev/null -w '%{http_code}' -X " + method + " '" + url + "'");
  return std::atoi(r.out.c_str());
}

} // namespace

TEST_CASE("web monitor: Chromium renders the overview, the filtered log and a record, matching "
          "status and log, and the monitor refuses writes") {
  REQUIRE_FALSE(run("command -v chromium").out.empty());  // tools/install-deps.sh installs it
  const std::map<std::string, std::string> set{{"page_size", "200"}, {"batch_records", "100"}};
  world w(0.2, set, {"--validate", "email:maxlen=22"});
  const auto profile = w.tmp.path / "chromium";
  const auto log = w.tmp.path / "worker.log";
  std::unique_ptr<child> worker;
  const auto base = start_worker(w, log, worker);
  CHECK(http_code("GET", base + "/healthz") == 200);
  CHECK(http_code("GET", base + "/readyz") == 200);  // record errors are not a target failure

  // Overview: each service's figures are those of `stampede status --json`.
  const auto overview = browse(base + "/", profile);
  for (std::uint32_t id : {1u, 2u})
    for (const std::string st : {"success", "error", "pending"})
      CHECK(overview_count(overview, id, st) == status_count(w, id, st));
  const auto errors = status_count(w, 1, "error");
  REQUIRE(errors > 0);  // --validate rejected some emails

  // The log filtered to service 1's errors: as many as `stampede log` lists.
  const auto log_url = base + "/log?service=1&status=error";
  const auto listing = browse(log_url, profile);
  CHECK(listing.find(std::to_string(errors) + " records match") != std::string::npos);
  CHECK(count_of(listing, "<td class=\"error\">error</td>") == std::min<std::uint64_t>(errors, 50));
  CHECK(count_of(listing, "<td class=\"success\">") == 0);
  if (errors > 50)  // 50 a page: the next one holds the rest
    CHECK(listing.find("id=\"next\"") != std::string::npos);
  auto cli = w.stampede_plain("log --json --limit 1000000 --service 1 --status error");
  REQUIRE(cli.rc == 0);
  CHECK(count_of(cli.out, "\"status\":\"error\"") == errors);

  // Open the first record of the listing: its page shows the error and the
  // attempt, without the payloads (show_payloads is off).
  std::smatch m;
  REQUIRE(std::regex_search(listing, m, std::regex("class=\"key\" href=\"/record\\?service=1&amp;key=([^\"]+)\"")));
  const std::string key = m[1];
  const auto record = browse(base + "/record?service=1&key=" + key, profile);
  CHECK(record.find("id=\"status\">error") != std::string::npos);
  CHECK(record.find("maxlen") != std::string::npos);
  CHECK(record.find("bytes, hidden") != std::string::npos);
  auto show = w.stampede_plain("log show --json 1 " + key);
  INFO(show.out);
  CHECK(show.rc == 0);
  CHECK(show.out.find("\"status\":\"error\"") != std::string::npos);

  // Cycles: service 2's initial load, with what `status` counts as created.
  const auto cycles = browse(base + "/cycles?service=2", profile);
  std::smatch c;
  REQUIRE(std::regex_search(cycles, c, std::regex("<td>initial load</td><td class=\"success\">done</td>"
                                                  "<td class=\"n\">([0-9]+)</td><td class=\"n\">([0-9]+)</td>")));
  CHECK(std::stoull(c[2]) == status_count(w, 2, "success"));
  CHECK(cycles.find("data-service=\"1\"") == std::string::npos);

  const fs::path shots = fs::path(STAMPEDE_BINARY_DIR) / "web-screenshots";
  screenshot(base + "/", shots / "overview.png", profile);
  screenshot(log_url, shots / "log.png", profile);
  screenshot(base + "/record?service=1&key=" + key, shots / "record.png", profile);
  screenshot(base + "/cycles", shots / "cycles.png", profile);

  // The monitor is read-only: a write is refused.
  CHECK(http_code("POST", base + "/") == 405);
  CHECK(http_code("POST", base + "/log?service=1") == 405);

  worker->signal(SIGTERM);
  REQUIRE(worker->wait(std::chrono::seconds(60)));
  CHECK(worker->rc() == 4);  // stopped cleanly; records of service 1 are in Error
}

TEST_CASE("web monitor: with [web] admin_token, a resend of every Error record and a run now "
          "posted with the token reach the running worker, and without it they are refused") {
  ::setenv("E2E_WEB_TOKEN", "e2e-web-admin-token-0123", 1);
  const std::map<std::string, std::string> set{{"page_size", "200"}, {"batch_records", "100"}};
  world w(0.05, set, {"--validate", "email:maxlen=22"});
  {
    std::ofstream out(w.cfg, std::ios::app);
    out << "\n[web]\nadmin_token = \"${E2E_WEB_TOKEN}\"\n";
  }
  const auto log = w.tmp.path / "worker.log";
  std::unique_ptr<child> worker;
  const auto base = start_worker(w, log, worker);
  auto key_of_error = [&] {
    auto l = w.stampede_plain("log --json --limit 1 --service 1 --status error");
    simdjson::dom::parser p;
    return std::string(std::string_view(p.parse(l.out.substr(0, l.out.find('\n')))["key"]));
  };
  const auto key = key_of_error();

  auto post = [&](const std::string& path, const std::string& form) {
    return run("curl -s -w '\\n%{http_code}' -X POST --data '" + form + "' '" + base + path + "'");
  };
  auto refused = post("/api/resend", "service=1&status=error");
  CHECK(refused.out.substr(refused.out.rfind('\n') + 1) == "401");
  refused = post("/api/resend", "service=1&status=error&token=not-the-token-at-all");
  CHECK(refused.out.substr(refused.out.rfind('\n') + 1) == "403");
  auto ok = post("/api/resend", "service=1&status=error&token=e2e-web-admin-token-0123");
  INFO(ok.out);
  CHECK(ok.out.substr(ok.out.rfind('\n') + 1) == "200");
  // The worker applies the inbox between cycles and resends at once: the
  // record's log gets the action and a new attempt (the target rejects it again).
  bool resent = false;
  for (int i = 0; i < 200 && !resent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto show = w.stampede_plain("log show --json 1 " + key);
    resent = show.out.find("resend requested by web") != std::string::npos &&
             show.out.find("\"attempt\":1") != std::string::npos &&
             count_of(show.out, "breaks rule") >= 2;
  }
  CHECK(resent);
  // Run now: service 2 (daily schedule, idle) runs again: its last run moves.
  auto last_run_2 = [&] {
    simdjson::dom::parser p;
    auto doc = p.parse(http("GET", base + "/api/status"));
    for (auto s : doc["services"].get_array())
      if (std::uint64_t(s["id"]) == 2)
        return std::int64_t(s["last_run_ms"]);
    return std::int64_t{-1};
  };
  const auto before = last_run_2();
  REQUIRE(before > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto run_now = post("/api/run", "service=2&token=e2e-web-admin-token-0123");
  CHECK(run_now.out.substr(run_now.out.rfind('\n') + 1) == "200");
  bool ran = false;
  for (int i = 0; i < 100 && !ran; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ran = last_run_2() > before;
  }
  CHECK(ran);
  CHECK(read_file(log).find("e2e-web-admin-token-0123") == std::string::npos);
  worker->signal(SIGTERM);
  REQUIRE(worker->wait(std::chrono::seconds(60)));
}
