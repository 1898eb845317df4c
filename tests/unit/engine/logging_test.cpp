// engine/logging: JSON lines are valid JSON whatever the message holds, the
// level filter works, and log_cycle writes one summary line per cycle plus
// one line per distinct failure reason and the target-level cause.
#include "engine/logging.hpp"

#include "actors/cycle.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>
#include <vector>

using namespace stampede;

namespace {

struct captured {
  std::ostringstream os;
  std::shared_ptr<spdlog::logger> lg;
  captured(spdlog::level::level_enum lvl, log_format fmt) {
    lg = make_logger(std::make_shared<spdlog::sinks::ostream_sink_mt>(os), lvl, fmt);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(os.str());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

// Parses one line strictly (simdjson validates UTF-8 and the grammar).
simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& line) {
  simdjson::dom::element e;
  const auto err = p.parse(line).get(e);
  INFO(line);
  REQUIRE(err == simdjson::SUCCESS);
  REQUIRE(e.is_object());
  return e;
}

std::string str(simdjson::dom::element e, const char* ptr) {
  std::string_view s;
  if (e.at_pointer(ptr).get_string().get(s)) return "<absent>";
  return std::string(s);
}

std::uint64_t num(simdjson::dom::element e, const char* ptr) {
  std::uint64_t v = 0;
  if (e.at_pointer(ptr).get_uint64().get(v)) return ~0ULL;
  return v;
}

}  // namespace

TEST_CASE("JSON log lines are valid JSON for quotes, control chars and invalid UTF-8", "[logging]") {
  captured c(spdlog::level::trace, log_format::json);
  const std::string nasty = std::string("say \"hi\" \\ tab\t nl\n cr\r nul") + '\0' +
                            " bell\x07 latin1 \xE9 lone \x80 ok \xC3\xA9 \xE2\x80\xA8";
  c.lg->info(nasty);
  log_event(*c.lg, spdlog::level::warn, nasty,
            {{"service", 7u}, {"name", std::string_view("cli\xE9")}, {"n", -3}, {"x", 1.5}, {"b", true}});
  const auto lines = c.lines();
  REQUIRE(lines.size() == 2);  // the \n in the message did not start a line
  simdjson::dom::parser p;
  const auto first = parse(p, lines[0]);
  CHECK(str(first, "/level") == "info");
  CHECK(str(first, "/msg") ==
        std::string("say \"hi\" \\ tab\t nl\n cr\r nul") + '\0' +
            " bell\x07 latin1 \xEF\xBF\xBD lone \xEF\xBF\xBD ok \xC3\xA9 \xE2\x80\xA8");
  const std::string ts = str(first, "/ts");
  REQUIRE(ts.size() == 24);  // 2024-05-01T12:00:00.123Z
  CHECK(ts[10] == 'T');
  CHECK(ts.back() == 'Z');
  simdjson::dom::parser p2;
  const auto second = parse(p2, lines[1]);
  CHECK(str(second, "/level") == "warn");
  CHECK(num(second, "/service") == 7);
  CHECK(str(second, "/name") == "cli\xEF\xBF\xBD");
  std::int64_t n = 0;
  CHECK(second["n"].get_int64().get(n) == simdjson::SUCCESS);
  CHECK(n == -3);
  double x = 0;
  CHECK(second["x"].get_double().get(x) == simdjson::SUCCESS);
  CHECK(x == 1.5);
  bool b = false;
  CHECK(second["b"].get_bool().get(b) == simdjson::SUCCESS);
  CHECK(b);
}

TEST_CASE("the level filter drops lines below the configured level", "[logging]") {
  captured c(*parse_log_level("warn"), log_format::json);
  c.lg->trace("t");
  c.lg->debug("d");
  c.lg->info("i");
  log_event(*c.lg, spdlog::level::info, "i2", {{"k", 1}});
  c.lg->warn("w");
  c.lg->error("e");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 2);
  simdjson::dom::parser p;
  CHECK(str(parse(p, lines[0]), "/msg") == "w");
  CHECK(str(parse(p, lines[1]), "/level") == "error");

  captured d(*parse_log_level("debug"), log_format::human);
  d.lg->trace("t");
  d.lg->debug("visible debug");
  REQUIRE(d.lines().size() == 1);
  CHECK(d.lines()[0].find("debug") != std::string::npos);
  CHECK(d.lines()[0].find("visible debug") != std::string::npos);
}

TEST_CASE("log level and format names", "[logging]") {
  CHECK(parse_log_level("trace") == spdlog::level::trace);
  CHECK(parse_log_level("error") == spdlog::level::err);
  CHECK_FALSE(parse_log_level("warning"));
  CHECK_FALSE(parse_log_level("INFO"));
  CHECK(parse_log_format("auto") == log_format::auto_detect);
  CHECK(parse_log_format("json") == log_format::json);
  CHECK(parse_log_format("human") == log_format::human);
  CHECK_FALSE(parse_log_format("text"));
  CHECK_THROWS_AS(setup_logging("loud", log_format::json), std::invalid_argument);
  CHECK_THROWS_AS(set_log_level("verbose"), std::invalid_argument);
}

TEST_CASE("log_cycle: one summary line, each reason with its count, the target cause", "[logging]") {
  captured c(spdlog::level::info, log_format::json);
  cycle_result r;
  r.service = 19;
  r.initial_load = false;
  r.ok = false;
  r.code = errc::target_failed;
  r.seconds = 2.0;
  r.rows_read = 1000;
  r.counts.created = 10;
  r.counts.updated = 3;
  r.counts.failed = 5;
  r.counts.cancelled = 1;
  r.counts.unchanged = 900;
  r.counts.reasons["name: too long"] = 4;
  r.counts.reasons["cpf \"inv\xE1lido\""] = 1;  // Latin-1 byte in a server message
  r.counts.target_failures = 2;
  r.counts.target_error = "HTTP 401 from http://t/services/19/sync: invalid key";
  r.error = "target failed: service 19: " + r.counts.target_error;
  log_cycle(*c.lg, r, "Contribuintes");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 4);  // summary, 2 reasons, target cause (r.error repeats it)
  simdjson::dom::parser p;
  {
    auto s = parse(p, lines[0]);
    CHECK(str(s, "/level") == "error");
    CHECK(str(s, "/event") == "cycle");
    CHECK(num(s, "/service") == 19);
    CHECK(str(s, "/service_name") == "Contribuintes");
    CHECK(str(s, "/kind") == "incremental");
    CHECK(num(s, "/created") == 10);
    CHECK(num(s, "/updated") == 3);
    CHECK(num(s, "/failed") == 5);
    CHECK(num(s, "/cancelled") == 1);
    CHECK(num(s, "/unchanged") == 900);
    double rps = 0;
    CHECK(s["rows_per_second"].get_double().get(rps) == simdjson::SUCCESS);
    CHECK(rps == 500.0);
    CHECK(str(s, "/msg").find("service 19 'Contribuintes': incremental cycle failed") == 0);
  }
  {
    auto s = parse(p, lines[1]);  // most frequent first
    CHECK(str(s, "/reason") == "name: too long");
    CHECK(num(s, "/count") == 4);
    CHECK(str(s, "/level") == "warn");
  }
  {
    auto s = parse(p, lines[2]);
    CHECK(str(s, "/reason") == "cpf \"inv\xEF\xBF\xBDlido\"");
    CHECK(num(s, "/count") == 1);
  }
  {
    auto s = parse(p, lines[3]);
    CHECK(str(s, "/event") == "target_failure");
    CHECK(str(s, "/cause") == r.counts.target_error);
    CHECK(num(s, "/batches") == 2);
  }
}

TEST_CASE("log_cycle: a clean cycle is one info line and many reasons are capped", "[logging]") {
  captured c(spdlog::level::info, log_format::human);
  cycle_result ok;
  ok.service = 3;
  ok.ok = true;
  ok.initial_load = true;
  ok.counts.created = 42;
  ok.rows_read = 42;
  ok.seconds = 0.5;
  log_cycle(*c.lg, ok, "Bairros");
  REQUIRE(c.lines().size() == 1);
  CHECK(c.lines()[0].find("info") != std::string::npos);
  CHECK(c.lines()[0].find("service 3 'Bairros': initial load cycle done: 42 created") !=
        std::string::npos);
  CHECK(c.lines()[0].find("(84 rows/s)") != std::string::npos);

  captured j(spdlog::level::info, log_format::json);
  cycle_result many = ok;
  many.counts.failed = 30;
  for (int i = 0; i < 30; ++i) many.counts.reasons["reason " + std::to_string(100 + i)] = 1;
  log_cycle(*j.lg, many, "Bairros");
  const auto lines = j.lines();
  REQUIRE(lines.size() == 1 + 10 + 1);
  simdjson::dom::parser p;
  auto last = parse(p, lines.back());
  CHECK(str(last, "/event") == "record_failures_more");
  CHECK(num(last, "/count") == 20);
  CHECK(num(last, "/reasons") == 20);
  CHECK(str(parse(p, lines[0]), "/level") == "warn");  // records failed
}

TEST_CASE("log_cycle: a cycle held back by an open transaction says so in a line of its own",
          "[logging]") {
  captured c(spdlog::level::info, log_format::json);
  cycle_result r;
  r.service = 19;
  r.ok = true;
  r.bounds_note = "upper bound held below the oldest open transaction (started "
                  "2026-11-28 01:00:00.000000 UTC)";
  log_cycle(*c.lg, r, "IPTU");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 2);
  simdjson::dom::parser p;
  auto b = parse(p, lines[1]);
  CHECK(str(b, "/event") == "bounds");
  CHECK(str(b, "/level") == "info");
  CHECK(num(b, "/service") == 19);
  CHECK(str(b, "/note") == r.bounds_note);
  CHECK(str(b, "/msg") == "service 19 'IPTU': " + r.bounds_note);
}
