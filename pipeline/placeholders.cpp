#include "pipeline/placeholders.hpp"

#include "pipeline/config.hpp"

#include <algorithm>

namespace stampede {
namespace {

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of the `{name}` at tpl[i] (tpl[i] == '{'), or 0 when it is none.
std::size_t placeholder_at(std::string_view tpl, std::size_t i) {
  std::size_t j = i + 1;
  while (j < tpl.size() && name_char(tpl[j])) ++j;
  if (j == i + 1 || j >= tpl.size() || tpl[j] != '}') return 0;
  return j - i + 1;
}

bool record_context(template_context c) {
  return c == template_context::record_path || c == template_context::record_field ||
         c == template_context::envelope_header;
}

std::string_view context_name(template_context c) {
  switch (c) {
    case template_context::batch_path: return "a batch path";
    case template_context::status_path: return "the batch status path";
    case template_context::record_path: return "a per-record path";
    case template_context::envelope_type: return "an envelope type";
    case template_context::record_field: return "request.fields";
    case template_context::envelope_header: return "envelope.header";
    case template_context::setup_path: return "a setup path";
  }
  return "a template";
}

}  // namespace

bool placeholder_name_ok(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), name_char);
}

std::vector<std::string> builtin_placeholders(template_context ctx) {
  if (ctx == template_context::setup_path) return {};
  std::vector<std::string> n{"service", "service_id", "service_name"};
  switch (ctx) {
    case template_context::setup_path: break;
    case template_context::envelope_header:
      n.insert(n.end(), {"op", "key", "id", "idempotency_key", "type"});
      break;
    case template_context::batch_path: break;
    case template_context::status_path: n.push_back("batch"); break;
    case template_context::record_path:
      n.insert(n.end(), {"op", "type", "key", "id", "idempotency_key"});
      break;
    case template_context::envelope_type: n.insert(n.end(), {"key", "op"}); break;
    case template_context::record_field:
      n.insert(n.end(), {"op", "key", "id", "idempotency_key"});
      break;
  }
  return n;
}

std::vector<placeholder> scan_placeholders(std::string_view tpl) {
  std::vector<placeholder> out;
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] != '{') continue;
    if (i + 1 < tpl.size() && tpl[i + 1] == '{') { ++i; continue; }
    if (std::size_t n = placeholder_at(tpl, i)) {
      out.push_back({std::string(tpl.substr(i + 1, n - 2)), i});
      i += n - 1;
    }
  }
  return out;
}

std::string check_template(std::string_view tpl, template_context ctx,
                           const std::vector<std::string>& returned) {
  const auto builtin = builtin_placeholders(ctx);
  for (const auto& p : scan_placeholders(tpl)) {
    if (std::find(builtin.begin(), builtin.end(), p.name) != builtin.end()) continue;
    if (record_context(ctx) && std::find(returned.begin(), returned.end(), p.name) != returned.end())
      continue;
    std::vector<std::string> known = builtin;
    if (record_context(ctx)) known.insert(known.end(), returned.begin(), returned.end());
    std::string msg = "unknown placeholder {" + p.name + "} in " + std::string(context_name(ctx));
    std::string best = closest_name(p.name, known);
    if (known.empty()) {
      msg += " (it takes none)";
    } else if (!best.empty()) {
      msg += ": did you mean {" + best + "}?";
    } else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "{" : ", {") + k + "}";
      msg += " (known here: " + list + ")";
    }
    if (record_context(ctx))
      msg += "; a value the target returns must be configured first: add `" + p.name +
             " = \"/" + p.name + "\"` under the target's [response.returns]";
    else if (std::find(returned.begin(), returned.end(), p.name) != returned.end())
      msg += "; returned values exist per record, not in " + std::string(context_name(ctx));
    return msg;
  }
  return {};
}

std::optional<std::string> expand(std::string_view tpl, const placeholder_lookup& lookup,
                                  bool encode, bool keep_missing) {
  std::string out;
  out.reserve(tpl.size() + 16);
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    const char c = tpl[i];
    if (c == '{' && i + 1 < tpl.size() && tpl[i + 1] == '{') { out.push_back('{'); ++i; continue; }
    if (c == '}' && i + 1 < tpl.size() && tpl[i + 1] == '}') { out.push_back('}'); ++i; continue; }
    if (c == '{') {
      if (std::size_t n = placeholder_at(tpl, i)) {
        auto v = lookup(tpl.substr(i + 1, n - 2));
        if (!v && !keep_missing) return std::nullopt;
        if (!v) out += tpl.substr(i, n);
        else if (encode) out += url_encode(*v);
        else out += *v;
        i += n - 1;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

std::string form_encode(std::string_view s) {
  const std::string pct = url_encode(s);
  std::string out;
  out.reserve(pct.size());
  for (std::size_t i = 0; i < pct.size(); ++i) {
    if (pct.compare(i, 3, "%20") == 0) {
      out += '+';
      i += 2;
    } else {
      out += pct[i];
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace stampede
