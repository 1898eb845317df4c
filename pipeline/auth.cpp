#include "pipeline/auth.hpp"

#include "pipeline/request_builder.hpp"
#include "pipeline/response_map.hpp"
#include "pipeline/retry.hpp"

#include <cctype>
#include <charconv>

namespace stampede {

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    std::size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return out;
}

authenticator::authenticator(const auth_config& cfg, http_client& client, duration connect_timeout,
                             duration request_timeout)
    : cfg_(cfg), client_(client), connect_timeout_(connect_timeout), request_timeout_(request_timeout) {}

std::string authenticator::redact(std::string_view text) const {
  std::string tok;
  if (auto sp = token_header_.find(' '); sp != std::string::npos) tok = token_header_.substr(sp + 1);
  return stampede::redact(text, {cfg_.client_secret, cfg_.value, token_header_, tok});
}

void authenticator::get(std::function<void(const auth_result&)> cb) {
  if (cfg_.kind == auth_kind::none) return cb(auth_result{});
  if (cfg_.kind == auth_kind::static_key) {
    auth_result r;
    r.header.emplace(cfg_.header, cfg_.value);
    return cb(r);
  }
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

void authenticator::invalidate(std::string_view value) {
  if (cfg_.kind != auth_kind::oauth2) return;
  if (!token_header_.empty() && value == token_header_) {
    token_header_.clear();
    expires_at_ = refresh_at_ = clock::time_point{};
  }
}

void authenticator::fetch() {
  fetching_ = true;
  ++fetches_;
  http_request rq;
  rq.method = "POST";
  rq.url = cfg_.token_url;
  rq.connect_timeout = connect_timeout_;
  rq.timeout = request_timeout_;
  rq.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  rq.headers.emplace_back("Accept", "application/json");
  rq.body = "grant_type=client_credentials&client_id=" + url_encode(cfg_.client_id) +
            "&client_secret=" + url_encode(cfg_.client_secret);
  if (!cfg_.scope.empty()) rq.body += "&scope=" + url_encode(cfg_.scope);
  auto self = shared_from_this();
  const auto started = clock::now();  // expiry counts from the request, not the answer
  const bool queued = client_.submit(std::move(rq), [self, started](http_response resp) {
    auth_result r;
    if (resp.status < 200 || resp.status > 299) {
      auto d = decide(resp.status, resp.transport_error(), resp.timed_out);
      r.retryable = d.retry();
      if (resp.transport_error()) {
        r.err = auth_errc::token_transport;
        r.error = "oauth2 token request to " + self->cfg_.token_url + " failed: " + resp.error;
      } else {
        r.err = auth_errc::token_rejected;
        std::string body = resp.body.substr(0, 200);
        r.error = "oauth2 token request to " + self->cfg_.token_url + " answered HTTP " +
                  std::to_string(resp.status) + ": " + body +
                  " (check auth.client_id / auth.client_secret / auth.scope)";
      }
      r.error = self->redact(r.error);
      return self->finish_fetch(r);
    }
    auto token = json_value_at(resp.body, "/access_token");
    if (!token || token->empty()) {
      r.err = auth_errc::token_malformed;
      r.retryable = true;
      r.error = "oauth2 token response from " + self->cfg_.token_url + " has no access_token";
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
    self->token_header_ = type + " " + *token;
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
    r.error = "oauth2 token request not sent: http client stopped";
    finish_fetch(r);
  }
}

void authenticator::finish_fetch(const auth_result& r) {
  fetching_ = false;
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w(r);
}

}  // namespace stampede
