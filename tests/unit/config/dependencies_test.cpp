// `after = [...]` in [[services]]: parsed, and bad graphs rejected at the
// `after` element with the path of ids.
#include "helpers.hpp"

using namespace stampede;
using namespace stampede::test;

namespace {

std::string service(int id, const std::string& extra) {
  return "\n[[services]]\nid = " + std::to_string(id) + "\nname = \"s" + std::to_string(id) +
         "\"\ntable = \"SA1010\"\ntarget = \"portal\"\n" + extra +
         "\n[[services.fields]]\nname = \"code\"\ncolumn = \"A1_COD\"\n";
}

} // namespace

TEST_CASE("after lists the services that run first", "[config][dependencies]") {
  const auto text = base_config + service(2, "after = [1]") + service(3, "after = [2, 1]");
  auto c = parse_config(text, "test.toml");
  REQUIRE(c.services.size() == 3);
  CHECK(c.services[0].after.empty());
  CHECK(c.services[1].after == std::vector<std::uint32_t>{1});
  CHECK(c.services[2].after == std::vector<std::uint32_t>{2, 1});
}

TEST_CASE("a dependency cycle is a config error with the path of ids",
          "[config][dependencies]") {
  const auto text = edit(base_config, "target = \"portal\"\n", "target = \"portal\"\nafter = [3]\n") +
                    service(2, "after = [1]") + service(3, "after = [2]");
  auto ds = errors_of(text);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].file == "test.toml");
  CHECK(ds[0].key_path == "services[0].after[0]");
  CHECK(ds[0].line == pos_of(text, "after = [3]").line);
  CHECK(ds[0].column == pos_of(text, "after = [3]").column + 9);
  CHECK(ds[0].message == "service 1: dependency cycle: 1 -> 3 -> 2 -> 1");
  CHECK_THAT(ds[0].hint, Catch::Contains("remove one of these `after` entries"));
  // A service after itself.
  ds = errors_of(base_config + service(2, "after = [2]"));
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].key_path == "services[1].after[0]");
  CHECK(ds[0].message == "service 2: dependency cycle: 2 -> 2");
}

TEST_CASE("after names a service that does not exist", "[config][dependencies]") {
  const auto text = base_config + service(2, "after = [1, 9]");
  auto ds = errors_of(text);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].key_path == "services[1].after[1]");
  CHECK(ds[0].line == pos_of(text, "after = [1, 9]").line);
  CHECK(ds[0].message == "service 2: service 9 is not defined");
  CHECK(ds[0].hint == "defined service ids: 1, 2");
}

TEST_CASE("after: wrong types, ids out of range and duplicates", "[config][dependencies]") {
  auto ds = errors_of(base_config + service(2, "after = 1"));
  CHECK_THAT(diag_for(ds, "services[1].after").message, Catch::Contains("expected an array of service ids"));
  ds = errors_of(base_config + service(2, "after = [\"taxpayers\"]"));
  CHECK_THAT(diag_for(ds, "services[1].after[0]").message,
             Catch::Contains("expected a service id (integer), found a string"));
  ds = errors_of(base_config + service(2, "after = [0]"));
  CHECK(diag_for(ds, "services[1].after[0]").message == "0 is not a service id (1..65535)");
  ds = errors_of(base_config + service(2, "after = [1, 1]"));
  CHECK(diag_for(ds, "services[1].after[1]").message == "service 2: lists service 1 twice");
  ds = errors_of(base_config + service(2, "aftr = [1]"));
  CHECK(diag_for(ds, "services[1].aftr").hint == "did you mean `after`?");
}
