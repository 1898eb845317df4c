// End to end: service dependencies (`after`) through the real binaries and the
// reference target: dependency order, a dependency failing at the target level
// holding its dependents back (log line, summary, status), and a cycle in the
// graph rejected by `check`.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace e2e;

namespace {

/// `after = [...]` for service `id` of the demo config.
void set_after(const fs::path& cfg, int id, const std::string& list) {
  replace_in_file(cfg, "\nid = " + std::to_string(id) + "\n",
              "\nid = " + std::to_string(id) + "\nafter = " + list + "\n");
}

/// Offset of the first log line of service `id`'s cycle in `out` (npos: none).
std::size_t first_line_of(const std::string& out, int id) {
  return out.find("service " + std::to_string(id) + " '");
}

const std::map<std::string, std::string> kFast{{"page_size", "200"},
                                                {"batch_records", "100"},
                                                {"retry_backoff_base", "\"1ms\""},
                                                {"retry_backoff_max", "\"5ms\""}};

} // namespace

TEST_CASE("dependencies: run --once runs each service after the ones it is after, ties by id") {
  world w(0.02, kFast);
  set_after(w.cfg, 1, "[3]");   // taxpayers after service 3
  set_after(w.cfg, 2, "[1]");   // properties after taxpayers
  auto r = w.stampede("run --once --services 1,2,3,4 --log-format human");
  INFO(r.out);
  REQUIRE(r.rc == 0);
  const auto p1 = first_line_of(r.out, 1), p2 = first_line_of(r.out, 2),
             p3 = first_line_of(r.out, 3), p4 = first_line_of(r.out, 4);
  REQUIRE(p1 != std::string::npos);
  REQUIRE(p2 != std::string::npos);
  REQUIRE(p3 != std::string::npos);
  REQUIRE(p4 != std::string::npos);
  // Ready first: 3 and 4 -> 3; then 1 (after 3), then 2 (after 1) and 4 -> 2; 4.
  CHECK(p3 < p1);
  CHECK(p1 < p2);
  CHECK(p2 < p4);
  auto st = get_stats(w.target->url());
  CHECK(st.services[1].creates == static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(st.services[2].creates == static_cast<std::uint64_t>(w.live_rows("IMOVEIS")));
}

TEST_CASE("dependencies: a dependency failing at the target level holds its dependents back "
          "and says why, fixed, everything is delivered") {
  ::setenv("E2E_PORTAL_KEY", "right-key-123", 1);
  ::setenv("E2E_WRONG_KEY", "wrong-key-456", 1);
  world w(0.02, kFast, {"--auth", "static", "--static-key-env", "E2E_PORTAL_KEY"});
  replace_in_file(w.cfg, "[targets.portal.auth]\nkind = \"none\"",
              "[targets.portal.auth]\nkind = \"static\"\nheader = \"Authorization\"\n"
              "value = \"Bearer ${E2E_PORTAL_KEY}\"");
  // A second target on the same server with the wrong key, for service 1 only.
  replace_in_file(w.cfg, "[targets.portal]\n",
              "[targets.wrong]\nbase_url = \"${STAMPEDE_TARGET_URL}\"\n"
              "retry_backoff_base = \"1ms\"\nretry_backoff_max = \"5ms\"\n"
              "[targets.wrong.auth]\nkind = \"static\"\nheader = \"Authorization\"\n"
              "value = \"Bearer ${E2E_WRONG_KEY}\"\n\n[targets.portal]\n");
  replace_in_file(w.cfg, "\nid = 1\nname = \"taxpayers\"\ntable = \"CONTRIBUINTES\"\ntarget = \"portal\"",
              "\nid = 1\nname = \"taxpayers\"\ntable = \"CONTRIBUINTES\"\ntarget = \"wrong\"");
  set_after(w.cfg, 2, "[1]");  // properties after taxpayers
  set_after(w.cfg, 3, "[2]");  // and service 3 after properties: held through 2
  auto chk = w.stampede_plain("check");
  INFO(chk.out);
  REQUIRE(chk.rc == 0);

  auto r = w.stampede("run --once --services 1,2,3,4 --log-format human");
  INFO(r.out);
  CHECK(r.rc == 1);
  CHECK(r.out.find("401") != std::string::npos);
  CHECK(r.out.find("service 2 'properties': not run: waits for service 1 'taxpayers', whose last "
                   "cycle failed: service 1: 1 batch(es) failed at the target: credentials") != std::string::npos);
  CHECK(r.out.find("service 3 '") != std::string::npos);
  CHECK(r.out.find("not run: waits for service 2 'properties', which did not run either: waits "
                   "for service 1 'taxpayers'") != std::string::npos);
  CHECK(r.out.find("NOT RUN") != std::string::npos);
  CHECK(r.out.find("wrong-key-456") == std::string::npos);
  // Nothing of 1, 2 or 3 reached the target; 4, which depends on nothing, went out.
  auto st = get_stats(w.target->url());
  CHECK(st.services[1].creates == 0);
  CHECK(st.services[2].creates == 0);
  CHECK(st.services[3].creates == 0);
  CHECK(st.services[4].creates > 0);
  // status says why 2 and 3 did not run (another process, read-only).
  auto status = w.stampede_plain("status");
  INFO(status.out);
  CHECK(status.rc == 0);
  CHECK(status.out.find("service 1 taxpayers: last cycle failed (1 in a row)") != std::string::npos);
  CHECK(status.out.find("service 2 properties: not run: waits for service 1 'taxpayers'") !=
        std::string::npos);
  CHECK(status.out.find("service 3 ") != std::string::npos);

  // The key fixed: 1 runs first, then 2, then 3; nothing is held any more.
  replace_in_file(w.cfg, "target = \"wrong\"", "target = \"portal\"");
  auto ok = w.stampede("run --once --services 1,2,3,4 --log-format human");
  INFO(ok.out);
  CHECK(ok.rc == 0);
  CHECK(ok.out.find("not run") == std::string::npos);
  st = get_stats(w.target->url());
  CHECK(st.services[1].creates == static_cast<std::uint64_t>(w.live_rows("CONTRIBUINTES")));
  CHECK(st.services[2].creates == static_cast<std::uint64_t>(w.live_rows("IMOVEIS")));
  CHECK(st.services[3].creates > 0);
  CHECK(st.services[1].duplicates + st.services[2].duplicates + st.services[4].duplicates == 0);
  status = w.stampede_plain("status");
  INFO(status.out);
  CHECK(status.out.find("not run") == std::string::npos);
  CHECK(status.out.find("last cycle failed") == std::string::npos);
}

TEST_CASE("dependencies: a cycle in the graph is rejected by check with exit 2 and the path of ids") {
  world w(0.01, kFast);
  set_after(w.cfg, 1, "[3]");
  set_after(w.cfg, 2, "[1]");
  set_after(w.cfg, 3, "[2]");
  const auto text = read_file(w.cfg);
  const auto at = text.find("after = [3]");
  REQUIRE(at != std::string::npos);
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n');
  auto r = w.stampede_plain("check");
  INFO(r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.find(w.cfg.string() + ":" + std::to_string(line) + ":") != std::string::npos);
  CHECK(r.out.find("services[0].after[0]: service 1: dependency cycle: 1 -> 3 -> 2 -> 1") !=
        std::string::npos);
  // run refuses it the same way and writes nothing.
  auto run = w.stampede("run --once");
  CHECK(run.rc == 2);
  CHECK_FALSE(fs::exists(w.state));
  CHECK(get_stats(w.target->url()).requests == 0);
}
