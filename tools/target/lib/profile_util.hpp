// Helpers shared by the stampede-target profiles (profiles.cpp,
// erp_profiles.cpp): body parsing, path splitting, the per-name table lookup
// and the {"error":{"code","message"}} answer.
//
// Operation: header-only inline functions; no state of their own.
// Concurrency: `find_in` takes the caller's table mutex; the rest are pure.
// Limitations: `parse_body` needs the server's SIMDJSON_PADDING after the body.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "tools/target/lib/http.hpp"
#include "tools/target/lib/json_out.hpp"

namespace stampede::target::profile_util {

/// Parses the request body into `root`; false if empty or not JSON.
inline bool parse_body(const http_request& req, simdjson::dom::parser& parser,
                       simdjson::dom::element& root) {
  // The server guarantees SIMDJSON_PADDING readable bytes after the body.
  return req.content_length > 0 &&
         parser.parse(req.body, req.content_length, false).get(root) == simdjson::SUCCESS;
}

/// Splits "a/b/c" at the first '/': head "a", tail "b/c" (has_tail false when no '/').
inline void split_first(std::string_view s, std::string_view& head, std::string_view& tail,
                        bool& has_tail) {
  const auto slash = s.find('/');
  has_tail = slash != std::string_view::npos;
  head = s.substr(0, slash);
  tail = has_tail ? s.substr(slash + 1) : std::string_view{};
}

/// The entry `name` of a profile's table (a database, a hook); created (and
/// *created set) when absent and `create`, else null.
template <class T>
std::shared_ptr<T> find_in(std::mutex& mu, std::map<std::string, std::shared_ptr<T>, std::less<>>& m,
                           std::string_view name, bool create, bool* created = nullptr) {
  std::lock_guard lk(mu);
  auto it = m.find(name);
  if (created) *created = false;
  if (it != m.end()) return it->second;
  if (!create) return nullptr;
  if (created) *created = true;
  return m.emplace(std::string(name), std::make_shared<T>()).first->second;
}

/// `res` = status + {"error":{"code":..,"message":..<echo>}}.
inline void error_answer(http_response& res, int status, std::string_view code,
                         std::string_view msg, std::string_view echo) {
  res.status = status;
  res.body = echo.empty() ? json_error(code, msg) : json_error(code, std::string(msg) + std::string(echo));
}

/// Appends `"name":v`.
inline void append_uint_field(std::string& o, std::string_view name, std::uint64_t v) {
  json_append_string(o, name);
  o.push_back(':');
  json_append_uint(o, v);
}

}  // namespace stampede::target::profile_util
