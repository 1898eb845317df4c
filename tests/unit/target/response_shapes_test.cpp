// Response shapes (issue 8): blank error values are no errors, the two error
// rules, several returned values per record, results at the root.
#include "target/response_map.hpp"
#include "target_support.hpp"

#include <catch2/catch.hpp>

using namespace stampede;
using stampede::test::batch_of;

namespace {


response_mapping senior_set() {
  response_mapping m;
  m.results = "/retornosClientes";
  m.key_field = "";  // positional
  m.id_field = "";
  m.returns = {{"codCli", "/codCli"}, {"codFil", "/codFil"}};
  m.error_fields = {"/erro", "/mensagem"};
  return m;
}

}  // namespace

TEST_CASE("response shapes: an empty or blank error is no error", "[response_shapes]") {
  auto b = batch_of({"1", "2", "3"});
  auto m = senior_set();
  auto r = map_batch_response(
      R"({"retornosClientes":[{"codCli":101,"codFil":"01","erro":""},)"
      R"({"codCli":102,"codFil":"01","erro":"  "},)"
      R"({"codCli":null,"erro":"CNPJ invalido"}]})",
      m, b);
  REQUIRE(r.err == map_errc::ok);
  CHECK(r.outcomes[0].ok);
  CHECK(r.outcomes[0].returned ==
        std::vector<std::pair<std::string, std::string>>{{"codCli", "101"}, {"codFil", "01"}});
  CHECK(r.outcomes[0].remote_id.empty());
  CHECK(r.outcomes[1].ok);
  CHECK_FALSE(r.outcomes[2].ok);
  CHECK(r.outcomes[2].error == "CNPJ invalido");
}

TEST_CASE("response shapes: first_present vs first_decides", "[response_shapes]") {
  auto b = batch_of({"1", "2"});
  auto m = senior_set();
  const char* body =
      R"({"retornosClientes":[{"erro":"","mensagem":"aviso: cadastro antigo"},)"
      R"({"erro":"duplicado","mensagem":"cliente ja existe"}]})";
  // first_present: the first listed field that is present decides, so the
  // warning in `mensagem` fails record 1.
  auto p = map_batch_response(body, m, b);
  CHECK_FALSE(p.outcomes[0].ok);
  CHECK(p.outcomes[0].error == "aviso: cadastro antigo");
  CHECK(p.outcomes[1].error == "duplicado");
  // first_decides (SET): only `erro` decides; `mensagem` is its detail.
  m.rule = error_rule::first_decides;
  auto d = map_batch_response(body, m, b);
  CHECK(d.outcomes[0].ok);
  CHECK_FALSE(d.outcomes[1].ok);
  CHECK(d.outcomes[1].error == "duplicado: cliente ja existe");
}

TEST_CASE("response shapes: CouchDB results at the root with id and rev", "[response_shapes]") {
  auto b = batch_of({"a", "b"});
  response_mapping m;
  m.results = "";
  m.key_field = "id";
  m.id_field = "/id";
  m.returns = {{"rev", "/rev"}};
  m.error_fields = {"/error", "/reason"};
  m.rule = error_rule::first_decides;
  auto r = map_batch_response(
      R"([{"id":"b","error":"conflict","reason":"Document update conflict."},{"ok":true,"id":"a","rev":"2-x"}])",
      m, b);
  REQUIRE(r.err == map_errc::ok);
  CHECK(r.outcomes[0].ok);
  CHECK(r.outcomes[0].remote_id == "a");
  CHECK(r.outcomes[0].returned == std::vector<std::pair<std::string, std::string>>{{"rev", "2-x"}});
  CHECK_FALSE(r.outcomes[1].ok);
  CHECK(r.outcomes[1].error == "conflict: Document update conflict.");
  CHECK_FALSE(r.outcomes[1].retryable);
}

TEST_CASE("response shapes: a single answer keeps its returned values, no id pointer means no id",
          "[response_shapes]") {
  response_mapping m;
  m.id_field = "";
  m.returns = {{"etag", "/meta/etag"}};
  auto o = map_single_response(R"({"id":"ignored","meta":{"etag":"W/1"}})", m);
  CHECK(o.ok);
  CHECK(o.remote_id.empty());
  CHECK(o.returned == std::vector<std::pair<std::string, std::string>>{{"etag", "W/1"}});
}
