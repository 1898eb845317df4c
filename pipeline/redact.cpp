#include "pipeline/redact.hpp"

#include "pipeline/config.hpp"
#include "pipeline/json_writer.hpp"
#include "pipeline/placeholders.hpp"

#include <algorithm>

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

namespace {

// The forms a target may echo `s` in (see redact.hpp).
void forms_of(std::string_view s, std::vector<std::string>& out) {
  out.emplace_back(s);
  std::string pct = url_encode(s);
  std::string lower = pct;
  for (std::size_t i = 0; i < lower.size(); ++i)
    if (lower[i] == '%' && i + 2 < lower.size())
      for (std::size_t k = i + 1; k <= i + 2; ++k)
        if (lower[k] >= 'A' && lower[k] <= 'F') lower[k] = static_cast<char>(lower[k] - 'A' + 'a');
  std::string form = form_encode(s);
  std::string json(json_escape_bound(s.size()), '\0');
  json.resize(static_cast<std::size_t>(json_escape_to(json.data(), s) - json.data()));
  std::string json_slash;
  for (char c : json) {
    if (c == '/') json_slash += '\\';
    json_slash += c;
  }
  for (auto* f : {&pct, &lower, &form, &json, &json_slash}) out.push_back(std::move(*f));
}

// "Bearer abc" -> "abc"; "" when there is no scheme word.
std::string_view after_scheme(std::string_view v) {
  auto sp = v.find(' ');
  if (sp == std::string_view::npos) return {};
  v.remove_prefix(sp + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

} // namespace

redactor& redactor::global() {
  static redactor r;
  return r;
}

void redactor::add(std::string_view secret) {
  if (secret.size() < min_length) return;
  std::unique_lock lk(mu_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  rebuild_locked();
}

void redactor::add(const auth_config& a) {
  add(a.value);
  add(after_scheme(a.value));
  add(a.client_id);
  add(a.client_secret);
  if (a.kind == auth_kind::oauth2 && a.client_secret_basic) add(basic_credentials(a));
}

void redactor::add_token(std::string_view token) {
  if (token.size() < min_length) return;
  std::unique_lock lk(mu_);
  if (std::find(tokens_.begin(), tokens_.end(), token) != tokens_.end()) return;
  tokens_.emplace_back(token);
  if (tokens_.size() > max_tokens) tokens_.erase(tokens_.begin());
  rebuild_locked();
}

void redactor::rebuild_locked() {
  std::vector<std::string> forms;
  for (const auto& s : secrets_) forms_of(s, forms);
  for (const auto& t : tokens_) forms_of(t, forms);
  std::sort(forms.begin(), forms.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
  forms_ = std::move(forms);
}

bool redactor::apply_in_place(std::string& text) const {
  std::shared_lock lk(mu_);
  bool changed = false;
  for (const auto& f : forms_) {
    std::size_t pos = 0;
    while ((pos = text.find(f, pos)) != std::string::npos) {
      text.replace(pos, f.size(), "***");
      pos += 3;
      changed = true;
    }
  }
  return changed;
}

std::string redactor::apply(std::string_view text) const {
  std::string out(text);
  apply_in_place(out);
  return out;
}

void redactor::clear() {
  std::unique_lock lk(mu_);
  secrets_.clear();
  tokens_.clear();
  forms_.clear();
}

} // namespace stampede
