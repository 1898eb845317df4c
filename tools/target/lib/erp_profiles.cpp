#include "tools/target/lib/erp_profiles.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <initializer_list>

#include "tools/target/lib/json_out.hpp"
#include "tools/target/lib/profile_util.hpp"

namespace stampede::target {

namespace dom = simdjson::dom;
using profile_util::append_uint_field;
using profile_util::error_answer;
using profile_util::parse_body;
using profile_util::split_first;

namespace {

// A key-like value as text: a non-empty string, or a positive integer. False
// for anything else (absent, null, 0, -1 "new", other types).
bool key_text(dom::element v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    if (s.empty()) return false;
    out.assign(s);
    return true;
  }
  std::int64_t i = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS && i > 0) {
    out = std::to_string(i);
    return true;
  }
  std::uint64_t u = 0;
  if (v.get_uint64().get(u) == simdjson::SUCCESS && u > 0) {
    out = std::to_string(u);
    return true;
  }
  return false;
}

std::string fail_next_json(std::uint64_t n) {
  std::string o = "{";
  append_uint_field(o, "fail_next", n);
  o.push_back('}');
  return o;
}

// GET / POST {prefix}_config {"fail_next":N}: the next N posts answer 503.
void fail_next_endpoint(const http_request& req, http_response& res, dom::parser& parser,
                        std::string_view echo, std::mutex& mu, std::uint64_t& fail_next) {
  if (req.method == "GET") {
    std::lock_guard lk(mu);
    res.body = fail_next_json(fail_next);
    return;
  }
  if (req.method != "POST") {
    return error_answer(res, 405, "method_not_allowed", "use GET or POST " + std::string(req.path), echo);
  }
  dom::element root;
  dom::object obj;
  if (!parse_body(req, parser, root) || root.get_object().get(obj) != simdjson::SUCCESS) {
    return error_answer(res, 400, "bad_json", "POST " + std::string(req.path) + R"( needs {"fail_next":N})", echo);
  }
  std::uint64_t n = 0;
  for (auto [k, v] : obj) {
    if (k != "fail_next" || v.get_uint64().get(n) != simdjson::SUCCESS) {
      return error_answer(res, 400, "bad_request",
                          R"(the only config field is "fail_next", a non-negative integer)", echo);
    }
  }
  std::lock_guard lk(mu);
  fail_next = n;
  res.body = fail_next_json(n);
}

// {"name":v,...} of counters.
std::string uint_object(std::initializer_list<std::pair<std::string_view, std::uint64_t>> fields) {
  std::string o = "{";
  for (const auto& [k, v] : fields) {
    if (o.size() > 1) o.push_back(',');
    append_uint_field(o, k, v);
  }
  o.push_back('}');
  return o;
}

void append_str_field(std::string& o, std::string_view name, std::string_view v) {
  json_append_string(o, name);
  o.push_back(':');
  json_append_string(o, v);
}

}  // namespace

// ---- Smartlink profile -----------------------------------------------------------
void link_profile::clear() {
  std::lock_guard lk(mu_);
  tenants_.clear();
  queue_.clear();
  c_ = {};
  fail_next_ = 0;
  id_seq_ = 0;
}

std::string link_profile::next_message_id() {
  // splitmix64 of a sequence: deterministic after a reset, unique per message.
  auto mix = [](std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const std::uint64_t a = mix(++id_seq_);  // a bijection of the sequence: unique
  const std::uint64_t b = mix(a);
  char buf[40];
  // All 64 bits of `a` appear; version 4 and variant bits as in a random UUID.
  std::snprintf(buf, sizeof buf, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                a >> 32, (a >> 16) & 0xffff, std::uint64_t{0x4000} | (a & 0xfff),
                std::uint64_t{0x8000} | (((a >> 12) & 0xf) << 10) | (b & 0x3ff),
                (b >> 16) & std::uint64_t{0xffffffffffff});
  return buf;
}

void link_profile::handle(std::string_view rest, const http_request& req, http_response& res,
                          simdjson::dom::parser& parser, std::string_view echo) {
  std::string_view head, tail;
  bool has_tail = false;
  split_first(rest, head, tail, has_tail);
  const std::string_view m = req.method;
  auto method = [&](std::string_view allowed) {
    error_answer(res, 405, "method_not_allowed", "use " + std::string(allowed) + " " + std::string(req.path), echo);
  };
  if (head == "send") {
    std::string_view type, proxy;
    bool has_proxy = false;
    split_first(tail, type, proxy, has_proxy);
    if (has_tail && !type.empty() && has_proxy && proxy == "LinkProxy") {
      if (m != "POST") return method("POST");
      return send(type, req, res, parser, echo);
    }
  } else if (head == "setup") {
    if (!has_tail) {
      if (m != "POST") return method("POST");
      return setup(req, res, parser, echo);
    }
    if (!tail.empty() && tail.find('/') == std::string_view::npos) {
      if (m != "GET") return method("GET");
      const std::string name = pct_decode(tail);
      std::lock_guard lk(mu_);
      auto it = tenants_.find(name);
      if (it == tenants_.end() || !it->second.has_setup) {
        return error_answer(res, 404, "not_found", "tenant '" + name + "' has no setup", echo);
      }
      res.body = setup_json(name, it->second);
      return;
    }
  } else if ((head == "queue" && (!has_tail || (!tail.empty() && tail.find('/') == std::string_view::npos))) ||
             (head == "records" && has_tail && !tail.empty() && tail.find('/') == std::string_view::npos)) {
    if (m != "GET") return method("GET");
    const std::string name = pct_decode(tail);
    std::lock_guard lk(mu_);
    std::string& o = res.body;
    if (head == "queue") {
      std::uint64_t n = 0, consumed = 0, dead = 0;
      std::string rows;
      for (const message& q : queue_) {
        if (has_tail && q.tenant != name) continue;
        (q.status == "dead" ? dead : consumed) += 1;
        if (n++) rows.push_back(',');
        rows.push_back('{');
        const std::pair<std::string_view, const std::string*> fields[] = {
            {"id", &q.id}, {"tenantId", &q.tenant}, {"type", &q.type}, {"op", &q.op},
            {"key", &q.key}, {"status", &q.status}, {"error", &q.error}};
        for (const auto& [k, v] : fields) {
          append_str_field(rows, k, *v);
          rows.push_back(',');
        }
        append_uint_field(rows, "requeues", q.requeues);
        rows.push_back('}');
      }
      o.push_back('{');
      append_uint_field(o, "count", n);
      o.push_back(',');
      append_uint_field(o, "consumed", consumed);
      o.push_back(',');
      append_uint_field(o, "dead", dead);
      o.append(",\"messages\":[");
      o.append(rows);
      o.append("]}");
      return;
    }
    o.push_back('{');
    append_str_field(o, "tenantId", name);
    o.append(",\"records\":[");
    auto it = tenants_.find(name);
    if (it != tenants_.end()) {
      bool first = true;
      for (const auto& [ek, r] : it->second.records) {
        if (!first) o.push_back(',');
        first = false;
        o.push_back('{');
        append_str_field(o, "entity", ek.first);
        o.push_back(',');
        append_str_field(o, "key", ek.second);
        o.push_back(',');
        append_uint_field(o, "version", r.version);
        o.push_back(',');
        append_str_field(o, "createdBy", r.created_by);
        o.push_back(',');
        append_str_field(o, "updatedBy", r.updated_by);
        o.append(",\"data\":");
        o.append(r.data);
        o.push_back('}');
      }
    }
    o.append("]}");
    return;
  } else if (head == "_stats" && !has_tail) {
    if (m != "GET") return method("GET");
    std::lock_guard lk(mu_);
    res.body = uint_object({
        {"setups", c_.setups},       {"setup_changes", c_.setup_changes},
        {"sends", c_.sends},         {"accepted", c_.accepted},
        {"consumed", c_.consumed},   {"dead", c_.dead},
        {"creates", c_.creates},     {"updates", c_.updates},
        {"rejected", c_.rejected},   {"unsubscribed", c_.unsubscribed},
        {"failed", c_.failed},       {"fail_next", fail_next_}});
    return;
  } else if (head == "_config" && !has_tail) {
    return fail_next_endpoint(req, res, parser, echo, mu_, fail_next_);
  }
  error_answer(res, 404, "not_found",
               "no such endpoint: " + std::string(req.path) +
                   " (known: POST /link/setup, POST /link/send/{type}/LinkProxy, GET "
                   "/link/setup/{tenant}, /link/queue[/{tenant}], /link/records/{tenant}, "
                   "/link/_stats, GET|POST /link/_config)",
               echo);
}

void link_profile::setup(const http_request& req, http_response& res, dom::parser& parser,
                         std::string_view echo) {
  dom::element root;
  dom::object obj;
  auto bad = [&](std::string_view why) {
    std::lock_guard lk(mu_);
    ++c_.rejected;
    error_answer(res, 400, "bad_request", why, echo);
  };
  if (!parse_body(req, parser, root) || root.get_object().get(obj) != simdjson::SUCCESS) {
    return bad(R"(POST /link/setup needs a JSON object {"subscriptions":["<type>",..],"requeueCountMax":N})");
  }
  std::string name = "default", key_field = "IdLan";
  std::uint64_t rcm = 10;
  std::vector<std::string> subs;
  bool has_subs = false;
  for (auto [k, v] : obj) {
    std::string_view s;
    if (k == "subscriptions") {
      dom::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) return bad(R"("subscriptions" must be an array of type names)");
      for (dom::element e : arr) {
        if (e.get_string().get(s) != simdjson::SUCCESS || s.empty() || s.find('/') != std::string_view::npos) {
          return bad(R"("subscriptions" must hold non-empty type names (strings without '/'))");
        }
        subs.emplace_back(s);
      }
      has_subs = true;
    } else if (k == "requeueCountMax") {
      if (v.get_uint64().get(rcm) != simdjson::SUCCESS) return bad(R"("requeueCountMax" must be a non-negative integer)");
    } else if (k == "tenantId") {
      if (v.get_string().get(s) != simdjson::SUCCESS || s.empty()) return bad(R"("tenantId" must be a non-empty string)");
      name.assign(s);
    } else if (k == "keyField") {
      if (v.get_string().get(s) != simdjson::SUCCESS || s.empty()) return bad(R"("keyField" must be a non-empty string)");
      key_field.assign(s);
    }  // other members are ignored, as a real setup's extra fields would be
  }
  if (!has_subs || subs.empty()) return bad(R"(setup has no "subscriptions" (a non-empty array of type names))");
  std::sort(subs.begin(), subs.end());
  subs.erase(std::unique(subs.begin(), subs.end()), subs.end());

  std::lock_guard lk(mu_);
  tenant& t = tenants_[name];
  const bool changed = !t.has_setup || t.subscriptions != subs || t.requeue_count_max != rcm ||
                       t.key_field != key_field;
  t.has_setup = true;
  t.subscriptions = std::move(subs);
  t.requeue_count_max = rcm;
  t.key_field = std::move(key_field);
  ++t.setups;
  ++c_.setups;
  if (changed) {
    ++t.setup_changes;
    ++c_.setup_changes;
  }
  res.body = setup_json(name, t);
  res.body.pop_back();
  res.body.append(changed ? ",\"changed\":true}" : ",\"changed\":false}");
}

std::string link_profile::setup_json(std::string_view name, const tenant& t) const {
  std::string o = "{";
  append_str_field(o, "tenantId", name);
  o.append(",\"subscriptions\":[");
  for (std::size_t i = 0; i < t.subscriptions.size(); ++i) {
    if (i) o.push_back(',');
    json_append_string(o, t.subscriptions[i]);
  }
  o.append("],");
  append_uint_field(o, "requeueCountMax", t.requeue_count_max);
  o.push_back(',');
  append_str_field(o, "keyField", t.key_field);
  o.push_back(',');
  append_uint_field(o, "setups", t.setups);
  o.push_back(',');
  append_uint_field(o, "setup_changes", t.setup_changes);
  o.push_back('}');
  return o;
}

void link_profile::send(std::string_view raw_type, const http_request& req, http_response& res,
                        dom::parser& parser, std::string_view echo) {
  const std::string type = pct_decode(raw_type);
  dom::element root;
  const bool is_json = parse_body(req, parser, root);
  std::lock_guard lk(mu_);
  ++c_.sends;
  if (fail_next_ > 0) {
    --fail_next_;
    ++c_.failed;
    return error_answer(res, 503, "unavailable",
                        "Smartlink fails this send (fail_next, " + std::to_string(fail_next_) + " left)",
                        echo);
  }
  auto bad = [&](std::string_view code, const std::string& why) {
    ++c_.rejected;
    error_answer(res, 400, code, why, echo);
  };
  dom::object obj, header, data;
  if (!is_json || root.get_object().get(obj) != simdjson::SUCCESS) {
    return bad("bad_json", R"(body must be a JSON object {"header":{"type":..,"tenantId":..},"data":{..}})");
  }
  if (obj["header"].get_object().get(header) != simdjson::SUCCESS) return bad("bad_request", R"(message has no "header" object)");
  std::string_view htype, htenant;
  if (header["type"].get_string().get(htype) != simdjson::SUCCESS || htype.empty()) {
    return bad("bad_request", R"(header has no "type" string)");
  }
  if (header["tenantId"].get_string().get(htenant) != simdjson::SUCCESS || htenant.empty()) {
    return bad("bad_request", R"(header has no "tenantId" string)");
  }
  if (htype != type) {
    return bad("type_mismatch", "the path's type '" + type + "' differs from header.type '" +
                                    std::string(htype) + "'");
  }
  if (obj["data"].get_object().get(data) != simdjson::SUCCESS) return bad("bad_request", R"(message has no "data" object)");
  auto it = tenants_.find(htenant);
  if (it == tenants_.end() || !it->second.has_setup ||
      !std::binary_search(it->second.subscriptions.begin(), it->second.subscriptions.end(), type)) {
    ++c_.unsubscribed;
    const bool no_setup = it == tenants_.end() || !it->second.has_setup;
    return error_answer(res, 422, "no_subscription",
                        "no subscription for type " + type + " (tenant " + std::string(htenant) +
                            (no_setup ? " has no setup: POST /link/setup first)" : ")"),
                        echo);
  }
  ++c_.accepted;
  if (queue_.size() >= max_messages) queue_.pop_front();
  message& msg = queue_.emplace_back();
  msg.id = next_message_id();
  msg.tenant.assign(htenant);
  msg.type = type;
  consume(it->second, msg, data);
  res.body = "{";
  append_str_field(res.body, "id", msg.id);
  res.body.push_back('}');
}

// The emulated RM consumer, run at once: Inc creates, Alt updates, other
// types are only consumed. A failure is deterministic, so every requeue fails
// too: the message ends "dead" after requeueCountMax requeues.
void link_profile::consume(tenant& t, message& m, dom::object data) {
  const auto inc = m.type.find("Inc"), alt = m.type.find("Alt");
  const bool is_inc = inc != std::string::npos && (alt == std::string::npos || inc < alt);
  const bool is_alt = !is_inc && alt != std::string::npos;
  auto fail = [&](std::string why) {
    m.status = "dead";
    m.error = std::move(why);
    m.requeues = t.requeue_count_max;
    ++c_.dead;
  };
  m.status = "consumed";
  if (!is_inc && !is_alt) {
    m.op = "none";
    ++c_.consumed;
    return;
  }
  m.op = is_inc ? "create" : "update";
  const std::string entity = m.type.substr(0, is_inc ? inc : alt);
  dom::element kv;
  std::string key;
  const bool has_key = data[t.key_field].get(kv) == simdjson::SUCCESS && key_text(kv, key);
  if (is_inc) {
    if (!has_key) {  // e.g. "IdLan": -1: the ERP numbers it
      std::uint64_t& next = t.next_key[entity];
      do key = std::to_string(++next);
      while (t.records.count({entity, key}));
    } else if (t.records.count({entity, key})) {
      m.key = key;
      return fail(entity + " record with " + t.key_field + "=" + key + " already exists");
    }
    m.key = key;
    record& r = t.records[{entity, key}];
    r.version = 1;
    r.data = simdjson::minify(data);
    r.created_by = r.updated_by = m.id;
    ++c_.creates;
    ++c_.consumed;
    return;
  }
  if (!has_key) return fail("an Alt message needs data." + t.key_field + " (a positive number or a string)");
  m.key = key;
  auto rit = t.records.find({entity, key});
  if (rit == t.records.end()) return fail("no " + entity + " record with " + t.key_field + "=" + key);
  ++rit->second.version;
  rit->second.data = simdjson::minify(data);
  rit->second.updated_by = m.id;
  ++c_.updates;
  ++c_.consumed;
}

// ---- Senior SET profile ------------------------------------------------------------
void set_profile::clear() {
  std::lock_guard lk(mu_);
  by_cod_.clear();
  by_id_.clear();
  next_cod_ = 1;
  fail_next_ = 0;
  c_ = {};
}

void set_profile::handle(std::string_view rest, const http_request& req, http_response& res,
                         simdjson::dom::parser& parser, std::string_view echo) {
  const std::string_view m = req.method;
  auto method = [&](std::string_view allowed) {
    error_answer(res, 405, "method_not_allowed", "use " + std::string(allowed) + " " + std::string(req.path), echo);
  };
  if (rest == "clientes" || rest == "GravarClientes") {
    if (m == "POST") return gravar(req, res, parser, echo);
    if (m != "GET" || rest != "clientes") return method(rest == "clientes" ? "GET or POST" : "POST");
    std::lock_guard lk(mu_);
    std::string& o = res.body;
    o.push_back('{');
    append_uint_field(o, "count", by_cod_.size());
    o.append(",\"clientes\":[");
    bool first = true;
    for (const auto& [cod, cl] : by_cod_) {
      if (!first) o.push_back(',');
      first = false;
      o.push_back('{');
      append_uint_field(o, "codCli", cod);
      o.push_back(',');
      append_str_field(o, "codFil", cl.cod_fil);
      o.push_back(',');
      append_str_field(o, "id", cl.id);
      o.push_back(',');
      append_uint_field(o, "version", cl.version);
      o.append(",\"data\":");
      o.append(cl.data);
      o.push_back('}');
    }
    o.append("]}");
    return;
  }
  if (rest == "_stats") {
    if (m != "GET") return method("GET");
    std::lock_guard lk(mu_);
    res.body = uint_object({
        {"requests", c_.requests}, {"clientes", c_.clientes}, {"creates", c_.creates},
        {"updates", c_.updates},   {"errors", c_.errors},     {"rejected", c_.rejected},
        {"failed", c_.failed},     {"fail_next", fail_next_}});
    return;
  }
  if (rest == "_config") {
    return fail_next_endpoint(req, res, parser, echo, mu_, fail_next_);
  }
  error_answer(res, 404, "not_found",
               "no such endpoint: " + std::string(req.path) +
                   " (known: POST /set/clientes or /set/GravarClientes, GET /set/clientes, "
                   "/set/_stats, GET|POST /set/_config)",
               echo);
}

namespace {

std::size_t digit_count(std::string_view s, bool& only_digits_and_punct) {
  std::size_t n = 0;
  only_digits_and_punct = true;
  for (char c : s) {
    if (c >= '0' && c <= '9') ++n;
    else if (c != '.' && c != '-' && c != '/' && c != ' ') only_digits_and_punct = false;
  }
  return n;
}

// The SET validation of one customer: "" if valid, else erro and mensagemErro.
// The document: tipo_pessoa "J" needs cnpj (14 digits), "F" needs cpf (11
// digits); without tipo_pessoa, cnpj if given, else cpf.
void validate_doc(dom::object c, std::string& erro, std::string& msg) {
  std::string_view tipo, cnpj, cpf;
  const bool has_tipo = c["tipo_pessoa"].get_string().get(tipo) == simdjson::SUCCESS && !tipo.empty();
  const bool has_cnpj = c["cnpj"].get_string().get(cnpj) == simdjson::SUCCESS && !cnpj.empty();
  const bool has_cpf = c["cpf"].get_string().get(cpf) == simdjson::SUCCESS && !cpf.empty();
  if (has_tipo && tipo != "J" && tipo != "F") {
    erro = "Tipo de pessoa inválido";
    msg = "tipo_pessoa '" + std::string(tipo) + "': use J (jurídica) ou F (física)";
    return;
  }
  const bool juridica = has_tipo ? tipo == "J" : has_cnpj;
  const std::string_view doc = juridica ? cnpj : cpf;
  const bool has_doc = juridica ? has_cnpj : has_cpf;
  const char* name = juridica ? "CNPJ" : "CPF";
  const std::size_t want = juridica ? 14 : 11;
  if (!has_doc) {
    erro = std::string(name) + " não informado";
    msg = juridica ? "pessoa jurídica sem cnpj" : "pessoa física sem cpf (ou jurídica sem cnpj)";
    return;
  }
  bool clean = true;
  const std::size_t n = digit_count(doc, clean);
  if (!clean || n != want) {
    erro = std::string(name) + " inválido";
    msg = std::string(juridica ? "cnpj" : "cpf") + " '" + std::string(doc) + "' deve ter " +
          std::to_string(want) + " dígitos";
  }
}

}  // namespace

void set_profile::gravar(const http_request& req, http_response& res, dom::parser& parser,
                         std::string_view echo) {
  dom::element root;
  dom::array arr;
  const bool ok = parse_body(req, parser, root) && root["clientes"].get_array().get(arr) == simdjson::SUCCESS;
  std::lock_guard lk(mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    ++c_.failed;
    return error_answer(res, 503, "unavailable",
                        "GravarClientes fails this call (fail_next, " + std::to_string(fail_next_) + " left)",
                        echo);
  }
  if (!ok) {
    ++c_.rejected;
    return error_answer(res, 400, "bad_request", R"(body must be a JSON object {"clientes":[{..},..]})", echo);
  }
  ++c_.requests;
  std::string& o = res.body;
  o.assign("{\"retornosClientes\":[");
  bool first = true;
  for (dom::element e : arr) {
    ++c_.clientes;
    if (!first) o.push_back(',');
    first = false;
    std::string erro, msg, id, cod_fil = "1";
    std::uint64_t cod = 0;
    dom::object c;
    dom::element v;
    if (e.get_object().get(c) != simdjson::SUCCESS) {
      erro = "Registro inválido";
      msg = "cada cliente deve ser um objeto JSON";
    } else {
      if (c["codFil"].get(v) == simdjson::SUCCESS) (void)key_text(v, cod_fil);
      if (c["id"].get(v) != simdjson::SUCCESS || !key_text(v, id)) {
        erro = "Cliente sem identificador";
        msg = "id (o id da conta no CRM) não informado";
      } else {
        validate_doc(c, erro, msg);
      }
      std::string erp;
      if (erro.empty() && c["id_erp"].get(v) == simdjson::SUCCESS && key_text(v, erp)) {
        std::uint64_t want = 0;
        const bool numeric = std::sscanf(erp.c_str(), "%" SCNu64, &want) == 1 && std::to_string(want) == erp;
        if (!numeric || !by_cod_.count(want)) {
          erro = "Cliente não encontrado";
          msg = "id_erp " + erp + " não é um codCli existente";
        } else {
          cod = want;
        }
      }
      if (erro.empty()) {
        if (cod == 0) {
          auto it = by_id_.find(id);
          cod = it != by_id_.end() ? it->second : 0;
        }
        const bool create = cod == 0;
        if (create) {
          cod = next_cod_++;
          by_id_.emplace(id, cod);
        }
        cliente& cl = by_cod_[cod];
        if (create) cl.id = id;
        cl.cod_fil = cod_fil;
        cl.data = simdjson::minify(e);
        ++cl.version;
        ++(create ? c_.creates : c_.updates);
      }
    }
    if (!erro.empty()) {
      ++c_.errors;
      cod = 0;
    }
    o.push_back('{');
    append_uint_field(o, "codCli", cod);
    o.push_back(',');
    append_str_field(o, "codFil", cod_fil);
    o.push_back(',');
    append_str_field(o, "erro", erro);
    if (!msg.empty()) {
      o.push_back(',');
      append_str_field(o, "mensagemErro", msg);
    }
    o.push_back('}');
  }
  o.append("]}");
}

}  // namespace stampede::target
