#include "target/response_map.hpp"

#include "pipeline/json_writer.hpp"

#include <simdjson.h>

#include <deque>

#include <unordered_map>

namespace stampede {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

// The thread's parser for one parse. A big answer must not pin its memory
// for the life of the thread: once the parser grew past keep_capacity its
// buffers (the document and its padded copy) are released when the use ends.
struct parse_scope {
  static constexpr std::size_t keep_capacity = 1u << 20;
  simdjson::dom::parser& p = parser();
  parse_scope() = default;
  parse_scope(const parse_scope&) = delete;
  parse_scope& operator=(const parse_scope&) = delete;
  ~parse_scope() {
    if (p.capacity() > keep_capacity) p = simdjson::dom::parser{};
  }
};

record_outcome failed(std::string error, bool retryable) {
  record_outcome o;
  o.error = std::move(error);
  o.retryable = retryable;
  return o;
}

std::string render(element e) {
  std::string_view sv;
  if (e.type() == element_type::STRING && e.get_string().get(sv) == simdjson::SUCCESS)
    return std::string(sv);
  return simdjson::minify(e);
}

std::optional<element> at(element root, const std::string& ptr) {
  element out;
  if (root.at_pointer(ptr).get(out) != simdjson::SUCCESS) return std::nullopt;
  if (out.is_null()) return std::nullopt;
  return out;
}

/// An error value that says nothing: "", whitespace, false (SET answers
/// `"erro":""` for a success).
bool blank(element e) {
  std::string_view sv;
  if (e.type() == element_type::STRING && e.get_string().get(sv) == simdjson::SUCCESS)
    return sv.find_first_not_of(" \t\r\n") == std::string_view::npos;
  bool b = true;
  if (e.type() == element_type::BOOL && e.get_bool().get(b) == simdjson::SUCCESS) return !b;
  return false;
}

std::optional<element> present(element result, const std::string& field) {
  auto e = at(result, normalize_pointer(field));
  if (!e || blank(*e)) return std::nullopt;
  return e;
}

std::optional<std::string> first_error(element result, const response_mapping& m) {
  const auto& ptrs = m.error_fields;
  if (m.rule == error_rule::first_decides) {
    // SET: only the first listed field decides; the others are its detail.
    if (ptrs.empty()) return std::nullopt;
    auto e = present(result, ptrs.front());
    if (!e) return std::nullopt;
    std::string msg = render(*e);
    for (std::size_t i = 1; i < ptrs.size(); ++i)
      if (auto d = present(result, ptrs[i])) msg += ": " + render(*d);
    return msg;
  }
  for (const auto& f : ptrs) {
    if (auto e = present(result, f)) return render(*e);
  }
  return std::nullopt;
}

record_outcome outcome_of(element result, const response_mapping& m, const std::string& id_ptr) {
  record_outcome o;
  if (auto err = first_error(result, m)) {
    o.received = cap_received(simdjson::minify(result));
    o.ok = false;
    o.error = std::move(*err);
    if (o.error.empty()) o.error = "rejected by target (empty error)";
    o.retryable = false;
    return o;
  }
  o.ok = true;
  // A success's answer is kept only when the journal retains every attempt:
  // copying each result object costs an allocation per record.
  if (m.keep_success_answers)
    o.received = cap_received(simdjson::minify(result));
  if (!id_ptr.empty())
    if (auto id = at(result, id_ptr)) o.remote_id = render(*id);
  for (const auto& r : m.returns)
    if (auto v = at(result, r.pointer)) o.returned.emplace_back(r.name, render(*v));
  return o;
}

mapped_response all_malformed(const send_batch& b, std::string why) {
  mapped_response r;
  r.err = map_errc::malformed;
  r.error = "malformed response: " + why;
  r.outcomes.assign(b.records.size(), failed(r.error, true));
  return r;
}

}  // namespace

std::string cap_received(std::string_view text) {
  if (text.size() <= max_received_bytes) return std::string(text);
  std::size_t n = max_received_bytes;
  // Back off UTF-8 continuation bytes (10xxxxxx) so no character is cut.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n));
}

std::string normalize_pointer(std::string_view field) {
  if (field.empty() || field.front() == '/') return std::string(field);
  std::string out;
  out.reserve(field.size() + 1);
  out += '/';
  out += field;
  return out;
}

mapped_response map_batch_response(std::string_view body, const response_mapping& m,
                                   const send_batch& b) {
  parse_scope ps;
  element root;
  auto ec = ps.p.parse(body.data(), body.size()).get(root);
  if (ec != simdjson::SUCCESS) return all_malformed(b, simdjson::error_message(ec));
  element arr_el;
  if (root.at_pointer(normalize_pointer(m.results)).get(arr_el) != simdjson::SUCCESS)
    return all_malformed(b, "no results at JSON pointer '" + m.results + "'");
  simdjson::dom::array arr;
  if (arr_el.get_array().get(arr) != simdjson::SUCCESS)
    return all_malformed(b, "'" + m.results + "' is not an array");

  const std::string id_ptr = normalize_pointer(m.id_field);
  mapped_response out;
  out.outcomes.resize(b.records.size());
  std::vector<bool> have(b.records.size(), false);

  if (m.key_field.empty()) {
    std::size_t i = 0;
    for (element r : arr) {
      if (i >= b.records.size()) break;
      out.outcomes[i] = outcome_of(r, m, id_ptr);
      have[i] = true;
      ++i;
    }
  } else {
    const std::string key_ptr = normalize_pointer(m.key_field);
    // A key with invalid UTF-8 went out with U+FFFD in its place (the one
    // JSON escaper): match what the target echoes, not the raw bytes.
    std::deque<std::string> sent_keys;
    std::unordered_map<std::string_view, std::vector<std::size_t>> by_key;
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      std::string_view k = b.records[i].key;
      if (!utf8_valid(k)) k = sent_keys.emplace_back(json_string_value(k));
      by_key[k].push_back(i);
    }
    std::unordered_map<std::string_view, std::size_t> used;  // key -> results consumed
    for (element r : arr) {
      auto k = at(r, key_ptr);
      if (!k) continue;
      std::string key = render(*k);
      auto it = by_key.find(key);
      if (it == by_key.end()) continue;
      std::size_t& n = used[it->first];
      if (n >= it->second.size()) continue;  // more results than records with this key
      std::size_t idx = it->second[n++];
      out.outcomes[idx] = outcome_of(r, m, id_ptr);
      have[idx] = true;
    }
  }
  for (std::size_t i = 0; i < b.records.size(); ++i) {
    if (!have[i]) {
      out.outcomes[i] = failed("no result for key " + json_string_value(b.records[i].key), false);
    }
  }
  return out;
}

record_outcome map_single_response(std::string_view body, const response_mapping& m) {
  bool blank = true;
  for (char c : body)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') { blank = false; break; }
  if (blank) {
    record_outcome o;
    o.ok = true;
    return o;
  }
  parse_scope ps;
  element root;
  auto ec = ps.p.parse(body.data(), body.size()).get(root);
  if (ec != simdjson::SUCCESS) {
    record_outcome o = failed(std::string("malformed response: ") + simdjson::error_message(ec), true);
    o.received = cap_received(body);
    return o;
  }
  auto o = outcome_of(root, m, normalize_pointer(m.id_field));
  o.received = cap_received(body);
  return o;
}

std::optional<std::string> error_text(std::string_view body, const response_mapping& m) {
  parse_scope ps;
  element root;
  if (ps.p.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  return first_error(root, m);
}

std::optional<std::string> json_value_at(std::string_view body, std::string_view pointer) {
  parse_scope ps;
  element root;
  if (ps.p.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  auto e = at(root, normalize_pointer(pointer));
  if (!e) return std::nullopt;
  return render(*e);
}

}  // namespace stampede
