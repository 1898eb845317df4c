// Test helpers for stampede-target integration tests: a small libcurl client
// and JSON access via simdjson DOM.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tools/target/lib/server.hpp"

namespace target_test {

struct reply {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  double seconds = 0;
};

inline std::size_t on_body(char* p, std::size_t s, std::size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

inline std::size_t on_header(char* p, std::size_t s, std::size_t n, void* ud) {
  std::string line(p, s * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(ud))[name] = value;
  }
  return s * n;
}

/// One HTTP request. `reuse` keeps a connection between calls when given.
inline reply http(const std::string& method, const std::string& url, const std::string& body = {},
                  const std::vector<std::string>& headers = {}, CURL* reuse = nullptr,
                  long timeout_ms = 10000) {
  CURL* h = reuse ? reuse : curl_easy_init();
  if (reuse) curl_easy_reset(h);
  reply r;
  curl_slist* hl = nullptr;
  for (const auto& x : headers) hl = curl_slist_append(hl, x.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT" || !body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (method == "GET") curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  r.curl = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r.seconds);
  curl_slist_free_all(hl);
  if (!reuse) curl_easy_cleanup(h);
  return r;
}

/// Parsed JSON document kept alive with its parser.
struct json {
  explicit json(const std::string& text) : parser(std::make_unique<simdjson::dom::parser>()) {
    if (parser->parse(text).get(root) != simdjson::SUCCESS) {
      throw std::runtime_error("not JSON: " + text);
    }
  }
  std::unique_ptr<simdjson::dom::parser> parser;
  simdjson::dom::element root;
  simdjson::dom::element at(const std::string& pointer) const {
    simdjson::dom::element e;
    if (root.at_pointer(pointer).get(e) != simdjson::SUCCESS) {
      throw std::runtime_error("missing " + pointer + " in " + simdjson::minify(root));
    }
    return e;
  }
  std::string str(const std::string& pointer) const { return std::string(at(pointer).get_string().value()); }
  std::uint64_t num(const std::string& pointer) const { return at(pointer).get_uint64().value(); }
  bool has(const std::string& pointer) const {
    simdjson::dom::element e;
    return root.at_pointer(pointer).get(e) == simdjson::SUCCESS;
  }
};

inline bool is_json(const std::string& text) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return p.parse(text).get(e) == simdjson::SUCCESS;
}

/// A started in-process server on 127.0.0.1:0.
struct running {
  explicit running(stampede::target::options o = {}) : srv(o) { srv.start(); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(srv.port()) + path;
  }
  stampede::target::server srv;
};

}  // namespace target_test
