#include "tools/target/lib/auth.hpp"

#include "tools/target/lib/json_out.hpp"

namespace stampede::target {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool consume_scheme(std::string_view& v, std::string_view scheme) {
  if (v.size() <= scheme.size() || v[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i]) return false;
  }
  v.remove_prefix(scheme.size() + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return true;
}

// Constant-time comparison so the target does not leak key prefixes by timing.
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

}  // namespace

std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string form_value(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    auto eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return {};
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

authenticator::authenticator(auth_mode mode, std::string static_key, std::string client_id,
                             std::string client_secret, int token_ttl_s)
    : mode_(mode),
      static_key_(std::move(static_key)),
      client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      ttl_s_(token_ttl_s),
      rng_(std::random_device{}()) {}

bool authenticator::check(std::string_view authorization, std::string& why) {
  if (mode_ == auth_mode::none) return true;
  std::string_view v = authorization;
  if (v.empty()) {
    why = "missing Authorization header (expected 'Authorization: Bearer <token>')";
    return false;
  }
  if (!consume_scheme(v, "bearer")) {
    why = "Authorization must use the Bearer scheme";
    return false;
  }
  if (mode_ == auth_mode::static_key) {
    if (same(v, static_key_)) return true;
    why = "invalid bearer key";
    return false;
  }
  std::lock_guard lk(mu_);
  auto it = tokens_.find(std::string(v));
  if (it == tokens_.end()) {
    why = "unknown access token (get one from POST /oauth/token)";
    return false;
  }
  if (std::chrono::steady_clock::now() >= it->second) {
    why = "access token expired (get a new one from POST /oauth/token)";
    return false;
  }
  return true;
}

authenticator::token_answer authenticator::issue(std::string_view form_body,
                                                 std::string_view authorization) {
  if (mode_ != auth_mode::oauth2) {
    return {404, json_error("not_found", "OAuth2 is not enabled on this target (start it with --auth oauth2)")};
  }
  std::string id = form_value(form_body, "client_id");
  std::string secret = form_value(form_body, "client_secret");
  std::string_view v = authorization;
  if (consume_scheme(v, "basic")) {
    std::string decoded;
    if (!base64_decode(v, decoded) || decoded.find(':') == std::string::npos) {
      return {401, json_error("invalid_client", "malformed Basic credentials")};
    }
    auto colon = decoded.find(':');
    id = form_decode(decoded.substr(0, colon));
    secret = form_decode(decoded.substr(colon + 1));
  }
  const std::string grant = form_value(form_body, "grant_type");
  if (grant != "client_credentials") {
    return {400, json_error("unsupported_grant_type",
                            "grant_type must be client_credentials")};
  }
  if (!same(id, client_id_) || !same(secret, client_secret_)) {
    return {401, json_error("invalid_client", "wrong client_id or client_secret")};
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string token(32, '0');
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lk(mu_);
    for (int half = 0; half < 2; ++half) {
      auto r = rng_();
      for (int i = 0; i < 16; ++i) token[half * 16 + i] = hex[(r >> (i * 4)) & 0xF];
    }
    if (++issued_since_purge_ >= 1024) {
      issued_since_purge_ = 0;
      std::erase_if(tokens_, [&](const auto& kv) { return kv.second <= now; });
    }
    tokens_[token] = now + std::chrono::seconds(ttl_s_);
  }
  std::string body = R"({"access_token":)";
  json_append_string(body, token);
  body.append(R"(,"token_type":"Bearer","expires_in":)");
  json_append_uint(body, static_cast<std::uint64_t>(ttl_s_));
  body.push_back('}');
  return {200, std::move(body)};
}

}  // namespace stampede::target
