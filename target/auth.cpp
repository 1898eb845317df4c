// auth: the URL redaction every target uses, the providers of the kinds
// without tokens (none, static), and the authenticator that picks one
// (OAuth2 is auth_oauth2.cpp).
#include "target/auth.hpp"

namespace stampede {

std::string safe_url(std::string_view url) {
  std::string out;
  out.reserve(url.size());
  std::size_t start = 0;
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    start = scheme + 3;
    const auto host_end = url.find_first_of("/?#", start);
    const auto authority = url.substr(start, host_end == std::string_view::npos ? url.npos : host_end - start);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
      out.append(url.substr(0, start));
      start += at + 1;
    }
  }
  if (out.empty()) out.append(url.substr(0, start));
  const auto q = url.find('?', start);
  if (q == std::string_view::npos) {
    out.append(url.substr(start));
    return out;
  }
  out.append(url.substr(start, q + 1 - start));
  auto rest = url.substr(q + 1);
  std::string_view frag;
  if (auto h = rest.find('#'); h != std::string_view::npos) {
    frag = rest.substr(h);
    rest = rest.substr(0, h);
  }
  bool first = true;
  while (!rest.empty() || first) {
    const auto amp = rest.find('&');
    const auto part = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    if (auto eq = part.find('='); eq != std::string_view::npos) {
      out.append(part.substr(0, eq + 1));
      out += "***";
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  out.append(frag);
  return out;
}

namespace {

class no_auth final : public auth_provider {
public:
  void get(std::function<void(const auth_result&)> cb) override { cb(auth_result{}); }
};

class static_key final : public auth_provider {
public:
  explicit static_key(const static_key_auth& cfg) : cfg_(cfg) {}
  void get(std::function<void(const auth_result&)> cb) override {
    auth_result r;
    r.header.emplace(cfg_.header, cfg_.value);
    cb(r);
  }

private:
  static_key_auth cfg_;
};

}  // namespace

std::shared_ptr<auth_provider> make_no_auth() { return std::make_shared<no_auth>(); }

std::shared_ptr<auth_provider> make_static_key(const static_key_auth& cfg) {
  return std::make_shared<static_key>(cfg);
}

authenticator::authenticator(const auth_config& cfg, http_client& client, duration connect_timeout,
                             duration request_timeout, tls_config tls) {
  redactor::global().add(cfg);
  switch (cfg.kind) {
    case auth_kind::none: p_ = make_no_auth(); break;
    case auth_kind::static_key: p_ = make_static_key(cfg); break;
    case auth_kind::oauth2:
      p_ = make_oauth2(cfg, client, connect_timeout, request_timeout, std::move(tls));
      break;
  }
}

std::string authenticator::redact(std::string_view text) const {
  return redactor::global().apply(text);
}

}  // namespace stampede
