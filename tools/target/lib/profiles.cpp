#include "tools/target/lib/profiles.hpp"

#include <cinttypes>
#include <cstdio>
#include <vector>

#include "tools/target/lib/json_out.hpp"
#include "tools/target/lib/profile_util.hpp"

namespace stampede::target {

namespace dom = simdjson::dom;
using profile_util::find_in;
using profile_util::parse_body;
using profile_util::error_answer;
using profile_util::split_first;

namespace {

// ---- CouchDB helpers -----------------------------------------------------------
// `"error":..,"reason":..` (CouchDB's error members).
void append_error_members(std::string& out, std::string_view error, std::string_view reason,
                          std::string_view echo) {
  out.append("\"error\":");
  json_append_string(out, error);
  out.append(",\"reason\":");
  json_append_string(out, echo.empty() ? std::string(reason) : std::string(reason) + std::string(echo));
}

void couch_error(http_response& res, int status, std::string_view error, std::string_view reason,
                 std::string_view echo) {
  res.status = status;
  res.body.assign("{");
  append_error_members(res.body, error, reason, echo);
  res.body.push_back('}');
}

// CouchDB's database names: a lowercase letter, then a-z 0-9 _ $ ( ) + -
// ('/' is allowed by CouchDB too, but would need %2F in a path: not here).
bool valid_db_name(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
                    c == '(' || c == ')' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::uint64_t fnv_mix(std::uint64_t x, std::string_view s) {
  for (unsigned char c : s) {
    x ^= c;
    x *= 0x100000001b3ull;
  }
  x ^= 0xffu;  // separator, so ("ab","c") and ("a","bc") differ
  return x * 0x100000001b3ull;
}

std::uint64_t finish(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// "<gen>-<32 hex>": deterministic in (id, previous rev, deleted, body).
std::string make_rev(std::uint64_t gen, std::string_view id, std::string_view prev, bool deleted,
                     std::string_view members) {
  std::uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
  for (auto& x : h) {
    x = fnv_mix(fnv_mix(fnv_mix(fnv_mix(x, id), prev), deleted ? "1" : "0"), members);
    x = finish(x);
  }
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%" PRIu64 "-%016" PRIx64 "%016" PRIx64, gen, h[0], h[1]);
  return std::string(buf, static_cast<std::size_t>(n));
}

struct parsed_doc {
  std::string_view id, rev;
  bool has_id = false, has_rev = false, deleted = false;
  std::string members;
  std::string_view error, reason;  // set: a per-document error, nothing applied
};

// One element of "docs" into `d`; per-document problems go to d.error/d.reason.
void parse_doc(dom::element e, parsed_doc& d) {
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    d.error = "bad_request";
    d.reason = "Document must be a JSON object";
    return;
  }
  for (auto [k, v] : obj) {
    if (k == "_id") {
      d.has_id = v.get_string().get(d.id) == simdjson::SUCCESS && !d.id.empty();
    } else if (k == "_rev") {
      if (v.get_string().get(d.rev) != simdjson::SUCCESS) {
        d.error = "bad_request";
        d.reason = "Invalid rev format";
      }
      d.has_rev = true;
    } else if (k == "_deleted") {
      if (v.get_bool().get(d.deleted) != simdjson::SUCCESS) {
        d.error = "doc_validation";
        d.reason = "_deleted must be a boolean";
      }
    } else if (!k.empty() && k.front() == '_') {
      d.error = "doc_validation";
      d.reason = "Bad special document member (only _id, _rev and _deleted are supported)";
    } else {
      if (!d.members.empty()) d.members.push_back(',');
      json_append_string(d.members, k);
      d.members.push_back(':');
      d.members.append(simdjson::minify(v));
    }
  }
  if (!d.has_id) {  // CouchDB would generate one; the target requires it
    d.error = "bad_request";
    d.reason = "Document must have an _id";
  }
}


}  // namespace

// ---- CouchDB profile -----------------------------------------------------------
void couch_profile::clear() {
  std::lock_guard lk(mu_);
  dbs_.clear();
}

std::shared_ptr<couch_profile::db> couch_profile::find(std::string_view name, bool create,
                                                       bool* created) {
  return find_in(mu_, dbs_, name, create, created);
}

void couch_profile::handle(std::string_view rest, const http_request& req, http_response& res,
                           simdjson::dom::parser& parser, std::string_view echo) {
  std::string_view name, tail;
  bool has_tail = false;
  split_first(rest, name, tail, has_tail);
  const std::string_view m = req.method;
  if (!valid_db_name(name)) {
    return couch_error(res, 400, "illegal_database_name",
                       "Name: '" + std::string(name) +
                           "'. Only lowercase characters (a-z), digits (0-9), and any of the "
                           "characters _, $, (, ), +, - are allowed. Must begin with a letter.",
                       echo);
  }
  auto missing_db = [&] { couch_error(res, 404, "not_found", "Database does not exist.", echo); };
  auto method = [&](std::string_view allowed) {
    couch_error(res, 405, "method_not_allowed", "Only " + std::string(allowed) + " allowed", echo);
  };

  if (!has_tail || tail.empty()) {  // the database itself
    if (m == "PUT") {
      bool created = false;
      auto d = find(name, true, &created);
      {
        std::lock_guard lk(d->mu);
        ++d->c.requests;
      }
      if (!created) {
        return couch_error(res, 412, "file_exists",
                           "The database could not be created, the file already exists.", echo);
      }
      res.status = 201;
      res.body = R"({"ok":true})";
      return;
    }
    if (m != "GET") return method("GET,PUT");
    auto d = find(name, false);
    if (!d) return missing_db();
    std::lock_guard lk(d->mu);
    ++d->c.requests;
    std::uint64_t live = 0;
    for (const auto& [id, doc] : d->docs) live += doc.deleted ? 0 : 1;
    res.body.assign("{\"db_name\":");
    json_append_string(res.body, name);
    res.body.append(",\"doc_count\":");
    json_append_uint(res.body, live);
    res.body.append(",\"doc_del_count\":");
    json_append_uint(res.body, d->docs.size() - live);
    res.body.push_back('}');
    return;
  }

  if (tail == "_bulk_docs") {
    if (m != "POST") return method("POST");
    return bulk_docs(name, req, res, parser, echo);
  }
  if (tail == "_all_docs" || tail == "_stats") {
    if (m != "GET") return method("GET");
    auto d = find(name, false);
    if (!d) return missing_db();
    std::lock_guard lk(d->mu);
    std::string& o = res.body;
    if (tail == "_stats") {  // a test aid, not CouchDB; not counted in requests
      const counters& c = d->c;
      std::uint64_t live = 0;
      for (const auto& [id, doc] : d->docs) live += doc.deleted ? 0 : 1;
      o.assign("{\"db\":");
      json_append_string(o, name);
      const std::pair<const char*, std::uint64_t> fields[] = {
          {"requests", c.requests},   {"docs", c.docs},           {"creates", c.creates},
          {"updates", c.updates},     {"deletes", c.deletes},     {"conflicts", c.conflicts},
          {"not_found", c.not_found}, {"bad_request", c.bad_request}, {"doc_count", live},
          {"doc_del_count", d->docs.size() - live}};
      for (const auto& [k, v] : fields) {
        o.push_back(',');
        profile_util::append_uint_field(o, k, v);
      }
      o.push_back('}');
      return;
    }
    ++d->c.requests;
    std::string rows;
    std::uint64_t n = 0;
    for (const auto& [id, doc] : d->docs) {
      if (doc.deleted) continue;
      if (n++) rows.push_back(',');
      rows.append("{\"id\":");
      json_append_string(rows, id);
      rows.append(",\"key\":");
      json_append_string(rows, id);
      rows.append(",\"value\":{\"rev\":");
      json_append_string(rows, doc.rev);
      rows.append("}}");
    }
    o.assign("{\"total_rows\":");
    json_append_uint(o, n);
    o.append(",\"offset\":0,\"rows\":[");
    o.append(rows);
    o.append("]}");
    return;
  }
  if (tail.front() == '_' && tail.rfind("_design/", 0) != 0 && tail.rfind("_local/", 0) != 0) {
    return couch_error(res, 404, "not_found",
                       "no such endpoint in stampede-target's CouchDB profile: " + std::string(tail) +
                           " (known: _bulk_docs, _all_docs, _stats, {docid})",
                       echo);
  }
  if (m != "GET") return method("GET (write documents with POST _bulk_docs)");
  const std::string id = pct_decode(tail);
  auto d = find(name, false);
  if (!d) return missing_db();
  std::lock_guard lk(d->mu);
  ++d->c.requests;
  auto it = d->docs.find(id);
  if (it == d->docs.end()) return couch_error(res, 404, "not_found", "missing", echo);
  if (it->second.deleted) return couch_error(res, 404, "not_found", "deleted", echo);
  std::string& o = res.body;
  o.assign("{\"_id\":");
  json_append_string(o, id);
  o.append(",\"_rev\":");
  json_append_string(o, it->second.rev);
  if (!it->second.members.empty()) o.push_back(',');
  o.append(it->second.members);
  o.push_back('}');
}

void couch_profile::bulk_docs(std::string_view name, const http_request& req, http_response& res,
                              simdjson::dom::parser& parser, std::string_view echo) {
  dom::element root;
  dom::array arr;
  const char* why = nullptr;
  if (!parse_body(req, parser, root)) why = R"(body is not JSON (expected {"docs":[...]}))";
  else if (root.type() != dom::element_type::OBJECT) why = R"(body must be a JSON object {"docs":[...]})";
  else if (root["docs"].get_array().get(arr) != simdjson::SUCCESS) why = R"(body has no "docs" array)";
  if (why) {
    if (auto d = find(name, false)) {  // counted, nothing applied
      std::lock_guard lk(d->mu);
      ++d->c.requests;
    }
    return couch_error(res, 400, "bad_request", why, echo);
  }
  std::vector<parsed_doc> docs;
  docs.reserve(arr.size());
  for (dom::element e : arr) parse_doc(e, docs.emplace_back());

  auto d = find(name, true);  // a POST to an unknown database creates it
  std::lock_guard lk(d->mu);
  counters& c = d->c;
  ++c.requests;
  std::string& o = res.body;
  o.assign("[");
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const parsed_doc& p = docs[i];
    ++c.docs;
    if (i) o.push_back(',');
    auto fail = [&](std::string_view error, std::string_view reason) {
      o.push_back('{');
      if (p.has_id) {
        o.append("\"id\":");
        json_append_string(o, p.id);
        o.push_back(',');
      }
      append_error_members(o, error, reason, echo);
      o.push_back('}');
    };
    if (!p.error.empty()) {
      ++c.bad_request;
      fail(p.error, p.reason);
      continue;
    }
    auto it = d->docs.find(p.id);
    const bool exists = it != d->docs.end();
    if (!exists && p.has_rev) {
      ++c.not_found;
      fail("not_found", "missing");
      continue;
    }
    // A live document needs its current rev; so does a deleted one if a rev
    // is given (no rev: recreate it, as CouchDB does, generation continues).
    if (exists && (p.has_rev ? p.rev != it->second.rev : !it->second.deleted)) {
      ++c.conflicts;
      fail("conflict", "Document update conflict.");
      continue;
    }
    if (!exists) it = d->docs.emplace(std::string(p.id), doc{}).first;
    doc& cur = it->second;
    const bool was_live = exists && !cur.deleted;
    if (p.deleted) ++c.deletes;
    else if (was_live) ++c.updates;
    else ++c.creates;
    cur.rev = make_rev(cur.gen + 1, p.id, cur.rev, p.deleted, p.members);
    ++cur.gen;
    cur.deleted = p.deleted;
    cur.members = p.members;
    o.append("{\"ok\":true,\"id\":");
    json_append_string(o, p.id);
    o.append(",\"rev\":");
    json_append_string(o, cur.rev);
    o.push_back('}');
  }
  o.push_back(']');
  res.status = 201;
}

// ---- webhook profile -------------------------------------------------------------
namespace {

std::string_view answer_name(std::uint8_t a) {
  static constexpr std::string_view names[] = {"204", "empty200", "accepted", "malformed200"};
  return names[a];
}


// The key of one received element: "key", else "_id", else "id" (string, or
// a number as its text). False if it has none.
bool element_key(dom::element e, std::string& key) {
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (const char* name : {"key", "_id", "id"}) {
    dom::element v;
    if (obj.at_key(name).get(v) != simdjson::SUCCESS) continue;
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) {
      key.assign(s);
      return true;
    }
    if (v.is_number()) {
      key = simdjson::minify(v);
      return true;
    }
  }
  return false;
}

}  // namespace

void hook_profile::clear() {
  std::lock_guard lk(mu_);
  hooks_.clear();
}

std::shared_ptr<hook_profile::hook> hook_profile::find(std::string_view name, bool create) {
  return find_in(mu_, hooks_, name, create);
}

void hook_profile::handle(std::string_view rest, const http_request& req, http_response& res,
                          simdjson::dom::parser& parser, std::string_view echo) {
  std::string_view raw_name, tail;
  bool has_tail = false;
  split_first(rest, raw_name, tail, has_tail);
  const std::string name = pct_decode(raw_name);
  const std::string_view m = req.method;
  if (name.empty() || (has_tail && tail != "_config")) {
    return error_answer(res, 404, "not_found",
                      "no such endpoint: " + std::string(req.path) +
                          " (expected /hooks/{name} or /hooks/{name}/_config)",
                      echo);
  }
  if (m != "POST" && m != "GET") {
    return error_answer(res, 405, "method_not_allowed",
                      "use POST or GET " + std::string(req.path), echo);
  }
  if (m == "GET") {  // state and config of a hook never posted to: zeros, defaults
    auto h = find(name, false);
    static const hook fresh;
    if (!h) {
      res.body = has_tail ? config_json(fresh) : state_json(fresh);
      return;
    }
    std::lock_guard lk(h->mu);
    res.body = has_tail ? config_json(*h) : state_json(*h);
    return;
  }
  auto h = find(name, true);
  if (has_tail) return configure(*h, req, res, parser, echo);
  receive(*h, name, req, res, parser, echo);
}

void hook_profile::configure(hook& h, const http_request& req, http_response& res,
                             simdjson::dom::parser& parser, std::string_view echo) {
  dom::element root;
  dom::object obj;
  if (!parse_body(req, parser, root) || root.get_object().get(obj) != simdjson::SUCCESS) {
    return error_answer(res, 400, "bad_json",
                      R"(POST /hooks/{name}/_config needs a JSON object {"answer":..,"fail_next":N})",
                      echo);
  }
  answer mode = answer::no_content;
  std::uint64_t fail_next = 0;
  for (auto [k, v] : obj) {
    if (k == "answer") {
      std::string_view s;
      bool known = false;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        for (std::uint8_t a = 0; a < 4; ++a) {
          if (s == answer_name(a)) {
            mode = static_cast<answer>(a);
            known = true;
          }
        }
      }
      if (!known) {
        return error_answer(res, 400, "bad_request",
                          R"("answer" must be "204", "empty200", "accepted" or "malformed200")", echo);
      }
    } else if (k == "fail_next") {
      if (v.get_uint64().get(fail_next) != simdjson::SUCCESS) {
        return error_answer(res, 400, "bad_request", R"("fail_next" must be a non-negative integer)", echo);
      }
    } else {
      return error_answer(res, 400, "bad_request",
                        "unknown hook config field '" + std::string(k) + "' (known: answer, fail_next)",
                        echo);
    }
  }
  std::lock_guard lk(h.mu);
  h.mode = mode;
  h.fail_next = fail_next;
  res.body = config_json(h);
}

void hook_profile::receive(hook& h, std::string_view name, const http_request& req,
                           http_response& res, simdjson::dom::parser& parser,
                           std::string_view echo) {
  dom::element root;
  const bool is_json = parse_body(req, parser, root);
  std::lock_guard lk(h.mu);
  if (h.fail_next > 0) {
    --h.fail_next;
    ++h.failed;
    return error_answer(res, 503, "unavailable",
                      "hook '" + std::string(name) + "' fails this post (fail_next, " +
                          std::to_string(h.fail_next) + " left)",
                      echo);
  }
  if (!is_json) {
    ++h.rejected;
    return error_answer(res, 400, "bad_json", "body is not JSON", echo);
  }
  dom::array arr;
  bool has_arr = root.get_array().get(arr) == simdjson::SUCCESS;
  dom::object obj;
  if (!has_arr && root.get_object().get(obj) == simdjson::SUCCESS) {
    for (auto [k, v] : obj) {
      if (v.get_array().get(arr) == simdjson::SUCCESS) {
        has_arr = true;
        break;
      }
    }
  }
  ++h.requests;
  std::string key;
  if (has_arr) {
    for (dom::element e : arr) {
      ++h.records;
      if (element_key(e, key)) ++h.keys[key];
      else ++h.unkeyed;
    }
  }
  std::string_view body = req.body_view();
  h.last_body_bytes = body.size();
  std::size_t cut = std::min(body.size(), max_kept_body);
  // Cut on a UTF-8 boundary so the kept text stays valid UTF-8.
  while (cut < body.size() && cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
  h.last_body.assign(body.substr(0, cut));
  h.idempotency_key.assign(req.idempotency_key);
  h.batch_idempotency_key.assign(req.batch_idempotency_key);
  switch (h.mode) {
    case answer::no_content: res.status = 204; break;
    case answer::empty200: res.status = 200; break;
    case answer::accepted:
      res.status = 202;
      res.body = R"({"status":"accepted"})";
      break;
    case answer::malformed200:
      res.status = 200;
      res.content_type = "text/html";
      res.body = "<html>ok</html>";
      break;
  }
}

std::string hook_profile::config_json(const hook& h) {
  std::string o = "{\"answer\":";
  json_append_string(o, answer_name(static_cast<std::uint8_t>(h.mode)));
  o.append(",\"fail_next\":");
  json_append_uint(o, h.fail_next);
  o.push_back('}');
  return o;
}

std::string hook_profile::state_json(const hook& h) {
  std::string o = "{";
  const std::pair<const char*, std::uint64_t> fields[] = {
      {"requests", h.requests}, {"records", h.records},   {"unkeyed", h.unkeyed},
      {"failed", h.failed},     {"rejected", h.rejected}};
  for (const auto& [k, v] : fields) {
    profile_util::append_uint_field(o, k, v);
    o.push_back(',');
  }
  o.append("\"keys\":{");
  bool first = true;
  for (const auto& [k, n] : h.keys) {
    if (!first) o.push_back(',');
    first = false;
    json_append_string(o, k);
    o.push_back(':');
    json_append_uint(o, n);
  }
  o.append("},\"last_body\":");
  json_append_string(o, h.last_body);
  o.append(",\"last_body_bytes\":");
  json_append_uint(o, h.last_body_bytes);
  o.append(",\"headers\":{\"idempotency-key\":");
  json_append_string(o, h.idempotency_key);
  o.append(",\"x-batch-idempotency-key\":");
  json_append_string(o, h.batch_idempotency_key);
  o.append("},\"config\":");
  o.append(config_json(h));
  o.push_back('}');
  return o;
}

}  // namespace stampede::target
