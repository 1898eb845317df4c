// examples/demo.toml stays in step with the generator's tables and columns.
// (A line-based reader: the file's own schema is validated by the config tests
// and `stampede check`; here we only cross-check names against services().)
#include "tools/demogen/lib/demogen.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <string>

namespace dg = stampede::demogen;

namespace {

struct svc_lines {
  std::uint32_t id = 0;
  std::string table, schedule;
  std::set<std::string> columns;
};

// `key = "value"` or `key = value` -> value without quotes; "" if not that key.
std::string value_of(const std::string& line, const std::string& key) {
  if (line.rfind(key + " = ", 0) != 0) return "";
  std::string v = line.substr(key.size() + 3);
  const auto hash = v.find("  #");
  if (hash != std::string::npos) v = v.substr(0, hash);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

TEST_CASE("examples/demo.toml maps every column of all 22 services") {
  std::ifstream in(std::string(STAMPEDE_SOURCE_DIR) + "/examples/demo.toml");
  REQUIRE(in);
  std::vector<svc_lines> svcs;
  std::set<std::string> types;
  bool nested = false, constant = false, sections_ok = true;
  std::set<std::string> sections;
  std::string line, source_path, state_dir, base_url, timezone, protocol, auth_kind;
  std::string section;
  while (std::getline(in, line)) {
    if (line.rfind("[", 0) == 0) {
      section = line;
      sections.insert(line);
      if (line == "[[services]]") svcs.emplace_back();
      continue;
    }
    if (section == "[source]" && !value_of(line, "path").empty()) source_path = value_of(line, "path");
    if (section == "[source]" && !value_of(line, "timezone").empty()) timezone = value_of(line, "timezone");
    if (section == "[state]" && !value_of(line, "dir").empty()) state_dir = value_of(line, "dir");
    if (section == "[targets.portal]" && !value_of(line, "base_url").empty())
      base_url = value_of(line, "base_url");
    if (section == "[targets.portal]" && !value_of(line, "protocol").empty())
      protocol = value_of(line, "protocol");
    if (section == "[targets.portal.auth]" && !value_of(line, "kind").empty())
      auth_kind = value_of(line, "kind");
    if (svcs.empty()) continue;
    auto& s = svcs.back();
    if (section == "[[services]]") {
      if (auto v = value_of(line, "id"); !v.empty()) s.id = static_cast<std::uint32_t>(std::stoul(v));
      if (auto v = value_of(line, "table"); !v.empty()) s.table = v;
      if (auto v = value_of(line, "schedule"); !v.empty()) s.schedule = v;
    } else if (section == "[[services.fields]]") {
      if (auto v = value_of(line, "column"); !v.empty()) s.columns.insert(v);
      if (auto v = value_of(line, "type"); !v.empty()) types.insert(v);
      if (value_of(line, "name").find('.') != std::string::npos) nested = true;
      if (!value_of(line, "value").empty()) constant = true;
    } else {
      sections_ok = false;
    }
  }
  CHECK(sections_ok);
  for (const char* sec : {"[source]", "[state]", "[engine]", "[metrics]", "[targets.portal]",
                          "[targets.portal.paths]", "[targets.portal.auth]",
                          "[targets.portal.response]", "[targets.portal.envelope]"})
    CHECK(sections.count(sec));
  CHECK(source_path == "${STAMPEDE_DEMO_DB:-demo/erp.db}");
  CHECK(state_dir == "${STAMPEDE_STATE_DIR:-demo/state}");
  CHECK(base_url == "${STAMPEDE_TARGET_URL:-http://127.0.0.1:8787}");
  CHECK(timezone == "-03:00");
  CHECK(protocol == "async_batch");
  CHECK(auth_kind == "none");
  CHECK(nested);
  CHECK(constant);
  CHECK(types == std::set<std::string>{"string", "integer", "decimal", "date", "datetime", "boolean"});

  REQUIRE(svcs.size() == 22);
  for (std::size_t i = 0; i < svcs.size(); ++i) {
    const auto& s = svcs[i];
    const auto* def = dg::find_service(s.id);
    REQUIRE(def);
    INFO("service " << s.id);
    CHECK(s.id == i + 1);
    CHECK(s.table == def->table);
    std::set<std::string> known;
    for (const auto& c : def->columns) known.insert(c.name);
    for (const auto& c : s.columns) CHECK(known.count(c));  // no column the table lacks
    CHECK(s.columns == known);                             // and every business column mapped
    if (s.id <= 18)
      CHECK(s.schedule == "daily 20:00");
    else
      CHECK(s.schedule.rfind("every 15m", 0) == 0);
  }
}
