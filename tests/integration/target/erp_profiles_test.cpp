// stampede-target ERP profiles over real HTTP: Smartlink Behavior Sharing
// under /link/ and Senior's GravarClientes (CRM SET integration) under /set/.
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {

const std::string all_subs =
    R"("subscriptions":["FinLanIncDataCommand","FinLanAltDataCommand","FinXCXIncDataCommand",)"
    R"("FinXCXAltDataCommand","CtbLanIncDataCommand","CtbLanAltDataCommand"])";

json post_ok(const running& t, const std::string& path, const std::string& body) {
  auto r = http("POST", t.url(path), body);
  INFO(path << " -> " << r.body);
  REQUIRE(r.status == 200);
  return json(r.body);
}

json get_ok(const running& t, const std::string& path) {
  auto r = http("GET", t.url(path));
  INFO(path << " -> " << r.body);
  REQUIRE(r.status == 200);
  return json(r.body);
}

// A Smartlink message of `type` for tenant T1 with `data`.
std::string message(const std::string& type, const std::string& data, const std::string& tenant = "T1") {
  return R"({"header":{"type":")" + type + R"(","tenantId":")" + tenant + R"("},"data":)" + data + "}";
}

reply send(const running& t, const std::string& path_type, const std::string& body) {
  return http("POST", t.url("/link/send/" + path_type + "/LinkProxy"), body);
}

// Sends and expects the 200 {"id":..} acceptance; returns the message id.
std::string send_ok(const running& t, const std::string& type, const std::string& data) {
  auto r = send(t, type, message(type, data));
  INFO(r.body);
  REQUIRE(r.status == 200);
  json j(r.body);
  const std::string id = j.str("/id");
  CHECK(id.size() == 36);
  CHECK(id[14] == '4');
  return id;
}

}  // namespace

TEST_CASE("smartlink setup: stored per tenant, counted, changed only when its content changes",
          "[target][link]") {
  running t;
  json a = post_ok(t, "/link/setup", R"({"tenantId":"T1",)" + all_subs + R"(,"requeueCountMax":10})");
  CHECK(a.str("/tenantId") == "T1");
  CHECK(a.at("/subscriptions").get_array().size() == 6);
  CHECK(a.str("/subscriptions/0") == "CtbLanAltDataCommand");  // sorted
  CHECK(a.num("/requeueCountMax") == 10);
  CHECK(a.str("/keyField") == "IdLan");
  CHECK(a.num("/setups") == 1);
  CHECK(a.at("/changed").get_bool().value());
  // The same subscriptions in another order: a setup, not a change.
  json b = post_ok(t, "/link/setup",
                   R"({"requeueCountMax":10,"tenantId":"T1","subscriptions":["FinLanAltDataCommand",)"
                   R"("FinLanIncDataCommand","FinXCXIncDataCommand","FinXCXAltDataCommand",)"
                   R"("CtbLanIncDataCommand","CtbLanAltDataCommand","FinLanIncDataCommand"]})");
  CHECK(b.num("/setups") == 2);
  CHECK(b.num("/setup_changes") == 1);
  CHECK_FALSE(b.at("/changed").get_bool().value());
  json c = post_ok(t, "/link/setup", R"({"tenantId":"T1",)" + all_subs + R"(,"requeueCountMax":3})");
  CHECK(c.at("/changed").get_bool().value());
  CHECK(c.num("/setup_changes") == 2);
  // The seed's own body (no tenantId): the "default" tenant, requeueCountMax 10 by default.
  json d = post_ok(t, "/link/setup", "{" + all_subs + "}");
  CHECK(d.str("/tenantId") == "default");
  CHECK(d.num("/requeueCountMax") == 10);

  json g = get_ok(t, "/link/setup/T1");
  CHECK(g.num("/setups") == 3);
  CHECK(g.num("/requeueCountMax") == 3);
  CHECK_FALSE(g.has("/changed"));
  CHECK(http("GET", t.url("/link/setup/nobody")).status == 404);
  json s = get_ok(t, "/link/_stats");
  CHECK(s.num("/setups") == 4);
  CHECK(s.num("/setup_changes") == 3);

  for (const char* bad : {"", "[]", R"({"tenantId":"T1"})", R"({"subscriptions":[]})",
                          R"({"subscriptions":[1]})", R"({"subscriptions":["a/b"]})",
                          R"({"subscriptions":["X"],"requeueCountMax":-1})"}) {
    auto r = http("POST", t.url("/link/setup"), bad);
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(json(r.body).str("/error/code") == "bad_request");
  }
  CHECK(get_ok(t, "/link/_stats").num("/setups") == 4);
  CHECK(http("GET", t.url("/link/setup")).status == 405);
}

TEST_CASE("smartlink send: the path's type must be header.type, the tenant must subscribe it",
          "[target][link]") {
  running t;
  const std::string inc = "FinLanIncDataCommand";
  // Before any setup: no subscription.
  auto none = send(t, inc, message(inc, R"({"IdLan":-1})"));
  CHECK(none.status == 422);
  json n(none.body);
  CHECK(n.str("/error/code") == "no_subscription");
  CHECK(n.str("/error/message").find("no subscription for type FinLanIncDataCommand") == 0);
  CHECK(n.str("/error/message").find("POST /link/setup first") != std::string::npos);

  post_ok(t, "/link/setup", R"({"tenantId":"T1","subscriptions":["FinLanIncDataCommand"]})");
  auto mismatch = send(t, "FinLanAltDataCommand", message(inc, R"({"IdLan":-1})"));
  CHECK(mismatch.status == 400);
  json mm(mismatch.body);
  CHECK(mm.str("/error/code") == "type_mismatch");
  CHECK(mm.str("/error/message") ==
        "the path's type 'FinLanAltDataCommand' differs from header.type 'FinLanIncDataCommand'");
  auto unsub = send(t, "CtbLanIncDataCommand", message("CtbLanIncDataCommand", "{}"));
  CHECK(unsub.status == 422);
  CHECK(json(unsub.body).str("/error/message") == "no subscription for type CtbLanIncDataCommand (tenant T1)");
  auto other_tenant = send(t, inc, message(inc, "{}", "T2"));
  CHECK(other_tenant.status == 422);

  for (const char* bad : {"", "[]", R"({"data":{}})", R"({"header":{"tenantId":"T1"},"data":{}})",
                          R"({"header":{"type":"FinLanIncDataCommand"},"data":{}})",
                          R"({"header":{"type":"FinLanIncDataCommand","tenantId":"T1"}})",
                          R"({"header":{"type":"FinLanIncDataCommand","tenantId":"T1"},"data":[1]})"}) {
    auto r = send(t, inc, bad);
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 400);
  }
  CHECK(http("GET", t.url("/link/send/" + inc + "/LinkProxy")).status == 405);
  CHECK(http("POST", t.url("/link/send/" + inc + "/Other"), message(inc, "{}")).status == 404);
  CHECK(http("POST", t.url("/link/send/" + inc), message(inc, "{}")).status == 404);

  json s = get_ok(t, "/link/_stats");
  CHECK(s.num("/accepted") == 0);
  CHECK(s.num("/unsubscribed") == 3);
  CHECK(s.num("/rejected") == 8);
  CHECK(get_ok(t, "/link/queue").num("/count") == 0);
  CHECK(get_ok(t, "/link/records/T1").at("/records").get_array().size() == 0);
}

TEST_CASE("smartlink: Inc creates (numbered when IdLan is -1), Alt updates, Alt of an unknown key dies",
          "[target][link]") {
  running t;
  post_ok(t, "/link/setup", R"({"tenantId":"T1",)" + all_subs + R"(,"requeueCountMax":3})");
  const std::string m1 = send_ok(t, "FinLanIncDataCommand",
                                 R"({"CodColigada":1,"IdLan":-1,"UsuarioInclusao":"mestre","PagRec":"2"})");
  const std::string m2 = send_ok(t, "FinLanIncDataCommand", R"({"CodColigada":1,"IdLan":-1})");
  const std::string m3 = send_ok(t, "FinLanAltDataCommand", R"({"CodColigada":1,"IdLan":1,"PagRec":"1"})");
  const std::string m4 = send_ok(t, "FinLanAltDataCommand", R"({"CodColigada":1,"IdLan":69})");
  const std::string m5 = send_ok(t, "FinLanAltDataCommand", R"({"CodColigada":1})");
  const std::string m6 = send_ok(t, "CtbLanIncDataCommand", R"({"IdLan":"L-7"})");  // a given key
  const std::string m7 = send_ok(t, "CtbLanIncDataCommand", R"({"IdLan":"L-7"})");  // exists: dies
  const std::string m8 = send_ok(t, "CtbLanAltDataCommand", R"({"IdLan":"L-7","v":2})");
  std::set<std::string> ids{m1, m2, m3, m4, m5, m6, m7, m8};
  CHECK(ids.size() == 8);

  json r = get_ok(t, "/link/records/T1");
  REQUIRE(r.at("/records").get_array().size() == 3);
  CHECK(r.str("/records/0/entity") == "CtbLan");
  CHECK(r.str("/records/0/key") == "L-7");
  CHECK(r.num("/records/0/version") == 2);
  CHECK(r.str("/records/0/createdBy") == m6);
  CHECK(r.str("/records/0/updatedBy") == m8);
  CHECK(r.num("/records/0/data/v") == 2);
  CHECK(r.str("/records/1/entity") == "FinLan");
  CHECK(r.str("/records/1/key") == "1");
  CHECK(r.num("/records/1/version") == 2);
  CHECK(r.str("/records/1/createdBy") == m1);
  CHECK(r.str("/records/1/updatedBy") == m3);
  CHECK(r.str("/records/1/data/PagRec") == "1");
  CHECK(r.str("/records/2/key") == "2");
  CHECK(r.num("/records/2/version") == 1);
  CHECK(r.at("/records/2/data/IdLan").get_int64().value() == -1);  // data kept as sent

  json q = get_ok(t, "/link/queue/T1");
  CHECK(q.num("/count") == 8);
  CHECK(q.num("/consumed") == 5);
  CHECK(q.num("/dead") == 3);
  CHECK(q.str("/messages/0/id") == m1);
  CHECK(q.str("/messages/0/op") == "create");
  CHECK(q.str("/messages/0/key") == "1");
  CHECK(q.str("/messages/0/status") == "consumed");
  CHECK(q.num("/messages/0/requeues") == 0);
  CHECK(q.str("/messages/0/error").empty());
  CHECK(q.str("/messages/3/op") == "update");
  CHECK(q.str("/messages/3/status") == "dead");
  CHECK(q.num("/messages/3/requeues") == 3);
  CHECK(q.str("/messages/3/error") == "no FinLan record with IdLan=69");
  CHECK(q.str("/messages/4/status") == "dead");
  CHECK(q.str("/messages/4/error").find("an Alt message needs data.IdLan") == 0);
  CHECK(q.str("/messages/6/error") == "CtbLan record with IdLan=L-7 already exists");
  CHECK(q.str("/messages/7/tenantId") == "T1");
  CHECK(q.str("/messages/7/type") == "CtbLanAltDataCommand");
  CHECK(get_ok(t, "/link/queue").num("/count") == 8);
  CHECK(get_ok(t, "/link/queue/T2").num("/count") == 0);

  json s = get_ok(t, "/link/_stats");
  CHECK(s.num("/sends") == 8);
  CHECK(s.num("/accepted") == 8);
  CHECK(s.num("/creates") == 3);
  CHECK(s.num("/updates") == 2);
  CHECK(s.num("/dead") == 3);
  CHECK(s.num("/consumed") == 5);
}

TEST_CASE("smartlink: keyField, types without Inc or Alt, tenants apart", "[target][link]") {
  running t;
  post_ok(t, "/link/setup",
          R"({"tenantId":"A","subscriptions":["FinXCXIncDataCommand","FinXCXAltDataCommand","metrics"],)"
          R"("keyField":"IdXCX"})");
  post_ok(t, "/link/setup", R"({"tenantId":"B","subscriptions":["FinXCXIncDataCommand"]})");
  auto a1 = send(t, "FinXCXIncDataCommand", message("FinXCXIncDataCommand", R"({"IdXCX":5})", "A"));
  CHECK(a1.status == 200);
  auto a2 = send(t, "FinXCXAltDataCommand", message("FinXCXAltDataCommand", R"({"IdXCX":5,"v":1})", "A"));
  CHECK(a2.status == 200);
  auto b1 = send(t, "FinXCXIncDataCommand", message("FinXCXIncDataCommand", R"({"IdXCX":5})", "B"));
  CHECK(b1.status == 200);
  auto mt = send(t, "metrics", message("metrics", "{}", "A"));
  CHECK(mt.status == 200);
  json ra = get_ok(t, "/link/records/A");
  REQUIRE(ra.at("/records").get_array().size() == 1);
  CHECK(ra.str("/records/0/key") == "5");
  CHECK(ra.num("/records/0/version") == 2);
  json rb = get_ok(t, "/link/records/B");
  REQUIRE(rb.at("/records").get_array().size() == 1);
  CHECK(rb.str("/records/0/key") == "1");  // B's keyField is IdLan: absent, so numbered
  CHECK(rb.num("/records/0/version") == 1);
  json q = get_ok(t, "/link/queue/A");
  CHECK(q.num("/count") == 3);
  CHECK(q.str("/messages/2/op") == "none");
  CHECK(q.str("/messages/2/status") == "consumed");
}

TEST_CASE("smartlink: fail_next answers 503 and keeps nothing, reset forgets all", "[target][link]") {
  running t;
  post_ok(t, "/link/setup", R"({"tenantId":"T1",)" + all_subs + "}");
  CHECK(post_ok(t, "/link/_config", R"({"fail_next":2})").num("/fail_next") == 2);
  const std::string inc = "FinLanIncDataCommand";
  auto f1 = send(t, inc, message(inc, R"({"IdLan":-1})"));
  CHECK(f1.status == 503);
  CHECK(json(f1.body).str("/error/code") == "unavailable");
  CHECK(send(t, inc, message(inc, R"({"IdLan":-1})")).status == 503);
  CHECK(get_ok(t, "/link/_config").num("/fail_next") == 0);
  send_ok(t, inc, R"({"IdLan":-1})");
  json s = get_ok(t, "/link/_stats");
  CHECK(s.num("/failed") == 2);
  CHECK(s.num("/accepted") == 1);
  CHECK(get_ok(t, "/link/queue").num("/count") == 1);
  CHECK(http("POST", t.url("/link/_config"), R"({"answer":"x"})").status == 400);
  CHECK(http("POST", t.url("/link/_config"), "nope").status == 400);

  REQUIRE(http("POST", t.url("/reset")).status == 200);
  CHECK(http("GET", t.url("/link/setup/T1")).status == 404);
  CHECK(get_ok(t, "/link/queue").num("/count") == 0);
  CHECK(get_ok(t, "/link/_stats").num("/setups") == 0);
  CHECK(send(t, inc, message(inc, "{}")).status == 422);
  CHECK(http("GET", t.url("/link/nothing")).status == 404);
}

TEST_CASE("senior SET: positional retornosClientes, erro empty on success, CNPJ/CPF rule",
          "[target][set]") {
  running t;
  json r = post_ok(t, "/set/clientes",
                   R"({"clientes":[{"id":"c1","tipo_pessoa":"J","cnpj":"12.345.678/0001-90","nome":"A"},)"
                   R"({"id":"c2","tipo_pessoa":"F","cpf":"123"},)"
                   R"(7,)"
                   R"({"id":"c3","cpf":"123.456.789-01","codFil":2},)"
                   R"({"id":"c4","tipo_pessoa":"J"},)"
                   R"({"cnpj":"12345678000190"},)"
                   R"({"id":5,"cnpj":"12345678000190","tipo_pessoa":"X"}]})");
  REQUIRE(r.at("/retornosClientes").get_array().size() == 7);
  CHECK(r.num("/retornosClientes/0/codCli") == 1);
  CHECK(r.str("/retornosClientes/0/codFil") == "1");
  CHECK(r.str("/retornosClientes/0/erro").empty());  // "" means success
  CHECK_FALSE(r.has("/retornosClientes/0/mensagemErro"));
  CHECK(r.num("/retornosClientes/1/codCli") == 0);
  CHECK(r.str("/retornosClientes/1/erro") == "CPF inválido");
  CHECK(r.str("/retornosClientes/1/mensagemErro") == "cpf '123' deve ter 11 dígitos");
  CHECK(r.str("/retornosClientes/2/erro") == "Registro inválido");
  CHECK(r.num("/retornosClientes/3/codCli") == 2);
  CHECK(r.str("/retornosClientes/3/codFil") == "2");
  CHECK(r.str("/retornosClientes/3/erro").empty());
  CHECK(r.str("/retornosClientes/4/erro") == "CNPJ não informado");
  CHECK(r.str("/retornosClientes/5/erro") == "Cliente sem identificador");
  CHECK(r.str("/retornosClientes/6/erro") == "Tipo de pessoa inválido");
  for (int i : {1, 2, 4, 5, 6}) CHECK_FALSE(r.str("/retornosClientes/" + std::to_string(i) + "/mensagemErro").empty());

  json all = get_ok(t, "/set/clientes");
  CHECK(all.num("/count") == 2);
  CHECK(all.num("/clientes/0/codCli") == 1);
  CHECK(all.str("/clientes/0/id") == "c1");
  CHECK(all.str("/clientes/0/data/nome") == "A");
  CHECK(all.num("/clientes/1/codCli") == 2);
  CHECK(all.str("/clientes/1/codFil") == "2");
  json s = get_ok(t, "/set/_stats");
  CHECK(s.num("/requests") == 1);
  CHECK(s.num("/clientes") == 7);
  CHECK(s.num("/creates") == 2);
  CHECK(s.num("/errors") == 5);
}

TEST_CASE("senior SET: codCli is stable across updates, by CRM id or by id_erp", "[target][set]") {
  running t;
  json a = post_ok(t, "/set/clientes",
                   R"({"clientes":[{"id":"c1","cnpj":"12345678000190","nome":"A"},)"
                   R"({"id":"c2","cnpj":"22345678000190","nome":"B"}]})");
  CHECK(a.num("/retornosClientes/0/codCli") == 1);
  CHECK(a.num("/retornosClientes/1/codCli") == 2);
  // The same customers again, in the other order, through the seed's port name.
  json b = post_ok(t, "/set/GravarClientes",
                   R"({"clientes":[{"id":"c2","cnpj":"22345678000190","nome":"B2"},)"
                   R"({"id":"c1","cnpj":"12345678000190","nome":"A2"},)"
                   R"({"id":"c3","cnpj":"32345678000190"}]})");
  CHECK(b.num("/retornosClientes/0/codCli") == 2);
  CHECK(b.num("/retornosClientes/1/codCli") == 1);
  CHECK(b.num("/retornosClientes/2/codCli") == 3);
  // After the CRM's "UPDATE contas SET id_erp = #codCli#" the next send carries id_erp.
  json c = post_ok(t, "/set/clientes",
                   R"({"clientes":[{"id":"c1","id_erp":1,"cnpj":"12345678000190","nome":"A3"},)"
                   R"({"id":"c9","id_erp":"99","cnpj":"12345678000190"}]})");
  CHECK(c.num("/retornosClientes/0/codCli") == 1);
  CHECK(c.str("/retornosClientes/0/erro").empty());
  CHECK(c.num("/retornosClientes/1/codCli") == 0);
  CHECK(c.str("/retornosClientes/1/erro") == "Cliente não encontrado");

  json all = get_ok(t, "/set/clientes");
  REQUIRE(all.num("/count") == 3);
  CHECK(all.num("/clientes/0/version") == 3);
  CHECK(all.str("/clientes/0/data/nome") == "A3");
  CHECK(all.num("/clientes/1/version") == 2);
  CHECK(all.num("/clientes/2/version") == 1);
  json s = get_ok(t, "/set/_stats");
  CHECK(s.num("/requests") == 3);
  CHECK(s.num("/creates") == 3);
  CHECK(s.num("/updates") == 3);
  CHECK(s.num("/errors") == 1);
}

TEST_CASE("senior SET: bad bodies 400, fail_next 503 keeps nothing, reset forgets", "[target][set]") {
  running t;
  for (const char* bad : {"", "{}", "[]", R"({"clientes":{}})", "not json"}) {
    auto r = http("POST", t.url("/set/clientes"), bad);
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 400);
  }
  CHECK(post_ok(t, "/set/_config", R"({"fail_next":1})").num("/fail_next") == 1);
  const std::string one = R"({"clientes":[{"id":"c1","cnpj":"12345678000190"}]})";
  CHECK(http("POST", t.url("/set/clientes"), one).status == 503);
  CHECK(get_ok(t, "/set/clientes").num("/count") == 0);
  CHECK(post_ok(t, "/set/clientes", one).num("/retornosClientes/0/codCli") == 1);
  json s = get_ok(t, "/set/_stats");
  CHECK(s.num("/rejected") == 5);
  CHECK(s.num("/failed") == 1);
  CHECK(s.num("/requests") == 1);
  CHECK(http("DELETE", t.url("/set/clientes")).status == 405);
  CHECK(http("GET", t.url("/set/GravarClientes")).status == 405);
  CHECK(http("GET", t.url("/set/other")).status == 404);
  REQUIRE(http("POST", t.url("/reset")).status == 200);
  CHECK(get_ok(t, "/set/clientes").num("/count") == 0);
  CHECK(post_ok(t, "/set/clientes", R"({"clientes":[{"id":"new","cpf":"12345678901"}]})")
            .num("/retornosClientes/0/codCli") == 1);
}

TEST_CASE("erp profiles: auth and faults apply as to /services/", "[target][link][set]") {
  stampede::target::options o;
  o.auth = "static";
  o.static_key = "k3y";
  running t(o);
  const std::string auth = "Authorization: Bearer k3y";
  const std::string setup = R"({"tenantId":"T1","subscriptions":["FinLanIncDataCommand"]})";
  const std::string one = R"({"clientes":[{"id":"c1","cnpj":"12345678000190"}]})";
  CHECK(http("POST", t.url("/link/setup"), setup).status == 401);
  CHECK(http("POST", t.url("/set/clientes"), one).status == 401);
  CHECK(http("POST", t.url("/link/setup"), setup, {auth}).status == 200);
  CHECK(http("POST", t.url("/set/clientes"), one, {auth}).status == 200);
  stampede::target::faults always_503;
  always_503.fail_rate = 1.0;
  t.srv.set_faults(always_503);
  const std::string inc = "FinLanIncDataCommand";
  CHECK(http("POST", t.url("/link/send/" + inc + "/LinkProxy"), message(inc, "{}"), {auth}).status == 503);
  CHECK(http("POST", t.url("/set/clientes"), one, {auth}).status == 503);
  t.srv.set_faults({});
  CHECK(json(http("GET", t.url("/link/queue"), "", {auth}).body).num("/count") == 0);
  CHECK(json(http("GET", t.url("/set/_stats"), "", {auth}).body).num("/requests") == 1);
}
