// auth: the credentials header for a target's requests.
//
// Operation: an auth_provider per kind, each built from its own config
//   struct (pipeline/config.hpp: static_key_auth, oauth2_auth), behind the
//   authenticator the runtime shares. `get(cb)` hands `cb` the header to add: none (no header), a
//   static header (auth.header: auth.value, already env-interpolated), or an
//   OAuth2 client-credentials bearer token. Tokens are fetched with a form
//   POST to auth.token_url through the http_client, cached, refreshed in the
//   background once 80% of expires_in has passed (the old token is used
//   meanwhile), and fetched anew when the cached one expired or when the
//   caller reports a 401 with `invalidate(value)`. Concurrent get()s while a
//   fetch runs wait for that one fetch. A failed fetch reports the token
//   endpoint's status (or transport facts) in auth_result; the caller
//   classifies it (retry.hpp, endpoint_kind::token) and decides on retries:
//   the authenticator itself never retries. Every token request is reported
//   to the hook set with on_token_exchange() (metrics, debug logs).
// Concurrency: client-thread only: call get()/invalidate() from http_client
//   completions or timers (the send_driver does). Callbacks run on the
//   client thread, possibly inline.
// Limitations: one token per authenticator; token errors carry the HTTP
//   status and a redacted, truncated body, never the client secret or a token.
#pragma once

#include "pipeline/config.hpp"
#include "target/http_client.hpp"
#include "pipeline/redact.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stampede {

enum class auth_errc { ok = 0, token_transport, token_rejected, token_malformed };

struct auth_result {
  auth_errc err = auth_errc::ok;
  std::string error;                                      // redacted
  bool retryable = false;                                 // transport / 5xx / 429 at the token URL
  std::optional<std::pair<std::string, std::string>> header;  // name, value (secret!)
  // What the token endpoint did (for the failure table): status 0 = no answer.
  int http_status = 0;
  bool timed_out = false;
  bool sent = false;
  bool cancelled = false;
  std::string url;                                        // auth.token_url, safe_url()'d
  bool ok() const { return err == auth_errc::ok; }
};

/// One token request, for exchange observers: no body, no header, no token.
struct token_exchange {
  std::string_view url;           // safe_url(auth.token_url)
  int status = 0;                 // 0: no answer
  bool timed_out = false;
  bool cancelled = false;
  std::string_view error;         // transport error text
  std::chrono::microseconds latency{0};
  std::size_t request_bytes = 0, response_bytes = 0;
};

/// A URL fit for logs and errors: user:password@ removed, query values
/// replaced by "***" ("https://u:p@h/x?key=abc" -> "https://h/x?key=***").
std::string safe_url(std::string_view url);

/// The credentials of one auth kind, as an authenticator asks for them.
/// One implementation per kind (auth.cpp: none and static; auth_oauth2.cpp:
/// OAuth2 client credentials), each built from its own config struct.
class auth_provider {
public:
  virtual ~auth_provider() = default;
  /// Supplies the header (or an error) to `cb`, on the client thread.
  virtual void get(std::function<void(const auth_result&)> cb) = 0;
  /// A request sent with header value `value` got 401: drop it if it is ours.
  virtual void invalidate(std::string_view value) { (void)value; }
  /// True when a 401 is worth one refresh-and-retry.
  virtual bool refreshable() const { return false; }
  virtual std::uint64_t token_fetches() const { return 0; }
  /// Called on the client thread after every token request.
  virtual void on_token_exchange(std::function<void(const token_exchange&)> hook) { (void)hook; }
};

/// Token answers longer than this are not read (a token is a few hundred bytes).
inline constexpr std::uint64_t max_token_answer_bytes = 1u << 20;

std::shared_ptr<auth_provider> make_no_auth();
std::shared_ptr<auth_provider> make_static_key(const static_key_auth& cfg);
/// `tls`: the CAs the token URL is verified against (the target's).
std::shared_ptr<auth_provider> make_oauth2(const oauth2_auth& cfg, http_client& client,
                                           duration connect_timeout, duration request_timeout,
                                           tls_config tls);

/// A target's authenticator: the provider of its auth.kind, and the
/// redaction of every secret the process knows. Create with
/// std::make_shared (the runtime shares it with its drivers).
class authenticator : public std::enable_shared_from_this<authenticator> {
public:
  static constexpr std::uint64_t max_token_answer_bytes = stampede::max_token_answer_bytes;

  /// `tls`: the CAs the token URL is verified against (the target's).
  authenticator(const auth_config& cfg, http_client& client, duration connect_timeout,
                duration request_timeout, tls_config tls = {});

  /// Supplies the header (or an error) to `cb`.
  void get(std::function<void(const auth_result&)> cb) { p_->get(std::move(cb)); }
  /// A request sent with header value `value` got 401: drop that token so the
  /// next get() fetches a new one. No effect for none/static or a stale value.
  void invalidate(std::string_view value) { p_->invalidate(value); }
  /// True when a 401 is worth one refresh-and-retry (oauth2).
  bool refreshable() const { return p_->refreshable(); }
  std::uint64_t token_fetches() const { return p_->token_fetches(); }
  /// redactor::global().apply(text): every secret the process knows, this
  /// authenticator's (registered at construction, tokens as fetched) included.
  std::string redact(std::string_view text) const;
  /// Called on the client thread after every token request (set before use).
  void on_token_exchange(std::function<void(const token_exchange&)> hook) {
    p_->on_token_exchange(std::move(hook));
  }

private:
  std::shared_ptr<auth_provider> p_;
};

}  // namespace stampede
