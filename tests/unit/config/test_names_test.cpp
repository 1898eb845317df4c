// The test suite's own hygiene: ctest (catch_discover_tests) splits a test
// name at ';', so a TEST_CASE named "a; b" becomes a ctest entry that matches
// no test and fails with "No test cases matched" far from the cause; and
// ctest passes the name to the test binary as an argument, so a name that
// starts with '-' is read by Catch as an option (a name "-c wins ..." ran the
// whole e2e binary until ctest's timeout). This check names the file and line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// The TEST_CASE names of `text` (adjacent string literals joined), each with
/// its line.
std::vector<std::pair<std::size_t, std::string>> test_names(const std::string& text) {
  std::vector<std::pair<std::size_t, std::string>> out;
  const std::string tag = std::string("TEST_") + "CASE(";  // not a literal match itself
  for (auto at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_'))
      continue;  // e.g. TEMPLATE_TEST_CASE, a macro of our own
    std::size_t i = at + tag.size();
    std::string name;
    for (;;) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
      if (i >= text.size() || text[i] != '"')
        break;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size())
          ++i;
        name += text[i];
      }
      ++i;
    }
    const auto line = static_cast<std::size_t>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
    out.emplace_back(line, name);
  }
  return out;
}

} // namespace

TEST_CASE("test names: the scanner joins adjacent literals and finds a semicolon", "[hygiene]") {
  auto n = test_names("x\nTEST_CASE(\"a, \"\n          \"b; c\", \"[t]\") {}\nTEMPLATE_TEST_CASE(\"z\")");
  REQUIRE(n.size() == 1);
  CHECK(n[0].first == 2);
  CHECK(n[0].second == "a, b; c");
}

TEST_CASE("test names: no test name in tests/ contains a semicolon or starts with a dash",
          "[hygiene]") {
  std::vector<std::string> bad;
  std::size_t seen = 0;
  for (const auto& f : fs::recursive_directory_iterator(fs::path(STAMPEDE_SOURCE_DIR) / "tests")) {
    if (!f.is_regular_file() || f.path().extension() != ".cpp")
      continue;
    std::ifstream in(f.path());
    std::stringstream ss;
    ss << in.rdbuf();
    for (const auto& [line, name] : test_names(ss.str())) {
      ++seen;
      if (name.find(';') != std::string::npos || (!name.empty() && name[0] == '-'))
        bad.push_back(f.path().string() + ":" + std::to_string(line) + ": \"" + name + "\"");
    }
  }
  CHECK(seen > 300);  // the scan really read the suite
  for (const auto& b : bad)
    FAIL_CHECK("a test name contains ';' (ctest splits names there; write ',' instead) or starts "
               "with '-' (Catch reads it as an option): " << b);
}
