// Authentication for stampede-target: static bearer keys and OAuth2
// client-credentials tokens.
//
// Operation: `authenticator::check` validates an Authorization header for
//   /services/ requests per the configured mode. `issue` implements
//   POST /oauth/token: credentials come from the form body
//   (grant_type=client_credentials&client_id=..&client_secret=..) or from
//   HTTP Basic auth; a random 32-hex-digit token valid token_ttl_s is returned.
// Concurrency: thread-safe (token table under a mutex).
// Limitations: tokens live in memory only (a restart invalidates them); they
//   survive reset(); expired tokens are purged lazily when new ones are issued.
#pragma once

#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stampede::target {

enum class auth_mode { none, static_key, oauth2 };

class authenticator {
public:
  authenticator(auth_mode mode, std::string static_key, std::string client_id,
                std::string client_secret, int token_ttl_s);

  auth_mode mode() const { return mode_; }
  /// True if `authorization` (the header value) grants access to /services/.
  /// On false, `why` says what is wrong.
  bool check(std::string_view authorization, std::string& why);

  struct token_answer {
    int status = 200;  // 200, 400 or 401
    std::string body;  // JSON
  };
  token_answer issue(std::string_view form_body, std::string_view authorization);

private:
  auth_mode mode_;
  std::string static_key_, client_id_, client_secret_;
  int ttl_s_;
  std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> tokens_;
  std::mt19937_64 rng_;
  std::size_t issued_since_purge_ = 0;
};

/// Decodes application/x-www-form-urlencoded value escapes (%XX, '+').
std::string form_decode(std::string_view s);
/// Value of `name` in a form body, decoded; empty if absent.
std::string form_value(std::string_view body, std::string_view name);
/// Standard base64 decode; false on invalid input.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace stampede::target
