// auth_oauth2: the OAuth2 client-credentials provider (auth.hpp): tokens
// fetched with a form POST to token_url (or HTTP Basic credentials),
// cached, refreshed in the background at 80% of expires_in, fetched anew
// when expired or invalidated by a 401. Concurrent get()s wait for one
// fetch. Client-thread only; in-flight fetches keep the provider alive.
#include "target/auth.hpp"

#include "target/request_builder.hpp"
#include "target/response_map.hpp"
#include "target/retry.hpp"

#include <charconv>

namespace stampede {
namespace {

class oauth2_provider final : public auth_provider,
                              public std::enable_shared_from_this<oauth2_provider> {
public:
  oauth2_provider(const oauth2_auth& cfg, http_client& client, duration connect_timeout,
                  duration request_timeout, tls_config tls)
      : cfg_(cfg), tls_(std::move(tls)), client_(client), connect_timeout_(connect_timeout),
        request_timeout_(request_timeout) {}

  void get(std::function<void(const auth_result&)> cb) override;
  void invalidate(std::string_view value) override;
  bool refreshable() const override { return true; }
  std::uint64_t token_fetches() const override { return fetches_; }
  void on_token_exchange(std::function<void(const token_exchange&)> hook) override {
    hook_ = std::move(hook);
  }

private:
  using clock = std::chrono::steady_clock;
  void fetch();
  void finish_fetch(const auth_result& r);

  oauth2_auth cfg_;
  tls_config tls_;
  http_client& client_;
  duration connect_timeout_, request_timeout_;
  std::string token_header_;  // "Bearer abc"
  clock::time_point refresh_at_{}, expires_at_{};
  bool fetching_ = false;
  std::vector<std::function<void(const auth_result&)>> waiters_;
  std::atomic<std::uint64_t> fetches_{0};
  std::function<void(const token_exchange&)> hook_;
};

void oauth2_provider::get(std::function<void(const auth_result&)> cb) {
  const auto now = clock::now();
  const bool valid = !token_header_.empty() && now < expires_at_;
  if (valid) {
    if (now >= refresh_at_ && !fetching_) fetch();  // background refresh
    auth_result r;
    r.header.emplace("Authorization", token_header_);
    return cb(r);
  }
  waiters_.push_back(std::move(cb));
  if (!fetching_) fetch();
}

void oauth2_provider::invalidate(std::string_view value) {
  if (!token_header_.empty() && value == token_header_) {
    token_header_.clear();
    expires_at_ = refresh_at_ = clock::time_point{};
  }
}

void oauth2_provider::fetch() {
  fetching_ = true;
  ++fetches_;
  http_request rq;
  rq.method = "POST";
  rq.url = cfg_.token_url;
  rq.connect_timeout = connect_timeout_;
  rq.timeout = request_timeout_;
  rq.max_response_bytes = max_token_answer_bytes;
  rq.ca_file = tls_.ca_file;
  rq.ca_dir = tls_.ca_dir;
  rq.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  rq.headers.emplace_back("Accept", "application/json");
  rq.body = "grant_type=client_credentials";
  if (cfg_.client_secret_basic) {
    rq.headers.emplace_back("Authorization", "Basic " + basic_credentials(cfg_));
  } else {
    rq.body += "&client_id=" + url_encode(cfg_.client_id) +
               "&client_secret=" + url_encode(cfg_.client_secret);
  }
  if (!cfg_.scope.empty()) rq.body += "&scope=" + url_encode(cfg_.scope);
  if (!cfg_.audience.empty()) rq.body += "&audience=" + url_encode(cfg_.audience);
  for (const auto& [name, value] : cfg_.form) rq.body += "&" + url_encode(name) + "=" + url_encode(value);
  auto self = shared_from_this();
  const auto started = clock::now();  // expiry counts from the request, not the answer
  const std::size_t request_bytes = rq.body.size();
  const bool queued = client_.submit(std::move(rq), [self, started, request_bytes](http_response resp) {
    // The token is a secret from now on; the answer is redacted before
    // anything reads it (a refusal may echo the client id or secret, also
    // URL-encoded).
    const std::string access_token = resp.status >= 200 && resp.status <= 299
                                         ? json_value_at(resp.body, "/access_token").value_or("")
                                         : std::string();
    redactor::global().add_token(access_token);
    redactor::global().apply_in_place(resp.body);
    redactor::global().apply_in_place(resp.error);
    if (self->hook_) {
      const std::string url = safe_url(self->cfg_.token_url);
      token_exchange ev;
      ev.url = url;
      ev.status = resp.status;
      ev.timed_out = resp.timed_out;
      ev.cancelled = resp.cancelled;
      ev.error = resp.error;
      ev.latency = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started);
      ev.request_bytes = request_bytes;
      ev.response_bytes = resp.body.size();
      self->hook_(ev);
    }
    auth_result r;
    r.http_status = resp.status;
    r.timed_out = resp.timed_out;
    r.sent = resp.sent;
    r.cancelled = resp.cancelled;
    r.url = safe_url(self->cfg_.token_url);
    if (resp.status < 200 || resp.status > 299) {
      exchange_facts f;
      f.kind = endpoint_kind::token;
      f.status = resp.status;
      f.transport_error = resp.transport_error();
      f.timed_out = resp.timed_out;
      f.cancelled = resp.cancelled;
      r.retryable = classify(f).retry();
      if (resp.transport_error()) {
        r.err = auth_errc::token_transport;
        r.error = "oauth2 token request to " + r.url + " failed: " + resp.error;
      } else {
        r.err = auth_errc::token_rejected;
        std::string body = resp.body.substr(0, 200);
        r.error = "oauth2 token request to " + r.url + " answered HTTP " +
                  std::to_string(resp.status) + ": " + body +
                  " (check auth.client_id / auth.client_secret / auth.scope)";
      }
      return self->finish_fetch(r);
    }
    if (access_token.empty()) {
      r.err = auth_errc::token_malformed;
      r.retryable = true;
      r.error = "oauth2 token response from " + r.url + " has no access_token";
      return self->finish_fetch(r);
    }
    std::string type = json_value_at(resp.body, "/token_type").value_or("Bearer");
    if (type.empty() || type == "bearer" || type == "BEARER") type = "Bearer";
    long long ttl = 3600;
    if (auto e = json_value_at(resp.body, "/expires_in")) {
      long long v = 0;
      auto [p, ec] = std::from_chars(e->data(), e->data() + e->size(), v);
      if (ec == std::errc{} && v > 0) ttl = v;
    }
    self->token_header_ = type + " " + access_token;
    const auto ttl_ms = std::chrono::milliseconds(ttl * 1000);
    self->expires_at_ = started + ttl_ms;
    self->refresh_at_ = started + ttl_ms * 8 / 10;
    r.header.emplace("Authorization", self->token_header_);
    self->finish_fetch(r);
  });
  if (!queued) {
    auth_result r;
    r.err = auth_errc::token_transport;
    r.retryable = true;
    r.cancelled = true;
    r.url = safe_url(cfg_.token_url);
    r.error = "oauth2 token request not sent: http client stopped";
    finish_fetch(r);
  }
}

void oauth2_provider::finish_fetch(const auth_result& r) {
  fetching_ = false;
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w(r);
}

}  // namespace

std::shared_ptr<auth_provider> make_oauth2(const oauth2_auth& cfg, http_client& client,
                                           duration connect_timeout, duration request_timeout,
                                           tls_config tls) {
  return std::make_shared<oauth2_provider>(cfg, client, connect_timeout, request_timeout,
                                           std::move(tls));
}

}  // namespace stampede
