// Placeholders of a target's templates: scanned, checked per context (with
// the closest name), expanded in one pass (pipeline/placeholders.hpp).
#include "pipeline/placeholders.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace stampede;

TEST_CASE("placeholders: scan skips escaped and malformed braces", "[placeholders]") {
  auto p = scan_placeholders("/a/{service}/{{literal}}/{not valid}/{rev}{");
  REQUIRE(p.size() == 2);
  CHECK(p[0].name == "service");
  CHECK(p[0].pos == 3);
  CHECK(p[1].name == "rev");
}

TEST_CASE("placeholders: each context knows its names, returned values only per record",
          "[placeholders]") {
  const std::vector<std::string> returned{"rev", "codFil"};
  CHECK(check_template("/services/{service_id}/sync", template_context::batch_path, returned).empty());
  CHECK(check_template("/b/{batch}", template_context::status_path, {}).empty());
  CHECK(check_template("/b/{batch}", template_context::batch_path, {}) ==
        "unknown placeholder {batch} in a batch path (known here: {service}, {service_id}, "
        "{service_name})");
  CHECK(check_template("/link/send/{type}/{key}?r={rev}", template_context::record_path, returned)
            .empty());
  CHECK_THAT(check_template("/x/{tpye}", template_context::record_path, returned),
             Catch::StartsWith("unknown placeholder {tpye} in a per-record path: did you mean {type}?"));
  CHECK(check_template("{servce}", template_context::envelope_type, {}) ==
        "unknown placeholder {servce} in an envelope type: did you mean {service}?");
  const auto why = check_template("/x/{etag}", template_context::record_path, returned);
  CHECK(why.find("unknown placeholder {etag}") == 0);
  CHECK(why.find("add `etag = \"/etag\"` under the target's [response.returns]") != std::string::npos);
  CHECK(check_template("/x/{rev}", template_context::batch_path, returned).find(
            "returned values exist per record") != std::string::npos);
  CHECK(check_template("{rev}", template_context::record_field, returned).empty());
  CHECK_FALSE(check_template("{type}", template_context::envelope_type, {}).empty());
}

TEST_CASE("placeholders: expand in one pass, encode for paths, nullopt without a value",
          "[placeholders]") {
  std::map<std::string, std::string, std::less<>> v{{"key", "a/{op}"}, {"op", "create"}};
  auto lookup = [&](std::string_view n) -> std::optional<std::string_view> {
    auto it = v.find(n);
    if (it == v.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  CHECK(expand("/r/{key}/{op}", lookup, true) == "/r/a%2F%7Bop%7D/create");
  CHECK(expand("{key}", lookup, false) == "a/{op}");  // replaced text is not expanded again
  CHECK(expand("{{key}} {key}", lookup, false) == "{key} a/{op}");
  CHECK_FALSE(expand("/r/{rev}", lookup, true).has_value());
  CHECK(expand("no placeholders {", lookup, true) == "no placeholders {");
}
