#include "tools/target/lib/app.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "tools/target/lib/json_out.hpp"

namespace stampede::target {

namespace od = simdjson::ondemand;
using clock_type = std::chrono::steady_clock;

// ---- helpers ---------------------------------------------------------------
namespace {

auth_mode parse_auth(const std::string& s) {
  if (s == "none") return auth_mode::none;
  if (s == "static") return auth_mode::static_key;
  if (s == "oauth2") return auth_mode::oauth2;
  throw std::invalid_argument("unknown auth mode '" + s + "' (use none, static or oauth2)");
}

// --echo-credentials: appended to every error message answered on this
// worker thread for the request being handled ("" = off).
thread_local std::string t_echo;

void set_error(http_response& res, int status, std::string_view code, std::string_view msg) {
  res.status = status;
  res.body = t_echo.empty() ? json_error(code, msg) : json_error(code, std::string(msg) + t_echo);
}

int status_of(errc e) {
  switch (e) {
    case errc::ok: return 200;
    case errc::not_found: return 404;
    case errc::validation: return 422;
    case errc::bad_request: return 400;
  }
  return 500;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_u32(std::string_view s, std::uint32_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// Splits "/a/b/c" into at most 6 segments; returns the count (7 = too many).
std::size_t split_path(std::string_view path, std::string_view (&seg)[6]) {
  std::size_t n = 0;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    if (n == 6) return 7;
    seg[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return n;
}

simdjson::padded_string_view body_view(const http_request& req) {
  return simdjson::padded_string_view(req.body, req.content_length,
                                      req.content_length + req.body_padding);
}

void append_result(std::string& out, std::string_view key, std::uint32_t service,
                   const record_result& r) {
  out.append("{\"key\":");
  json_append_string(out, key);
  if (r.code == errc::ok) {
    out.append(",\"id\":\"");
    json_append_uint(out, service);
    out.push_back('-');
    json_append_uint(out, r.n);
    out.append("\"}");
  } else {
    out.append(",\"error\":{\"code\":");
    json_append_string(out, errc_code(r.code));
    out.append(",\"message\":");
    json_append_string(out, t_echo.empty() ? r.message : r.message + t_echo);
    out.append("}}");
  }
}

void id_body(std::string& out, std::uint32_t service, std::uint64_t n) {
  out.assign("{\"id\":\"");
  json_append_uint(out, service);
  out.push_back('-');
  json_append_uint(out, n);
  out.append("\"}");
}

// A JSON scalar as text: strings unescaped, numbers/bools as their raw token.
bool scalar_text(od::value v, std::string& out) {
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return false;
  if (t == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) return false;
    out.assign(s);
    return true;
  }
  if (t == od::json_type::number || t == od::json_type::boolean) {
    out.assign(rtrim(v.raw_json_token()));
    return true;
  }
  return false;
}

}  // namespace

// ---- faults -----------------------------------------------------------------
void check_faults(const faults& f) {
  auto rate = [](double v, const char* name) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw std::invalid_argument(std::string(name) + " must be between 0 and 1 (a share of requests)");
    }
  };
  rate(f.fail_rate, "fail_rate");
  rate(f.rate_limit_rate, "rate_limit_rate");
  rate(f.drop_rate, "drop_rate");
  rate(f.malformed_rate, "malformed_rate");
  if (f.retry_after_s < 0) throw std::invalid_argument("retry_after_s must be >= 0");
  if (f.latency_ms < 0) throw std::invalid_argument("latency_ms must be >= 0");
  if (f.batch_delay_ms < 0) throw std::invalid_argument("batch_delay_ms must be >= 0");
  (void)parse_rules(f.validate);
}

std::string faults_json(const faults& f) {
  auto num = [](double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  };
  std::string o = "{\"fail_rate\":" + num(f.fail_rate) +
                  ",\"rate_limit_rate\":" + num(f.rate_limit_rate) +
                  ",\"retry_after_s\":" + std::to_string(f.retry_after_s) +
                  ",\"latency_ms\":" + std::to_string(f.latency_ms) +
                  ",\"drop_rate\":" + num(f.drop_rate) +
                  ",\"malformed_rate\":" + num(f.malformed_rate) +
                  ",\"batch_delay_ms\":" + std::to_string(f.batch_delay_ms) + ",\"validate\":[";
  for (std::size_t i = 0; i < f.validate.size(); ++i) {
    if (i) o.push_back(',');
    json_append_string(o, f.validate[i]);
  }
  o += "],\"seed\":" + std::to_string(f.seed) + "}";
  return o;
}

app::app(const options& o)
    : opts_(o),
      auth_(parse_auth(o.auth), o.static_key, o.client_id, o.client_secret, o.token_ttl_s) {
  if (auth_.mode() == auth_mode::static_key && o.static_key.empty()) {
    throw std::invalid_argument("auth=static needs a non-empty static key (--static-key-env VAR)");
  }
  if (auth_.mode() == auth_mode::oauth2 && (o.client_id.empty() || o.client_secret.empty())) {
    throw std::invalid_argument(
        "auth=oauth2 needs a client id and secret (--client-id, --client-secret-env VAR)");
  }
  if (o.token_ttl_s <= 0) throw std::invalid_argument("token_ttl_s must be > 0");
  set_faults(o.f);
}

void app::set_faults(const faults& f) {
  check_faults(f);
  auto fs = std::make_shared<fault_state>();
  fs->f = f;
  fs->rules = parse_rules(f.validate);
  std::lock_guard lk(faults_mu_);
  faults_ = std::move(fs);
  rng_.store(f.seed);
}

faults app::current_faults() const { return fault_snapshot()->f; }

std::shared_ptr<const app::fault_state> app::fault_snapshot() const {
  std::lock_guard lk(faults_mu_);
  return faults_;
}

double app::roll() {
  // splitmix64 over an atomic counter: deterministic per seed and request order.
  std::uint64_t z = rng_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) +
                    0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

void app::reset() {
  store_.clear();
  couch_.clear();
  hooks_.clear();
  link_.clear();
  set_.clear();
  stats_.clear();
  {
    std::lock_guard lk(batches_mu_);
    batches_.clear();
    batch_order_.clear();
  }
  next_batch_.store(1);
  rng_.store(fault_snapshot()->f.seed);
}

void app::load_state() {
  if (!opts_.state_file.empty()) store_.load(opts_.state_file, stats_);
}

void app::save_state() const {
  if (!opts_.state_file.empty()) store_.save(opts_.state_file);
}

// ---- routing ----------------------------------------------------------------
std::string app::echo_of(const http_request& req) {
  if (!opts_.echo_credentials) return {};
  std::lock_guard lk(echo_mu_);
  if (req.path == "/oauth/token") last_token_form_.assign(req.body_view());
  return " [echo: authorization=" + std::string(req.authorization) +
         "; token request=" + last_token_form_ + "]";
}

void app::handle(const http_request& req, http_response& res, worker_ctx& ctx) {
  const std::string_view p = req.path;
  const std::string_view m = req.method;
  t_echo = echo_of(req);
  if (p.size() > 10 && p.substr(0, 10) == "/services/") return handle_services(req, res, ctx);
  if (p.size() > 9 && p.substr(0, 9) == "/couchdb/") {
    return handle_profile(couch_, 9, R"([{"ok":true,"id":)", req, res, ctx);
  }
  if (p.size() > 7 && p.substr(0, 7) == "/hooks/") {
    return handle_profile(hooks_, 7, R"({"status":"acc)", req, res, ctx);
  }
  if (p.size() > 6 && p.substr(0, 6) == "/link/") {
    return handle_profile(link_, 6, R"({"id":"5e1f)", req, res, ctx);
  }
  if (p.size() > 5 && p.substr(0, 5) == "/set/") {
    return handle_profile(set_, 5, R"({"retornosClientes":[{"codCli":)", req, res, ctx);
  }
  if (p == "/health") {
    if (m != "GET" && m != "HEAD") return set_error(res, 405, "method_not_allowed", "use GET /health");
    res.body = R"({"status":"ok"})";
    return;
  }
  if (p == "/stats") {
    if (m != "GET") return set_error(res, 405, "method_not_allowed", "use GET /stats");
    res.body = stats_.to_json();
    return;
  }
  if (p == "/reset") {
    if (m != "POST") return set_error(res, 405, "method_not_allowed", "use POST /reset");
    reset();
    res.body = R"({"status":"reset"})";
    return;
  }
  if (p == "/faults") {
    if (m == "GET") {
      res.body = faults_json(current_faults());
      return;
    }
    if (m != "POST") return set_error(res, 405, "method_not_allowed", "use GET or POST /faults");
    return post_faults(req, res, ctx);
  }
  if (p == "/oauth/token") {
    if (m != "POST") return set_error(res, 405, "method_not_allowed", "use POST /oauth/token");
    auto ans = auth_.issue(req.body_view(), req.authorization);
    res.status = ans.status;
    res.body = std::move(ans.body);
    if (ans.status != 200 && !t_echo.empty()) {  // the refusal echoes the credentials
      simdjson::dom::element e;
      std::string_view code = "invalid_client", msg;
      if (ctx.dom.parse(res.body).get(e) == simdjson::SUCCESS) {
        (void)e["error"]["code"].get(code);
        (void)e["error"]["message"].get(msg);
      }
      set_error(res, ans.status, std::string(code), std::string(msg));
    }
    return;
  }
  set_error(res, 404, "not_found", "no such endpoint: " + std::string(p));
}

void app::post_faults(const http_request& req, http_response& res, worker_ctx& ctx) {
  faults f;
  od::document doc;
  od::object obj;
  if (req.content_length == 0 || ctx.od.iterate(body_view(req)).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return set_error(res, 400, "bad_json", "POST /faults needs a JSON object of fault fields");
  }
  for (auto field_r : obj) {
    od::field field;
    std::string_view k;
    if (std::move(field_r).get(field) != simdjson::SUCCESS || field.unescaped_key().get(k) != simdjson::SUCCESS) {
      return set_error(res, 400, "bad_json", "malformed JSON in POST /faults");
    }
    od::value v = field.value();
    auto get_d = [&](double& out) { return v.get_double().get(out) == simdjson::SUCCESS; };
    auto get_i = [&](int& out) {
      std::int64_t x;
      if (v.get_int64().get(x) != simdjson::SUCCESS || x < INT32_MIN || x > INT32_MAX) return false;
      out = static_cast<int>(x);
      return true;
    };
    bool ok = true;
    if (k == "fail_rate") ok = get_d(f.fail_rate);
    else if (k == "rate_limit_rate") ok = get_d(f.rate_limit_rate);
    else if (k == "drop_rate") ok = get_d(f.drop_rate);
    else if (k == "malformed_rate") ok = get_d(f.malformed_rate);
    else if (k == "retry_after_s") ok = get_i(f.retry_after_s);
    else if (k == "latency_ms") ok = get_i(f.latency_ms);
    else if (k == "batch_delay_ms") ok = get_i(f.batch_delay_ms);
    else if (k == "seed") ok = v.get_uint64().get(f.seed) == simdjson::SUCCESS;
    else if (k == "validate") {
      od::array arr;
      ok = v.get_array().get(arr) == simdjson::SUCCESS;
      if (ok) {
        for (auto item : arr) {
          std::string_view s;
          if (item.get_string().get(s) != simdjson::SUCCESS) {
            ok = false;
            break;
          }
          f.validate.emplace_back(s);
        }
      }
    } else {
      return set_error(res, 400, "bad_request",
                       "unknown fault field '" + std::string(k) +
                           "' (known: fail_rate, rate_limit_rate, retry_after_s, latency_ms, "
                           "drop_rate, malformed_rate, batch_delay_ms, validate, seed)");
    }
    if (!ok) return set_error(res, 400, "bad_request", "wrong type for fault field '" + std::string(k) + "'");
  }
  try {
    set_faults(f);
  } catch (const std::invalid_argument& e) {
    return set_error(res, 400, "bad_request", e.what());
  }
  res.body = faults_json(f);
}

bool app::admit(const http_request& req, http_response& res, const fault_state& fs,
                std::string_view malformed_body) {
  const faults& f = fs.f;
  res.delay_ms = f.latency_ms;
  if (f.drop_rate > 0 && roll() < f.drop_rate) {
    stats_.fault_dropped.fetch_add(1, std::memory_order_relaxed);
    res.drop = true;
    return false;
  }
  if (f.fail_rate > 0 && roll() < f.fail_rate) {
    stats_.fault_5xx.fetch_add(1, std::memory_order_relaxed);
    set_error(res, 503, "unavailable", "injected failure (fail_rate)");
    return false;
  }
  if (f.rate_limit_rate > 0 && roll() < f.rate_limit_rate) {
    stats_.fault_429.fetch_add(1, std::memory_order_relaxed);
    res.retry_after_s = f.retry_after_s;
    set_error(res, 429, "rate_limited", "injected rate limit (rate_limit_rate)");
    return false;
  }
  if (f.malformed_rate > 0 && roll() < f.malformed_rate) {
    stats_.fault_malformed.fetch_add(1, std::memory_order_relaxed);
    res.status = 200;
    res.body = malformed_body;
    return false;
  }
  std::string why;
  if (!auth_.check(req.authorization, why)) {
    set_error(res, 401, "unauthorized", why);
    return false;
  }
  return true;
}

template <class Profile>
void app::handle_profile(Profile& p, std::size_t prefix_len, std::string_view malformed_body,
                         const http_request& req, http_response& res, worker_ctx& ctx) {
  if (!admit(req, res, *fault_snapshot(), malformed_body)) return;
  p.handle(req.path.substr(prefix_len), req, res, ctx.dom, t_echo);
}

void app::handle_services(const http_request& req, http_response& res, worker_ctx& ctx) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  std::string_view seg[6];
  const std::size_t n = split_path(req.path, seg);
  std::uint32_t service = 0;
  if (n < 3 || n > 4 || !parse_u32(seg[1], service)) {
    return set_error(res, 404, "not_found",
                     "no such endpoint: " + std::string(req.path) +
                         " (expected /services/{numeric id}/batches|sync|records|messages|keys)");
  }
  const std::string_view what = seg[2];
  const std::string_view m = req.method;
  enum class route { submit, poll, sync, create, update, del, message, key, keys } r;
  if (what == "batches" && n == 3 && m == "POST") r = route::submit;
  else if (what == "batches" && n == 4 && m == "GET") r = route::poll;
  else if (what == "sync" && n == 3 && m == "POST") r = route::sync;
  else if (what == "records" && n == 3 && m == "POST") r = route::create;
  else if (what == "records" && n == 4 && m == "PUT") r = route::update;
  else if (what == "records" && n == 4 && m == "DELETE") r = route::del;
  else if (what == "messages" && n == 3 && m == "POST") r = route::message;
  else if (what == "keys" && n == 4 && m == "GET") r = route::key;
  else if (what == "keys" && n == 3 && m == "GET") r = route::keys;
  else {
    return set_error(res, what == "batches" || what == "sync" || what == "records" ||
                                  what == "messages" || what == "keys"
                              ? 405 : 404,
                     "not_found",
                     "no such endpoint: " + std::string(m) + " " + std::string(req.path));
  }

  auto fs = fault_snapshot();
  const faults& f = fs->f;
  if (!admit(req, res, *fs, R"({"results":[{"key":"injected malformed answer",)")) return;

  switch (r) {
    case route::submit: {
      batch b;
      b.service = service;
      if (!run_batch(service, req, res, ctx, *fs, b.results)) return;
      b.ready = clock_type::now() + std::chrono::milliseconds(f.batch_delay_ms);
      const std::uint64_t id = next_batch_.fetch_add(1);
      {
        std::lock_guard lk(batches_mu_);
        batches_.emplace(id, std::move(b));
        batch_order_.push_back(id);
        while (batch_order_.size() > max_kept_batches) {
          batches_.erase(batch_order_.front());
          batch_order_.pop_front();
        }
      }
      res.status = 202;
      res.body = "{\"batchId\":\"b-";
      json_append_uint(res.body, id);
      res.body.append("\"}");
      return;
    }
    case route::sync: {
      std::string results;
      if (!run_batch(service, req, res, ctx, *fs, results)) return;
      res.body.reserve(results.size() + 16);
      res.body.assign("{\"results\":");
      res.body.append(results);
      res.body.push_back('}');
      return;
    }
    case route::poll: return get_batch(service, pct_decode(seg[3]), res);
    case route::create: return rest_record(service, op_kind::create, {}, req, res, ctx, *fs);
    case route::update: return rest_record(service, op_kind::update, seg[3], req, res, ctx, *fs);
    case route::del: return rest_record(service, op_kind::del, seg[3], req, res, ctx, *fs);
    case route::message: return message(service, req, res, ctx, *fs);
    case route::key: return get_key(service, pct_decode(seg[3]), res);
    case route::keys: return get_keys(service, res);
  }
}

// ---- batches ----------------------------------------------------------------
bool app::run_batch(std::uint32_t service, const http_request& req, http_response& res,
                    worker_ctx& ctx, const fault_state& fs, std::string& results) {
  auto bad = [&](std::string_view msg) {
    set_error(res, 400, "bad_json", msg);
    return false;
  };
  od::document doc;
  od::object root;
  if (req.content_length == 0 || ctx.od.iterate(body_view(req)).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return bad(R"(body must be a JSON object {"records":[...]})");
  }
  od::array arr;
  bool seen_records = false;
  auto& recs = ctx.recs;
  recs.clear();
  for (auto top_r : root) {
    od::field top;
    std::string_view tk;
    if (std::move(top_r).get(top) != simdjson::SUCCESS || top.unescaped_key().get(tk) != simdjson::SUCCESS) {
      return bad("malformed JSON body");
    }
    if (tk != "records") continue;  // On-Demand skips the unread value
    if (top.value().get_array().get(arr) != simdjson::SUCCESS) return bad("\"records\" must be an array");
    seen_records = true;
    for (auto item_r : arr) {
      od::object rec;
      if (item_r.get_object().get(rec) != simdjson::SUCCESS) return bad("every record must be a JSON object");
      worker_ctx::parsed_record pr;
      bool has_key = false, has_op = false;
      for (auto fr : rec) {
        od::field fld;
        std::string_view k;
        if (std::move(fr).get(fld) != simdjson::SUCCESS || fld.unescaped_key().get(k) != simdjson::SUCCESS) {
          return bad("malformed JSON in a record");
        }
        if (k == "key") {
          if (fld.value().get_string().get(pr.op.key) != simdjson::SUCCESS) {
            pr.pre_error = errc::bad_request;
            pr.pre_message = "\"key\" must be a string";
          }
          has_key = true;
        } else if (k == "op") {
          std::string_view op;
          if (fld.value().get_string().get(op) != simdjson::SUCCESS) return bad("\"op\" must be a string");
          has_op = true;
          if (op == "create") pr.op.op = op_kind::create;
          else if (op == "update") pr.op.op = op_kind::update;
          else if (op == "delete") pr.op.op = op_kind::del;
          else {
            pr.pre_error = errc::bad_request;
            pr.pre_message = "\"op\" must be create, update or delete";
          }
        } else if (k == "idempotencyKey") {
          if (fld.value().get_string().get(pr.op.idempotency_key) != simdjson::SUCCESS) {
            return bad("\"idempotencyKey\" must be a string");
          }
        } else if (k == "data") {
          od::object data;
          std::string_view raw;
          if (fld.value().get_object().get(data) != simdjson::SUCCESS ||
              data.raw_json().get(raw) != simdjson::SUCCESS) {
            return bad("\"data\" must be a JSON object");
          }
          pr.op.data = rtrim(raw);
        }
      }
      if (pr.pre_error == errc::ok && (!has_key || pr.op.key.empty())) {
        pr.pre_error = errc::bad_request;
        pr.pre_message = "record has no \"key\"";
      } else if (pr.pre_error == errc::ok && !has_op) {
        pr.pre_error = errc::bad_request;
        pr.pre_message = "record has no \"op\" (create, update or delete)";
      }
      recs.push_back(pr);
    }
  }
  if (!seen_records) return bad(R"(body has no "records" array)");

  // Everything parsed: apply in request order.
  stats_delta d;
  results.clear();
  results.reserve(recs.size() * 48 + 2);
  results.push_back('[');
  bool first = true;
  constexpr std::size_t ahead = 8;  // prefetch distance (records)
  for (std::size_t i = 0; i < std::min(ahead, recs.size()); ++i) {
    if (recs[i].pre_error == errc::ok) store_.prefetch(service, recs[i].op.key);
  }
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const auto& pr = recs[i];
    if (i + ahead < recs.size() && recs[i + ahead].pre_error == errc::ok) {
      store_.prefetch(service, recs[i + ahead].op.key);
    }
    if (!first) results.push_back(',');
    first = false;
    if (pr.pre_error != errc::ok) {
      ++d.records;
      ++d.record_errors;
      append_result(results, pr.op.key, service,
                    record_result{pr.pre_error, 0, std::string(pr.pre_message), false});
      continue;
    }
    append_result(results, pr.op.key, service, store_.apply(service, pr.op, fs.rules, ctx.dom, d));
  }
  results.push_back(']');
  stats_.add(service, d);
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void app::get_batch(std::uint32_t service, std::string_view id, http_response& res) {
  std::uint64_t n = 0;
  auto r = std::from_chars(id.data() + std::min<std::size_t>(2, id.size()), id.data() + id.size(), n);
  if (id.size() < 3 || id.substr(0, 2) != "b-" || r.ec != std::errc{} || r.ptr != id.data() + id.size()) {
    return set_error(res, 404, "not_found", "unknown batch '" + std::string(id) + "'");
  }
  std::lock_guard lk(batches_mu_);
  auto it = batches_.find(n);
  if (it == batches_.end() || it->second.service != service) {
    return set_error(res, 404, "not_found", "unknown batch '" + std::string(id) + "'");
  }
  if (clock_type::now() < it->second.ready) {
    res.body = R"({"status":"processing"})";
    return;
  }
  res.body.reserve(it->second.results.size() + 32);
  res.body.assign(R"({"status":"done","results":)");
  res.body.append(it->second.results);
  res.body.push_back('}');
}

// ---- per-record REST ---------------------------------------------------------
void app::rest_record(std::uint32_t service, op_kind op, std::string_view remote,
                      const http_request& req, http_response& res, worker_ctx& ctx,
                      const fault_state& fs) {
  std::string key;
  if (op == op_kind::create) {
    key = pct_decode(req.record_key);
    if (key.empty()) return set_error(res, 400, "bad_request", "missing X-Record-Key header");
  } else {
    std::uint32_t svc = 0;
    std::uint64_t n = 0;
    const std::string rid = pct_decode(remote);
    std::optional<std::string> k;
    if (parse_remote_id(rid, svc, n) && svc == service) k = store_.key_of(service, n);
    if (!k) return set_error(res, 404, "not_found", "unknown record id '" + rid + "'");
    key = std::move(*k);
  }
  std::string_view data;
  if (op != op_kind::del) {
    od::document doc;
    od::object obj;
    if (req.content_length == 0 || ctx.od.iterate(body_view(req)).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(obj) != simdjson::SUCCESS ||
        obj.raw_json().get(data) != simdjson::SUCCESS) {
      return set_error(res, 400, "bad_json", "body must be the record's data as a JSON object");
    }
    data = rtrim(data);
  }
  stats_delta d;
  record_op rop{key, op, req.idempotency_key, data};
  auto r = store_.apply(service, rop, fs.rules, ctx.dom, d);
  stats_.add(service, d);
  if (r.code != errc::ok) return set_error(res, status_of(r.code), errc_code(r.code), r.message);
  res.status = op == op_kind::create ? 201 : 200;
  id_body(res.body, service, r.n);
}

// ---- envelope messages -------------------------------------------------------
void app::message(std::uint32_t service, const http_request& req, http_response& res,
                  worker_ctx& ctx, const fault_state& fs) {
  auto bad = [&](std::string_view code, std::string_view msg) { set_error(res, 400, code, msg); };
  od::document doc;
  od::object root;
  if (req.content_length == 0 || ctx.od.iterate(body_view(req)).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return bad("bad_json", R"(body must be {"header":{...},"data":{...}})");
  }
  std::string type, tenant, key;
  bool has_type = false, has_tenant = false, has_header = false;
  std::string_view data;
  for (auto fr : root) {
    od::field fld;
    std::string_view k;
    if (std::move(fr).get(fld) != simdjson::SUCCESS || fld.unescaped_key().get(k) != simdjson::SUCCESS) {
      return bad("bad_json", "malformed JSON body");
    }
    if (k == "header") {
      od::object h;
      if (fld.value().get_object().get(h) != simdjson::SUCCESS) return bad("bad_json", "\"header\" must be an object");
      has_header = true;
      for (auto hr : h) {
        od::field hf;
        std::string_view hk;
        if (std::move(hr).get(hf) != simdjson::SUCCESS || hf.unescaped_key().get(hk) != simdjson::SUCCESS) {
          return bad("bad_json", "malformed JSON in \"header\"");
        }
        if (hk == "type") has_type = scalar_text(hf.value(), type);
        else if (hk == "tenantId") has_tenant = scalar_text(hf.value(), tenant) && !tenant.empty();
        else if (hk == "key") scalar_text(hf.value(), key);
      }
    } else if (k == "data") {
      od::object obj;
      if (fld.value().get_object().get(obj) != simdjson::SUCCESS ||
          obj.raw_json().get(data) != simdjson::SUCCESS) {
        return bad("bad_json", "\"data\" must be a JSON object");
      }
      data = rtrim(data);
    }
  }
  if (!has_header) return bad("bad_request", "missing \"header\" object");
  if (!has_tenant) return bad("bad_request", "missing header.tenantId");
  if (!has_type) return bad("bad_request", "missing header.type");
  op_kind op;
  if (type.find("Inc") != std::string::npos) op = op_kind::create;
  else if (type.find("Alt") != std::string::npos) op = op_kind::update;
  else if (type.find("Exc") != std::string::npos || type.find("Del") != std::string::npos) op = op_kind::del;
  else {
    return bad("bad_request", "header.type '" + type +
                                  "' names no operation (expected it to contain Inc, Alt, Exc or Del)");
  }
  if (key.empty() && !data.empty()) {
    simdjson::dom::element e;
    simdjson::dom::element kv;
    if (ctx.dom.parse(data.data(), data.size(), true).get(e) == simdjson::SUCCESS &&
        e.at_key("key").get(kv) == simdjson::SUCCESS) {
      std::string_view s;
      if (kv.get_string().get(s) == simdjson::SUCCESS) key.assign(s);
      else if (kv.is_number()) key = simdjson::minify(kv);
    }
  }
  if (key.empty()) return bad("bad_request", "no record key: set header.key or data.key");
  stats_delta d;
  auto r = store_.apply(service, record_op{key, op, req.idempotency_key, data}, fs.rules, ctx.dom, d);
  stats_.add(service, d);
  if (r.code != errc::ok) return set_error(res, status_of(r.code), errc_code(r.code), r.message);
  id_body(res.body, service, r.n);
}

// ---- test helper -------------------------------------------------------------
namespace {

void append_snapshot(std::string& o, std::uint32_t service, const record_snapshot& s) {
  o.append("{\"key\":");
  json_append_string(o, s.key);
  o.append(",\"id\":\"");
  json_append_uint(o, service);
  o.push_back('-');
  json_append_uint(o, s.n);
  o.append("\",\"version\":");
  json_append_uint(o, s.version);
  o.append(s.deleted ? ",\"deleted\":true" : ",\"deleted\":false");
  o.append(",\"data\":");
  o.append(s.data);
  o.push_back('}');
}

}  // namespace

void app::get_key(std::uint32_t service, std::string_view key, http_response& res) {
  auto s = store_.get(service, key);
  if (!s) return set_error(res, 404, "not_found", "unknown key '" + std::string(key) + "'");
  res.body.clear();
  append_snapshot(res.body, service, *s);
}

void app::get_keys(std::uint32_t service, http_response& res) {
  std::string& o = res.body;
  o.assign("{\"records\":[");
  bool first = true;
  for (const auto& s : store_.all(service)) {
    if (!first) o.push_back(',');
    first = false;
    append_snapshot(o, service, s);
  }
  o.append("]}");
}

}  // namespace stampede::target
