// Loading and validating the TOML configuration. See config.hpp and
// docs/configuration.md. Every problem is collected (not just the first) and
// reported with file:line:column and a key path such as
// `services[2].fields[0].type` (array indexes are 0-based, in file order).
#include "pipeline/config.hpp"

#include "pipeline/json_writer.hpp"
#include "pipeline/placeholders.hpp"
#include "pipeline/redact.hpp"
#include "pipeline/service_graph.hpp"
#include "pipeline/writeback.hpp"

#include <simdjson.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <limits>
#include <set>
#include <utility>

namespace stampede {

// ---------------------------------------------------------------- diagnostics

std::string config_diagnostic::to_string() const {
  std::string s = file;
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (column > 0) s += ':' + std::to_string(column);
  }
  if (!s.empty()) s += ": ";
  if (!key_path.empty()) s += key_path + ": ";
  s += message;
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}

namespace {
std::string join_diagnostics(const std::vector<config_diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) {
    if (!s.empty()) s += '\n';
    s += d.to_string();
  }
  return s.empty() ? std::string("invalid configuration") : s;
}
} // namespace

config_error::config_error(std::vector<config_diagnostic> ds)
    : std::runtime_error(join_diagnostics(ds)), diagnostics(std::move(ds)) {}

const service_config* config::find_service(std::uint32_t id) const {
  for (const auto& s : services)
    if (s.id == id) return &s;
  return nullptr;
}

const target_config& config::target_of(const service_config& s) const {
  auto it = targets.find(s.target);
  if (it == targets.end())
    throw std::out_of_range("service " + std::to_string(s.id) + " names unknown target `" +
                            s.target + "`");
  return it->second;
}

// ---------------------------------------------------------------- reader

namespace {

constexpr std::string_view redacted = "<redacted>";
constexpr duration hour{3'600'000};
constexpr duration day{86'400'000};

std::string join_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool safe_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

template <class E>
using choices = std::initializer_list<std::pair<std::string_view, E>>;

template <class E>
std::string list_choices(choices<E> cs) {
  std::string s;
  for (const auto& c : cs) {
    if (!s.empty()) s += ", ";
    s += '"';
    s += c.first;
    s += '"';
  }
  return s;
}

struct reader {
  std::string file;
  std::vector<config_diagnostic> diags;

  void error(int line, int column, std::string path, std::string msg, std::string hint = {}) {
    diags.push_back({file, line, column, std::move(path), std::move(msg), std::move(hint)});
  }
  void error(const toml::source_region& r, std::string path, std::string msg,
             std::string hint = {}) {
    error(static_cast<int>(r.begin.line), static_cast<int>(r.begin.column), std::move(path),
          std::move(msg), std::move(hint));
  }
  void error(const toml::node& n, std::string path, std::string msg, std::string hint = {}) {
    error(n.source(), std::move(path), std::move(msg), std::move(hint));
  }
  void missing(const toml::node* where, std::string path, std::string what, std::string hint) {
    if (where)
      error(*where, std::move(path), "missing required key: " + what, std::move(hint));
    else
      error(0, 0, std::move(path), "missing required key: " + what, std::move(hint));
  }
  void wrong_type(const toml::node& n, const std::string& path, std::string_view expected,
                  std::string hint = {}) {
    error(n, path,
          "expected " + std::string(expected) + ", found " + std::string(type_name(n.type())),
          std::move(hint));
  }

  // True when a diagnostic was already reported at node `n`'s position.
  bool has_failed(const toml::node& n) const {
    for (const auto& d : diags)
      if (d.line == int(n.source().begin.line) && d.column == int(n.source().begin.column))
        return true;
    return false;
  }

  // Rejects keys not in `known`, suggesting the closest valid key.
  void check_keys(const toml::table& t, const std::string& path,
                  std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : t) {
      (void)v;
      if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
      std::vector<std::string> names(known.begin(), known.end());
      std::string best = closest_name(k.str(), names);
      std::string hint;
      if (!best.empty()) {
        hint = "did you mean `" + best + "`?";
      } else {
        hint = "valid keys here: ";
        for (std::size_t i = 0; i < names.size(); ++i) hint += (i ? ", " : "") + names[i];
      }
      error(k.source(), join_path(path, k.str()), "unknown key `" + std::string(k.str()) + "`",
            std::move(hint));
    }
  }

  const toml::table* sub_table(const toml::table& t, std::string_view key,
                               const std::string& path) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (const auto* tt = n->as_table()) return tt;
    wrong_type(*n, join_path(path, key), "a table");
    return nullptr;
  }

  // Interpolates a string node's value; reports missing variables. With
  // `empty` set, the variables that gave "" are listed there.
  std::optional<std::string> text(const toml::node& n, const std::string& path,
                                  std::vector<std::string>* empty = nullptr) {
    const auto* s = n.as_string();
    if (!s) {
      wrong_type(n, path, "a string");
      return std::nullopt;
    }
    interpolation v = interpolate(s->get());
    if (empty) *empty = std::move(v.empty);
    if (v.value) return std::move(v.value);
    if (!v.missing.empty())
      error(n, path, "environment variable `" + v.missing + "` is not set",
            "export " + v.missing + "=… or give a default with ${" + v.missing + ":-…}");
    else
      error(n, path, v.problem,
            "write ${VAR} or ${VAR:-default}, VAR made of letters, digits and _, nested at most " +
                std::to_string(max_interpolation_depth) + " levels; use $$ for a literal $");
    return std::nullopt;
  }

  // A secret (auth.value, client_id, client_secret): an empty result, or a
  // variable that gave "", is an error (an unexported or blank variable would
  // otherwise send "Bearer " and fail at the target, or send nothing).
  // Returns whether the key is present and valid; the value never appears
  // in a diagnostic.
  // `min_length`: shorter values are refused (the redactor does not match
  // them on their own; redact.hpp).
  bool secret(const toml::table& t, std::string_view key, const std::string& path,
              std::string& out, std::size_t min_length = 1) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    std::string p = join_path(path, key);
    std::vector<std::string> empty;
    auto v = text(*n, p, &empty);
    if (!v) return false;
    out = std::move(*v);
    if (!empty.empty()) {
      error(*n, p, "environment variable `" + empty.front() + "` is empty (value " +
                       std::string(redacted) + ")",
            "export " + empty.front() + " with the non-empty secret");
      return false;
    }
    if (out.empty()) {
      error(*n, p, "must not be empty", "set it, e.g. from the environment with ${VAR}");
      return false;
    }
    if (out.size() < min_length) {
      error(*n, p,
            "is shorter than " + std::to_string(min_length) + " characters (value " +
                std::string(redacted) + ")",
            "use the real secret; a secret this short could not be kept out of logs");
      return false;
    }
    return true;
  }

  bool str(const toml::table& t, std::string_view key, const std::string& path,
           std::string& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    auto v = text(*n, join_path(path, key));
    if (!v) return false;
    out = std::move(*v);
    return true;
  }

  // A table/column name: letters, digits and '_' only (it is quoted into SQL).
  bool ident(const toml::table& t, std::string_view key, const std::string& path,
             std::string& out) {
    std::string v;
    if (!str(t, key, path, v)) return false;
    if (!safe_identifier(v)) {
      error(*t.get(key), join_path(path, key), "`" + v + "` is not a plain SQL identifier",
            "use only letters, digits and _; names are quoted into SQL");
      return false;
    }
    out = std::move(v);
    return true;
  }

  // A soft-delete column: an identifier, or "" (the table has no soft deletes).
  bool deleted_column(const toml::table& t, const std::string& path, std::string& out) {
    const toml::node* n = t.get("deleted_column");
    if (n && n->is_string() && n->as_string()->get().empty()) {
      out.clear();
      return true;
    }
    return ident(t, "deleted_column", path, out);
  }

  // deleted_value: the text that marks a deleted row; not empty.
  bool deleted_value(const toml::table& t, const std::string& path, std::string& out) {
    std::string v;
    if (!str(t, "deleted_value", path, v)) return false;
    if (v.empty()) {
      error(*t.get("deleted_value"), join_path(path, "deleted_value"), "must not be empty",
            "write the value that marks a deleted row, e.g. \"*\"; for a table without soft "
            "deletes set deleted_column = \"\"");
      return false;
    }
    out = std::move(v);
    return true;
  }

  template <class T>
  bool integer(const toml::table& t, std::string_view key, const std::string& path, T& out,
               std::int64_t min, std::int64_t max) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    const auto* i = n->as_integer();
    if (!i) {
      wrong_type(*n, join_path(path, key), "an integer");
      return false;
    }
    std::int64_t v = i->get();
    if (v < min || v > max) {
      std::string range = max == std::numeric_limits<std::int64_t>::max()
                              ? "at least " + std::to_string(min)
                              : std::to_string(min) + ".." + std::to_string(max);
      error(*n, join_path(path, key),
            std::to_string(v) + " is out of range; expected " + range,
            "use a value in " + range);
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }

  bool boolean(const toml::table& t, std::string_view key, const std::string& path, bool& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    const auto* b = n->as_boolean();
    if (!b) {
      wrong_type(*n, join_path(path, key), "a boolean", "write true or false, unquoted");
      return false;
    }
    out = b->get();
    return true;
  }

  // A duration string within [min, max]; both ends are named in the error.
  bool dur(const toml::table& t, std::string_view key, const std::string& path, duration& out,
           duration min, duration max) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    std::string p = join_path(path, key);
    if (!n->is_string()) {
      wrong_type(*n, p, "a duration string such as \"2s\"",
                 "quote it and add a unit: \"500ms\", \"2s\", \"15m\", \"1h\", \"1d\"");
      return false;
    }
    auto s = text(*n, p);
    if (!s) return false;
    duration d{0};
    duration_syntax syntax = parse_duration(*s, d);
    if (syntax == duration_syntax::malformed) {
      error(*n, p, "\"" + *s + "\" is not a duration",
            "write a whole number and a unit: 500ms, 2s, 15m, 1h, 1d; units combine as 1h30m");
      return false;
    }
    const std::string range = format_duration(min) + ".." + format_duration(max);
    if (syntax == duration_syntax::too_long || d > max) {
      error(*n, p, "\"" + *s + "\" is out of range; expected " + range,
            "use a duration from " + format_duration(min) + " to " + format_duration(max));
      return false;
    }
    if (d < min) {
      error(*n, p, "\"" + *s + "\" is too short; expected " + range,
            "use a duration from " + format_duration(min) + " to " + format_duration(max));
      return false;
    }
    out = d;
    return true;
  }

  template <class E>
  bool enumeration(const toml::table& t, std::string_view key, const std::string& path, E& out,
                   choices<E> cs) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    std::string p = join_path(path, key);
    auto s = text(*n, p);
    if (!s) return false;
    for (const auto& c : cs) {
      if (c.first == *s) {
        out = c.second;
        return true;
      }
    }
    std::vector<std::string> names;
    for (const auto& c : cs) names.emplace_back(c.first);
    std::string best = closest_name(*s, names);
    error(*n, p, "unknown value \"" + *s + "\"; expected one of " + list_choices(cs),
          best.empty() ? "use one of the listed values" : "did you mean \"" + best + "\"?");
    return false;
  }

  // ------------------------------------------------------------ sections

  void read_source(const toml::table* t, source_config& s) {
    const std::string p = "source";
    if (t) {
      check_keys(*t, p,
                 {"kind", "path", "dsn", "stamp_column", "recno_column", "deleted_column",
                  "deleted_value", "page_size", "safety_delay", "lookback", "timezone"});
      enumeration<source_kind>(*t, "kind", p, s.kind,
                               {{"sqlite", source_kind::sqlite}, {"postgres", source_kind::postgres}});
      str(*t, "path", p, s.path);
      str(*t, "dsn", p, s.dsn);
      ident(*t, "stamp_column", p, s.stamp_column);
      ident(*t, "recno_column", p, s.recno_column);
      deleted_column(*t, p, s.deleted_column);
      deleted_value(*t, p, s.deleted_value);
      integer(*t, "page_size", p, s.page_size, 1, 1'000'000);
      dur(*t, "safety_delay", p, s.safety_delay, duration{0}, day);
      dur(*t, "lookback", p, s.lookback, duration{0}, 366 * day);
      if (const toml::node* n = t->get("timezone")) {
        if (auto tz = text(*n, p + ".timezone")) {
          if (auto off = parse_utc_offset(*tz))
            s.utc_offset_minutes = *off;
          else
            error(*n, p + ".timezone", "\"" + *tz + "\" is not a supported time zone",
                  "write \"UTC\", \"Z\" or a fixed offset like \"-03:00\"; IANA names such as "
                  "America/Sao_Paulo are not supported");
        }
      }
      const toml::node* pos = t->get(s.kind == source_kind::postgres ? "dsn" : "path");
      const toml::source_region& r = pos ? pos->source() : t->source();
      s.line = static_cast<int>(r.begin.line);
      s.col = static_cast<int>(r.begin.column);
    }
    if (t && s.kind == source_kind::sqlite && t->get("path") && t->get("path")->is_string() &&
        s.path.empty() && !has_failed(*t->get("path")))
      error(*t->get("path"), p + ".path", "must not be empty",
            "name the SQLite database file, e.g. \"demo.db\"");
    if (s.kind == source_kind::sqlite && s.path.empty() && !(t && t->get("path")))
      missing(t, p + ".path", "the SQLite database file",
              "add `path = \"demo.db\"` under [source]");
    if (s.kind == source_kind::postgres && s.dsn.empty() && !(t && t->get("dsn")))
      missing(t, p + ".dsn", "the PostgreSQL connection string",
              "add `dsn = \"postgresql://user@host/db\"` under [source]");
  }

  void read_state(const toml::table* t, state_config& s) {
    if (!t) return;
    check_keys(*t, "state", {"dir"});
    if (str(*t, "dir", "state", s.dir) && s.dir.empty())
      error(*t->get("dir"), "state.dir", "must not be empty", "name a directory, e.g. \"state\"");
  }

  void read_engine(const toml::table* t, engine_config& e) {
    if (!t) return;
    const std::string p = "engine";
    check_keys(*t, p, {"queue_batches", "transformers", "drain_timeout", "log_level"});
    integer(*t, "queue_batches", p, e.queue_batches, 1, 1024);
    integer(*t, "transformers", p, e.transformers, 1, 256);
    dur(*t, "drain_timeout", p, e.drain_timeout, duration{0}, day);
    int level = 0;
    if (enumeration<int>(*t, "log_level", p, level,
                         {{"trace", 0}, {"debug", 1}, {"info", 2}, {"warn", 3}, {"error", 4}}))
      str(*t, "log_level", p, e.log_level);
  }

  void read_journal(const toml::table* t, journal_config& j) {
    if (!t) return;
    const std::string p = "journal";
    check_keys(*t, p, {"payloads", "payload_max_bytes", "max_items"});
    enumeration<journal_payloads>(*t, "payloads", p, j.payloads,
                                  {{"none", journal_payloads::none},
                                   {"failures", journal_payloads::failures},
                                   {"all", journal_payloads::all}});
    integer(*t, "payload_max_bytes", p, j.payload_max_bytes, 16, 1 << 20);
    integer(*t, "max_items", p, j.max_items, 1, 10000);
  }

  void read_metrics(const toml::table* t, metrics_config& m) {
    if (!t) return;
    check_keys(*t, "metrics", {"listen"});
    if (!str(*t, "listen", "metrics", m.listen) || m.listen.empty()) return;
    auto colon = m.listen.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < m.listen.size();
    long port = 0;
    if (ok) {
      for (std::size_t i = colon + 1; i < m.listen.size() && ok; ++i) {
        char c = m.listen[i];
        ok = c >= '0' && c <= '9';
        port = port * 10 + (c - '0');
        if (port > 65535) ok = false;
      }
      ok = ok && port >= 0;  // 0: any free port
    }
    if (!ok)
      error(*t->get("listen"), "metrics.listen", "\"" + m.listen + "\" is not host:port",
            "write e.g. \"127.0.0.1:9464\", or \"\" to disable the exporter");
  }

  void read_web(const toml::table* t, web_config& w) {
    if (!t) return;
    check_keys(*t, "web", {"show_payloads", "admin_token"});
    boolean(*t, "show_payloads", "web", w.show_payloads);
    secret(*t, "admin_token", "web", w.admin_token, web_admin_token_min_length);
  }

  void read_auth(const toml::table& t, const std::string& p, auth_config& a) {
    check_keys(t, p,
               {"kind", "header", "value", "token_url", "client_id", "client_secret", "scope",
                "audience", "form", "client_auth"});
    enumeration<auth_kind>(t, "kind", p, a.kind,
                           {{"none", auth_kind::none},
                            {"static", auth_kind::static_key},
                            {"oauth2", auth_kind::oauth2}});
    str(t, "header", p, a.header);
    bool has_value = secret(t, "value", p, a.value, redactor::min_length);
    str(t, "token_url", p, a.token_url);
    secret(t, "client_id", p, a.client_id);
    bool has_secret = secret(t, "client_secret", p, a.client_secret, redactor::min_length);
    str(t, "scope", p, a.scope);
    str(t, "audience", p, a.audience);
    if (const toml::table* ft = sub_table(t, "form", p)) {
      static const std::vector<std::string> reserved{"grant_type", "client_id", "client_secret",
                                                     "scope", "audience"};
      for (auto&& [k, v] : *ft) {
        const std::string name(k.str());
        if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
          error(k.source(), p + ".form." + name, "`" + name + "` is set by stampede",
                name == "scope" || name == "audience" ? "use auth." + name + " instead"
                                                      : "remove it from auth.form");
          continue;
        }
        if (auto val = text(v, p + ".form." + name)) a.form.emplace_back(name, std::move(*val));
      }
    }
    int client_auth = 0;
    if (enumeration<int>(t, "client_auth", p, client_auth,
                         {{"client_secret_post", 0}, {"client_secret_basic", 1}}))
      a.client_secret_basic = client_auth == 1;
    // A failed interpolation was reported already: do not also say "missing".
    auto given = [&](std::string_view k) { return t.get(k) != nullptr; };
    switch (a.kind) {
      case auth_kind::none:
        if (has_value || has_secret)
          error(t, p + ".kind",
                std::string(has_value ? "value" : "client_secret") + " = " +
                    std::string(redacted) + " is set but kind is \"none\"",
                "set kind = \"static\" or \"oauth2\", or remove the secret");
        break;
      case auth_kind::static_key:
        if (!given("value"))
          missing(&t, p + ".value", "the header value for kind = \"static\"",
                  "add `value = \"Bearer ${TOKEN}\"` and export TOKEN");
        if (a.header.empty())
          error(t, p + ".header", "must not be empty", "e.g. header = \"Authorization\"");
        if (has_value && a.value.find_first_of("\r\n") != std::string::npos)
          error(*t.get("value"), p + ".value",
                "value " + std::string(redacted) + " contains a line break",
                "remove the newline from the secret");
        break;
      case auth_kind::oauth2:
        for (std::string_view k : {"token_url", "client_id", "client_secret"})
          if (!given(k))
            missing(&t, p + "." + std::string(k), "`" + std::string(k) + "` for kind = \"oauth2\"",
                    "add `" + std::string(k) + " = \"...\"` under [" + p + "]" +
                        (k == "client_secret" ? "; use ${VAR} to keep it out of the file" : ""));
        if (!a.token_url.empty() && a.token_url.rfind("http://", 0) != 0 &&
            a.token_url.rfind("https://", 0) != 0)
          error(*t.get("token_url"), p + ".token_url",
                "\"" + a.token_url + "\" is not an http:// or https:// URL",
                "write the full token endpoint URL");
        break;
    }
  }

  void read_tls(const toml::table& t, const std::string& p, tls_config& tls) {
    check_keys(t, p, {"ca_file", "ca_dir"});
    auto exists = [&](std::string_view key, std::string& out, bool dir) {
      if (!str(t, key, p, out)) return;
      std::error_code ec;
      const auto st = std::filesystem::status(out, ec);
      const bool ok = dir ? std::filesystem::is_directory(st) : std::filesystem::is_regular_file(st);
      if (!ok)
        error(*t.get(key), join_path(p, key),
              "\"" + out + "\" is not " + (dir ? "a directory" : "a readable file"),
              dir ? "name a directory of CA certificates prepared with `openssl rehash DIR`"
                  : "name the PEM file of the CA that signed the target's certificate");
    };
    exists("ca_file", tls.ca_file, false);
    exists("ca_dir", tls.ca_dir, true);
  }

  void read_response(const toml::table& t, const std::string& p, response_mapping& r) {
    check_keys(t, p, {"results", "key_field", "id_field", "error_fields", "error_rule",
                      "acknowledge", "returns"});
    auto pointer_ok = [](const std::string& s) { return s.empty() || s[0] == '/'; };
    if (str(t, "results", p, r.results) && !pointer_ok(r.results))
      error(*t.get("results"), p + ".results", "\"" + r.results + "\" is not a JSON pointer",
            "start it with /, e.g. \"/results\", or use \"\" for the response root");
    str(t, "key_field", p, r.key_field);
    str(t, "id_field", p, r.id_field);
    enumeration<error_rule>(t, "error_rule", p, r.rule,
                            {{"first_present", error_rule::first_present},
                             {"first_decides", error_rule::first_decides}});
    enumeration<acknowledge_mode>(t, "acknowledge", p, r.acknowledge,
                                  {{"records", acknowledge_mode::records},
                                   {"status", acknowledge_mode::status}});
    if (const toml::table* rt = sub_table(t, "returns", p)) {
      const std::string rp = p + ".returns";
      if (t.get("id_field") && rt->get("id"))
        error(*rt->get("id"), rp + ".id", "the remote id is set twice (also by id_field)",
              "keep `returns.id` and remove `id_field`");
      for (auto&& [k, v] : *rt) {
        const std::string name(k.str());
        const std::string np = rp + "." + name;
        auto ptr = text(v, np);
        if (!ptr) continue;
        if (!placeholder_name_ok(name)) {
          error(k.source(), np, "`" + name + "` is not a usable name for a returned value",
                "use letters, digits and _ (it is written {" + name + "} in requests and :" +
                    name + " in write-back)");
          continue;
        }
        if (!pointer_ok(*ptr) || ptr->empty()) {
          error(v, np, "\"" + *ptr + "\" is not a JSON pointer",
                "start it with /, e.g. " + name + " = \"/" + name + "\"");
          continue;
        }
        const auto builtin = builtin_placeholders(template_context::record_path);
        if (name != "id" && std::find(builtin.begin(), builtin.end(), name) != builtin.end()) {
          error(k.source(), np, "`" + name + "` is a built-in placeholder ({" + name + "})",
                "give the returned value another name");
          continue;
        }
        if (name == "id") r.id_field = *ptr;
        else r.returns.push_back({name, std::move(*ptr)});
      }
      if (!rt->get("id") && !t.get("id_field")) r.id_field.clear();  // returns without id: none
    }
    if (r.acknowledge == acknowledge_mode::status && t.get("returns"))
      error(*t.get("returns"), p + ".returns",
            "acknowledge = \"status\" accepts a request by its HTTP status alone, so there are "
            "no per-record answers to take returned values from",
            "remove `returns`, or use acknowledge = \"records\"");
    if (const toml::node* n = t.get("error_fields")) {
      const auto* arr = n->as_array();
      if (!arr) {
        wrong_type(*n, p + ".error_fields", "an array of strings");
        return;
      }
      r.error_fields.clear();
      for (std::size_t i = 0; i < arr->size(); ++i) {
        std::string ep = p + ".error_fields[" + std::to_string(i) + "]";
        auto v = text(*arr->get(i), ep);
        if (!v) continue;
        if (!pointer_ok(*v) || v->empty())
          error(*arr->get(i), ep, "\"" + *v + "\" is not a JSON pointer",
                "start it with /, e.g. \"/error/message\"");
        r.error_fields.push_back(std::move(*v));
      }
    }
  }

  // A TOML value as JSON text (request.body_fields, request.delete_value).
  std::optional<std::string> json_literal(const toml::node& n, const std::string& path) {
    if (n.is_boolean()) return n.as_boolean()->get() ? "true" : "false";
    if (n.is_integer()) return std::to_string(n.as_integer()->get());
    if (n.is_string()) {
      auto v = text(n, path);
      if (!v) return std::nullopt;
      std::string out;
      json_quote_append(out, *v);
      return out;
    }
    wrong_type(n, path, "a string, an integer or a boolean");
    return std::nullopt;
  }

  // An HTTP method for one operation: upper-case letters only.
  void method(const toml::table& t, std::string_view key, const std::string& p, std::string& out) {
    std::string v;
    if (!str(t, key, p, v)) return;
    static const std::vector<std::string> known{"POST", "PUT", "PATCH", "DELETE"};
    if (std::find(known.begin(), known.end(), v) == known.end()) {
      std::string best = closest_name(v, known);
      error(*t.get(key), join_path(p, key), "unknown HTTP method \"" + v + "\"",
            best.empty() ? "use POST, PUT, PATCH or DELETE" : "did you mean \"" + best + "\"?");
      return;
    }
    out = std::move(v);
  }

  // A non-empty array of non-empty strings (async.done / async.failed).
  void string_list(const toml::table& t, std::string_view key, const std::string& p,
                   std::vector<std::string>& out, bool may_be_empty) {
    const toml::node* n = t.get(key);
    if (!n) return;
    const std::string kp = join_path(p, key);
    const auto* arr = n->as_array();
    if (!arr) return wrong_type(*n, kp, "an array of strings", "e.g. " + kp + " = [\"done\"]");
    out.clear();
    for (std::size_t i = 0; i < arr->size(); ++i)
      if (auto v = text(*arr->get(i), kp + "[" + std::to_string(i) + "]")) out.push_back(std::move(*v));
    if (out.empty() && !may_be_empty)
      error(*n, kp, "must name at least one value", "e.g. " + kp + " = [\"done\"]");
  }

  void read_async(const toml::table& t, const std::string& p, async_config& a) {
    check_keys(t, p, {"batch_id", "status", "done", "failed"});
    for (std::string_view k : {"batch_id", "status"}) {
      std::string& out = k == "batch_id" ? a.batch_id : a.status;
      if (str(t, k, p, out) && (out.empty() || out[0] != '/'))
        error(*t.get(k), join_path(p, k), "\"" + out + "\" is not a JSON pointer",
              "start it with /, e.g. \"/" + std::string(k == "batch_id" ? "batchId" : "status") +
                  "\"");
    }
    string_list(t, "done", p, a.done, false);
    string_list(t, "failed", p, a.failed, true);
    for (const auto& f : a.failed)
      if (std::find(a.done.begin(), a.done.end(), f) != a.done.end())
        error(*t.get("failed"), p + ".failed", "\"" + f + "\" is listed in both done and failed",
              "a status value means one thing: remove it from one list");
  }

  // [[targets.NAME.setup]]: method, path, body (JSON text, checked here).
  void read_setup(const toml::node& n, const std::string& p, std::vector<setup_request>& out) {
    const toml::array* arr = n.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      wrong_type(n, p, "an array of tables ([[" + p + "]])");
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto& t = *arr->get(i)->as_table();
      const std::string sp = p + "[" + std::to_string(i) + "]";
      setup_request r;
      r.line = static_cast<int>(t.source().begin.line);
      r.col = static_cast<int>(t.source().begin.column);
      check_keys(t, sp, {"method", "path", "body"});
      method(t, "method", sp, r.method);
      if (!t.get("path"))
        missing(&t, sp + ".path", "the setup request's path", "add `path = \"/link/setup\"`");
      else if (str(t, "path", sp, r.path)) {
        std::string why = check_template(r.path, template_context::setup_path, {});
        if (!why.empty())
          error(*t.get("path"), sp + ".path", why,
                "a setup request is per target: write the path without placeholders");
      }
      if (str(t, "body", sp, r.body) && !r.body.empty()) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        auto ec = parser.parse(r.body).get(doc);
        if (ec != simdjson::SUCCESS)
          error(*t.get("body"), sp + ".body",
                std::string("is not valid JSON: ") + simdjson::error_message(ec),
                "write the body as one JSON value; a TOML multi-line literal string keeps "
                "its quotes as they are");
      }
      out.push_back(std::move(r));
    }
  }

  void read_request(const toml::table& t, const std::string& p, request_template& q) {
    check_keys(t, p, {"wrap", "body_fields", "record", "key_field", "fields", "delete",
                      "delete_field", "delete_value", "methods", "batch_idempotency_header"});
    str(t, "wrap", p, q.wrap);
    if (const toml::table* bt = sub_table(t, "body_fields", p)) {
      if (q.wrap.empty())
        error(*t.get("body_fields"), p + ".body_fields",
              "wrap = \"\" sends the records as a bare array, which has no room for other members",
              "name the member holding the records with `wrap`, or remove body_fields");
      for (auto&& [k, v] : *bt) {
        const std::string name(k.str());
        if (name == q.wrap) {
          error(k.source(), p + ".body_fields." + name,
                "`" + name + "` is the member that holds the records (wrap)",
                "rename the constant member");
          continue;
        }
        if (auto lit = json_literal(v, p + ".body_fields." + name))
          q.body_fields.emplace_back(name, std::move(*lit));
      }
    }
    enumeration<record_shape>(t, "record", p, q.shape,
                              {{"wrapped", record_shape::wrapped}, {"flat", record_shape::flat}});
    str(t, "key_field", p, q.key_field);
    if (const toml::table* ft = sub_table(t, "fields", p)) {
      for (auto&& [k, v] : *ft) {
        const std::string name(k.str());
        if (auto tpl = text(v, p + ".fields." + name)) q.fields.emplace_back(name, std::move(*tpl));
      }
    }
    enumeration<delete_mode>(t, "delete", p, q.on_delete,
                             {{"send", delete_mode::send},
                              {"skip", delete_mode::skip},
                              {"mark", delete_mode::mark}});
    str(t, "delete_field", p, q.delete_field);
    if (const toml::node* dv = t.get("delete_value"))
      if (auto lit = json_literal(*dv, p + ".delete_value")) q.delete_value = std::move(*lit);
    if ((q.on_delete == delete_mode::mark || q.shape == record_shape::flat) &&
        q.delete_field.empty() && t.get("delete_field"))
      error(*t.get("delete_field"), p + ".delete_field", "must not be empty here",
            "name the member that marks a delete, e.g. \"_deleted\"");
    if (const toml::table* mt = sub_table(t, "methods", p)) {
      const std::string mp = p + ".methods";
      check_keys(*mt, mp, {"create", "update", "delete"});
      method(*mt, "create", mp, q.method_create);
      method(*mt, "update", mp, q.method_update);
      method(*mt, "delete", mp, q.method_delete);
    }
    str(t, "batch_idempotency_header", p, q.batch_idempotency_header);
  }

  void read_target(const std::string& name, const toml::table& t, target_config& tc) {
    const std::string p = "targets." + name;
    tc.name = name;
    check_keys(t, p,
               {"base_url", "protocol", "format", "paths", "batch_records", "batch_bytes",
                "in_flight", "connect_timeout", "request_timeout", "poll_interval", "poll_timeout",
                "breaker_failures", "breaker_cooldown",
                "max_attempts", "request_attempts", "resend_backoff", "resend_backoff_max",
                "retry_backoff_base", "retry_backoff_max", "idempotency_header",
                "idempotency_field", "max_record_bytes", "max_response_bytes", "auth", "tls",
                "response", "request", "async", "envelope", "setup"});
    if (!t.get("base_url")) {
      missing(&t, p + ".base_url", "the target's base URL",
              "add `base_url = \"http://127.0.0.1:8787\"` under [" + p + "]");
    } else if (str(t, "base_url", p, tc.base_url)) {
      bool http = tc.base_url.rfind("http://", 0) == 0 || tc.base_url.rfind("https://", 0) == 0;
      std::size_t scheme = tc.base_url.find("://");
      if (!http || tc.base_url.size() <= scheme + 3)
        error(*t.get("base_url"), p + ".base_url",
              "\"" + tc.base_url + "\" is not an http:// or https:// URL",
              "write e.g. \"https://portal.example.gov.br/api\"");
      while (tc.base_url.size() > scheme + 3 && tc.base_url.back() == '/') tc.base_url.pop_back();
    }
    enumeration<target_protocol>(t, "protocol", p, tc.protocol,
                                 {{"async_batch", target_protocol::async_batch},
                                  {"sync_batch", target_protocol::sync_batch},
                                  {"rest", target_protocol::rest}});
    enumeration<payload_format>(t, "format", p, tc.format,
                                {{"records", payload_format::records},
                                 {"envelope", payload_format::envelope}});
    if (const toml::table* pt = sub_table(t, "paths", p)) {
      const std::string pp = p + ".paths";
      check_keys(*pt, pp, {"batch", "batch_status", "sync", "record", "record_id", "message"});
      str(*pt, "batch", pp, tc.paths.batch);
      str(*pt, "batch_status", pp, tc.paths.batch_status);
      str(*pt, "sync", pp, tc.paths.sync);
      str(*pt, "record", pp, tc.paths.record);
      str(*pt, "record_id", pp, tc.paths.record_id);
      str(*pt, "message", pp, tc.paths.message);
    }
    constexpr std::int64_t big = std::numeric_limits<std::int64_t>::max();
    integer(t, "batch_records", p, tc.batch_records, 1, 1'000'000);
    integer(t, "batch_bytes", p, tc.batch_bytes, 1, big);
    integer(t, "in_flight", p, tc.in_flight, 1, 1024);
    integer(t, "max_record_bytes", p, tc.max_record_bytes, 1024, std::int64_t{1} << 30);
    integer(t, "max_response_bytes", p, tc.max_response_bytes, 1024, std::int64_t{1} << 30);
    dur(t, "connect_timeout", p, tc.connect_timeout, duration{1}, hour);
    dur(t, "request_timeout", p, tc.request_timeout, duration{1}, day);
    dur(t, "poll_interval", p, tc.poll_interval, duration{1}, hour);
    dur(t, "poll_timeout", p, tc.poll_timeout, duration{1}, 30 * day);
    integer(t, "breaker_failures", p, tc.breaker_failures, 1, 1000);
    dur(t, "breaker_cooldown", p, tc.breaker_cooldown, duration{1}, day);
    integer(t, "max_attempts", p, tc.max_attempts, 0, 1000);
    integer(t, "request_attempts", p, tc.request_attempts, 1, 1000);
    dur(t, "resend_backoff", p, tc.resend_backoff, duration{0}, 30 * day);
    dur(t, "resend_backoff_max", p, tc.resend_backoff_max, duration{0}, 30 * day);
    if (tc.resend_backoff > tc.resend_backoff_max)
      error(t.get("resend_backoff_max") ? *t.get("resend_backoff_max") : static_cast<const toml::node&>(t),
            p + ".resend_backoff_max", "is shorter than resend_backoff",
            "make resend_backoff_max >= resend_backoff");
    dur(t, "retry_backoff_base", p, tc.retry_backoff_base, duration{0}, hour);
    dur(t, "retry_backoff_max", p, tc.retry_backoff_max, duration{0}, hour);
    if (tc.retry_backoff_base > tc.retry_backoff_max)
      error(t.get("retry_backoff_max") ? *t.get("retry_backoff_max") : static_cast<const toml::node&>(t),
            p + ".retry_backoff_max", "is shorter than retry_backoff_base",
            "make retry_backoff_max >= retry_backoff_base");
    str(t, "idempotency_header", p, tc.idempotency_header);
    str(t, "idempotency_field", p, tc.idempotency_field);
    if (const toml::table* at = sub_table(t, "auth", p)) read_auth(*at, p + ".auth", tc.auth);
    if (const toml::table* tt = sub_table(t, "tls", p)) read_tls(*tt, p + ".tls", tc.tls);
    if (const toml::table* rt = sub_table(t, "response", p))
      read_response(*rt, p + ".response", tc.response);
    if (const toml::table* qt = sub_table(t, "request", p))
      read_request(*qt, p + ".request", tc.request);
    if (const toml::table* at = sub_table(t, "async", p)) read_async(*at, p + ".async", tc.async);
    if (const toml::node* sn = t.get("setup")) read_setup(*sn, p + ".setup", tc.setup);
    if (const toml::table* et = sub_table(t, "envelope", p)) {
      const std::string ep = p + ".envelope";
      check_keys(*et, ep, {"tenant_id", "type_create", "type_update", "type_delete", "header"});
      if (const toml::table* ht = sub_table(*et, "header", ep))
        for (auto&& [k, v] : *ht)
          if (auto tpl = text(v, ep + ".header." + std::string(k.str())))
            tc.envelope.header.emplace_back(std::string(k.str()), std::move(*tpl));
      str(*et, "tenant_id", ep, tc.envelope.tenant_id);
      str(*et, "type_create", ep, tc.envelope.type_create);
      str(*et, "type_update", ep, tc.envelope.type_update);
      str(*et, "type_delete", ep, tc.envelope.type_delete);
    }
    check_templates(t, p, tc);
  }

  // Every placeholder of the target's templates has a value where it is used.
  void check_templates(const toml::table& t, const std::string& p, const target_config& tc) {
    std::vector<std::string> returned;
    for (const auto& r : tc.response.returns) returned.push_back(r.name);
    auto check = [&](const toml::table* tab, const std::string& tp, std::string_view key,
                     const std::string& tpl, template_context ctx) {
      const toml::node* n = tab ? tab->get(key) : nullptr;
      if (!n) return;  // defaults are valid
      std::string why = check_template(tpl, ctx, returned);
      if (!why.empty())
        error(*n, join_path(tp, key), why,
              "placeholders are listed in docs/targets.md (\"Placeholders\")");
    };
    auto table = [&](std::string_view key) {
      const toml::node* n = t.get(key);
      return n ? n->as_table() : nullptr;
    };
    const toml::table* pt = table("paths");
    const std::string pp = p + ".paths";
    check(pt, pp, "batch", tc.paths.batch, template_context::batch_path);
    check(pt, pp, "sync", tc.paths.sync, template_context::batch_path);
    check(pt, pp, "batch_status", tc.paths.batch_status, template_context::status_path);
    check(pt, pp, "record", tc.paths.record, template_context::record_path);
    check(pt, pp, "record_id", tc.paths.record_id, template_context::record_path);
    check(pt, pp, "message", tc.paths.message, template_context::record_path);
    const toml::table* et = table("envelope");
    const std::string ep = p + ".envelope";
    check(et, ep, "type_create", tc.envelope.type_create, template_context::envelope_type);
    check(et, ep, "type_update", tc.envelope.type_update, template_context::envelope_type);
    check(et, ep, "type_delete", tc.envelope.type_delete, template_context::envelope_type);
    if (et && et->get("header") && et->get("header")->as_table())
      for (const auto& [name, tpl] : tc.envelope.header)
        check(et->get("header")->as_table(), ep + ".header", name, tpl,
              template_context::envelope_header);
    if (const toml::table* qt = table("request")) {
      const toml::node* fn = qt->get("fields");
      if (const toml::table* ft = fn ? fn->as_table() : nullptr)
        for (const auto& [name, tpl] : tc.request.fields)
          check(ft, p + ".request.fields", name, tpl, template_context::record_field);
    }
  }

  void read_field(const toml::table& t, const std::string& p, field_mapping& f) {
    f.line = static_cast<int>(t.source().begin.line);
    f.col = static_cast<int>(t.source().begin.column);
    check_keys(t, p, {"name", "column", "value", "type", "trim", "nullable"});
    if (!t.get("name"))
      missing(&t, p + ".name", "the output field name", "add `name = \"...\"` to this field");
    else if (str(t, "name", p, f.name) && f.name.empty())
      error(*t.get("name"), p + ".name", "must not be empty", "name the output field");
    bool has_col = t.get("column") != nullptr, has_val = t.get("value") != nullptr;
    if (has_col) ident(t, "column", p, f.column);
    if (has_val) {
      std::string v;
      if (str(t, "value", p, v)) f.value = std::move(v);
    }
    if (!has_col && !has_val)
      missing(&t, p + ".column", "`column` (or a constant `value`)",
              "map a source column with `column = \"A1_NOME\"` or set `value = \"...\"`");
    if (has_col && has_val)
      error(*t.get("value"), p + ".value", "a field takes `column` or `value`, not both",
            "remove one of them");
    enumeration<field_type>(t, "type", p, f.type,
                            {{"string", field_type::string},
                             {"integer", field_type::integer},
                             {"decimal", field_type::decimal},
                             {"date", field_type::date},
                             {"datetime", field_type::datetime},
                             {"boolean", field_type::boolean}});
    boolean(t, "trim", p, f.trim);
    boolean(t, "nullable", p, f.nullable);
  }

  // `after = [1, 2]`: ids of services that run first. Unknown ids and cycles
  // are found once every service is read (check_dependencies).
  void read_after(const toml::table& t, const std::string& p, service_config& s) {
    const toml::node* n = t.get("after");
    if (!n) return;
    const toml::array* arr = n->as_array();
    if (!arr) {
      wrong_type(*n, p + ".after", "an array of service ids", "write `after = [1, 2]`");
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      const std::string ep = p + ".after[" + std::to_string(i) + "]";
      const auto* v = e.as_integer();
      if (!v) {
        wrong_type(e, ep, "a service id (integer)", "write `after = [1, 2]` with the ids of services");
        continue;
      }
      if (v->get() < 1 || v->get() > 65535) {
        error(e, ep, std::to_string(v->get()) + " is not a service id (1..65535)",
              "name the `id` of another [[services]] table");
        continue;
      }
      s.after.push_back(static_cast<std::uint32_t>(v->get()));
      s.after_at.emplace_back(static_cast<int>(e.source().begin.line),
                              static_cast<int>(e.source().begin.column));
    }
  }

  // Every `after` id names a service, none twice, and the graph has no cycle
  // (pipeline/service_graph.hpp); each problem at the `after` element.
  void check_dependencies(const std::vector<service_config>& services) {
    std::vector<std::string> ids;
    for (const auto& s : services) ids.push_back(std::to_string(s.id));
    for (const auto& pr : service_graph(services).problems()) {
      const service_config* s = nullptr;
      for (const auto& x : services)
        if (x.id == pr.service) s = &x;
      if (!s) continue;
      const std::string p = "services[" + std::to_string(s->file_index) + "].after[" +
                            std::to_string(pr.index) + "]";
      const auto at = pr.index < s->after_at.size() ? s->after_at[pr.index] : std::pair{s->line, s->col};
      std::string hint;
      switch (pr.k) {
        case dependency_problem::kind::unknown_id: {
          hint = "defined service ids: ";
          for (std::size_t i = 0; i < ids.size(); ++i) hint += (i ? ", " : "") + ids[i];
          break;
        }
        case dependency_problem::kind::duplicate:
          hint = "list each service once";
          break;
        case dependency_problem::kind::cycle:
          hint = "services wait for each other forever; remove one of these `after` entries";
          break;
      }
      error(at.first, at.second, p, "service " + std::to_string(s->id) + ": " + pr.message(), hint);
    }
  }

  // [services.writeback]: sql (parameters checked once the fields are read,
  // check_writeback) and on.
  void read_writeback(const toml::table& t, const std::string& p, service_config& s) {
    check_keys(t, p, {"sql", "on"});
    writeback_config w;
    w.line = static_cast<int>(t.source().begin.line);
    w.col = static_cast<int>(t.source().begin.column);
    if (!t.get("sql")) {
      missing(&t, p + ".sql", "the UPDATE to run after a delivery",
              "add `sql = \"UPDATE SA1010 SET A1_IDERP = :id WHERE R_E_C_N_O_ = :key\"`");
    } else if (str(t, "sql", p, w.sql)) {
      const toml::node& n = *t.get("sql");
      w.line = static_cast<int>(n.source().begin.line);
      w.col = static_cast<int>(n.source().begin.column);
      if (w.sql.find_first_not_of(" \t\r\n") == std::string::npos)
        error(n, p + ".sql", "must not be empty", "write the UPDATE statement, e.g. `UPDATE SA1010 SET A1_IDERP = :id WHERE R_E_C_N_O_ = :key`");
    }
    enumeration<writeback_on>(t, "on", p, w.on,
                              {{"create", writeback_on::create}, {"always", writeback_on::always}});
    s.writeback = std::move(w);
  }

  // The write-back's parameters: `:id`, `:key`, mapped fields (dots as `_`)
  // or members of the target's answer; a name close to a known one is a typo.
  void check_writeback(const service_config& s, const std::string& p) {
    if (!s.writeback || s.writeback->sql.empty()) return;
    const auto names = sql_parameter_names(s.writeback->sql);
    if (names.empty())
      error(s.writeback->line, s.writeback->col, p + ".writeback.sql",
            "has no parameters: every record would write the same row",
            "bind the record with :key and the remote id with :id");
    for (const auto& [name, best] : writeback_param_typos(s, names))
      error(s.writeback->line, s.writeback->col, p + ".writeback.sql",
            "parameter :" + name + " is not :id, :key or a mapped field",
            "did you mean :" + best + "? (other names are read from the target's answer)");
  }

  // Per-service source options: columns, composite key, key trimming, where
  // with params, query (docs/configuration.md "Per-service source options").
  void read_source_options(const toml::table& t, const std::string& p, service_config& s) {
    std::string v;
    if (ident(t, "stamp_column", p, v)) s.stamp_column = v;
    if (ident(t, "recno_column", p, v)) s.recno_column = v;
    if (deleted_column(t, p, v)) s.deleted_column = v;
    if (deleted_value(t, p, v)) s.deleted_value = v;
    boolean(t, "trim_key", p, s.trim_key);
    if (const toml::node* n = t.get("key_columns")) {
      const std::string kp = p + ".key_columns";
      const toml::array* arr = n->as_array();
      if (!arr) {
        wrong_type(*n, kp, "an array of column names",
                   "write `key_columns = [\"A1_FILIAL\", \"A1_COD\"]`");
      } else {
        for (std::size_t i = 0; i < arr->size(); ++i) {
          const toml::node& e = *arr->get(i);
          const std::string ep = kp + "[" + std::to_string(i) + "]";
          auto name = e.is_string() ? text(e, ep) : std::nullopt;
          if (!e.is_string()) wrong_type(e, ep, "a column name (string)");
          if (!name) continue;
          if (!safe_identifier(*name)) {
            error(e, ep, "`" + *name + "` is not a plain SQL identifier",
                  "use only letters, digits and _; names are quoted into SQL");
          } else if (std::find(s.key_columns.begin(), s.key_columns.end(), *name) !=
                     s.key_columns.end()) {
            error(e, ep, "column `" + *name + "` appears twice", "name each key column once");
          } else {
            s.key_columns.push_back(*name);
          }
        }
        if (arr->size() < 2)
          error(*n, kp, "a composite key needs at least two columns",
                "for one column write `key_column = \"...\"` instead");
        if (t.get("key_column"))
          error(*n, kp, "`key_column` and `key_columns` are mutually exclusive",
                "keep `key_columns` for a composite key, or `key_column` for one column");
      }
    }
    if (const toml::node* n = t.get("query")) {
      s.query_line = static_cast<int>(n->source().begin.line);
      s.query_col = static_cast<int>(n->source().begin.column);
      if (str(t, "query", p, s.query)) {
        std::string_view q = s.query;
        while (!q.empty() && (q.front() == ' ' || q.front() == '\n' || q.front() == '\t' ||
                              q.front() == '\r' || q.front() == '('))
          q.remove_prefix(1);
        auto starts = [&](std::string_view w) {
          if (q.size() < w.size()) return false;
          for (std::size_t i = 0; i < w.size(); ++i)
            if ((q[i] | 0x20) != w[i]) return false;
          return true;
        };
        if (!starts("select") && !starts("with"))
          error(*n, p + ".query", "is not a SELECT",
                "write one SELECT (or WITH ... SELECT) whose result holds the stamp, recno, "
                "deleted and key columns; stampede pages over it");
        else if (s.query.find(';') != std::string::npos)
          error(*n, p + ".query", "must be one statement without `;`",
                "remove the `;`: stampede wraps the query as a subquery");
      }
      if (t.get("table"))
        error(*n, p + ".query", "`table` and `query` are mutually exclusive",
              "keep `table` to read one table, or `query` for a join");
    }
    if (const toml::node* n = t.get("where")) {
      s.where_line = static_cast<int>(n->source().begin.line);
      s.where_col = static_cast<int>(n->source().begin.column);
      if (str(t, "where", p, s.where) && s.where.empty())
        error(*n, p + ".where", "must not be empty", "write a condition or remove `where`");
    }
    const auto used = sql_parameter_names(s.where);
    if (const toml::table* pt = sub_table(t, "params", p)) {
      for (auto&& [k, node] : *pt) {
        const std::string name(k.str());
        const std::string pp = p + ".params." + name;
        std::string value;
        if (const auto* i = node.as_integer()) {
          value = std::to_string(i->get());
        } else if (node.is_string()) {
          auto v = text(node, pp);
          if (!v) continue;
          value = std::move(*v);
        } else {
          wrong_type(node, pp, "a string (or an integer)", "write `params = { filial = \"01\" }`");
          continue;
        }
        if (std::find(used.begin(), used.end(), name) == used.end()) {
          std::string best = closest_name(name, used);
          error(k.source(), pp,
                "parameter `" + name + "` is not used in " +
                    (s.where.empty() ? std::string("`where` (there is none)")
                                     : "`where` (" + s.where + ")"),
                best.empty() ? "write :" + name + " in `where`, or remove the parameter"
                             : "did you mean `" + best + "`?");
          continue;
        }
        s.params.emplace_back(name, std::move(value));
      }
    }
    for (const auto& name : used) {
      const bool given = std::any_of(s.params.begin(), s.params.end(),
                                     [&](const auto& pr) { return pr.first == name; });
      const bool listed = t.get("params") && t.get("params")->as_table() &&
                          t.get("params")->as_table()->get(name);
      if (given || listed) continue;
      std::vector<std::string> names;
      if (const toml::table* pt = t.get("params") ? t.get("params")->as_table() : nullptr)
        for (auto&& [k, node] : *pt) names.emplace_back(k.str());
      std::string best = closest_name(name, names);
      error(s.where_line, s.where_col, p + ".where",
            "parameter :" + name + " has no value in `params`",
            best.empty() ? "add `params = { " + name + " = \"...\" }` to the service"
                         : "did you mean :" + best + "? (the names in `params`)");
    }
  }

  void read_service(const toml::table& t, const std::string& p, service_config& s) {
    s.line = static_cast<int>(t.source().begin.line);
    s.col = static_cast<int>(t.source().begin.column);
    check_keys(t, p, {"id", "name", "table", "query", "target", "key_column", "key_columns",
                      "trim_key", "stamp_column", "recno_column", "deleted_column",
                      "deleted_value", "where", "params", "schedule", "resend_schedule", "after",
                      "writeback", "envelope", "fields"});
    if (!t.get("id"))
      missing(&t, p + ".id", "the service id (1..65535)", "add `id = 1`, unique per service");
    else
      integer(t, "id", p, s.id, 1, 65535);
    if (!t.get("name"))
      missing(&t, p + ".name", "the service name", "add `name = \"taxpayers\"`");
    else if (str(t, "name", p, s.name) && s.name.empty())
      error(*t.get("name"), p + ".name", "must not be empty", "name the service");
    if (!t.get("table") && !t.get("query"))
      missing(&t, p + ".table", "the source table", "add `table = \"SA1010\"` (or a `query`)");
    else if (t.get("table"))
      ident(t, "table", p, s.table);
    if (!t.get("target"))
      missing(&t, p + ".target", "the target name", "add `target = \"portal\"` naming a [targets.NAME] table");
    else
      str(t, "target", p, s.target);
    ident(t, "key_column", p, s.key_column);
    read_source_options(t, p, s);
    if (const toml::node* n = t.get("schedule")) {
      if (auto v = text(*n, p + ".schedule")) {
        if (auto sc = parse_schedule(*v))
          s.when = *sc;
        else
          error(*n, p + ".schedule", "\"" + *v + "\" is not a schedule",
                "write \"always\", \"every 15m\", \"every 1h offset 10m\" with offset < interval, "
                "or \"daily 08:00\"");
      }
    }
    if (const toml::node* n = t.get("resend_schedule")) {
      if (auto v = text(*n, p + ".resend_schedule")) {
        if (auto sc = parse_schedule(*v); sc && sc->k != schedule::kind::always)
          s.resend_when = *sc;
        else
          error(*n, p + ".resend_schedule", "\"" + *v + "\" is not a resend schedule",
                "write \"every 1h\", \"every 30m offset 5m\" or \"daily 03:00\" (not \"always\")");
      }
    }
    read_after(t, p, s);
    if (const toml::table* wt = sub_table(t, "writeback", p)) read_writeback(*wt, p + ".writeback", s);
    if (const toml::table* et = sub_table(t, "envelope", p)) {
      const std::string ep = p + ".envelope";
      check_keys(*et, ep, {"type_create", "type_update", "type_delete"});
      auto type = [&](std::string_view key, std::optional<std::string>& out) {
        std::string v;
        if (!str(*et, key, ep, v)) return;
        std::string why = check_template(v, template_context::envelope_type, {});
        if (!why.empty())
          error(*et->get(key), join_path(ep, key), why,
                "placeholders are listed in docs/targets.md (\"Placeholders\")");
        out = std::move(v);
      };
      type("type_create", s.envelope.type_create);
      type("type_update", s.envelope.type_update);
      type("type_delete", s.envelope.type_delete);
    }
    const toml::node* fn = t.get("fields");
    if (!fn) {
      missing(&t, p + ".fields", "at least one field",
              "add [[services.fields]] tables with name and column");
      return;
    }
    const toml::array* arr = fn->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      wrong_type(*fn, p + ".fields", "an array of tables ([[services.fields]])");
      return;
    }
    if (arr->empty())
      error(*fn, p + ".fields", "has no fields", "add [[services.fields]] tables");
    std::set<std::string> names;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto& ft = *arr->get(i)->as_table();
      std::string fp = p + ".fields[" + std::to_string(i) + "]";
      field_mapping f;
      read_field(ft, fp, f);
      if (!f.name.empty() && !names.insert(f.name).second)
        error(*ft.get("name"), fp + ".name", "duplicate field name \"" + f.name + "\"",
              "give each output field a unique name");
      s.fields.push_back(std::move(f));
    }
  }

  config read(const toml::table& root) {
    config c;
    c.file = file;
    check_keys(root, "",
               {"source", "state", "engine", "journal", "metrics", "web", "targets", "services"});
    read_source(sub_table(root, "source", ""), c.source);
    read_state(sub_table(root, "state", ""), c.state);
    read_engine(sub_table(root, "engine", ""), c.engine);
    read_journal(sub_table(root, "journal", ""), c.journal);
    const bool keep_all = c.journal.payloads == journal_payloads::all;
    read_metrics(sub_table(root, "metrics", ""), c.metrics);
    read_web(sub_table(root, "web", ""), c.web);

    if (const toml::table* tt = sub_table(root, "targets", "")) {
      for (auto&& [k, v] : *tt) {
        std::string name(k.str());
        const auto* t = v.as_table();
        if (!t) {
          wrong_type(v, "targets." + name, "a table ([targets." + name + "])");
          continue;
        }
        read_target(name, *t, c.targets[name]);
        c.targets[name].response.keep_success_answers = keep_all;
      }
    }

    const toml::node* sn = root.get("services");
    const toml::array* services = sn ? sn->as_array() : nullptr;
    if (sn && (!services || !services->is_array_of_tables())) {
      wrong_type(*sn, "services", "an array of tables ([[services]])");
      services = nullptr;
    }
    if (services) {
      std::map<std::uint32_t, std::string> ids;
      std::map<std::string, std::string> names;
      for (std::size_t i = 0; i < services->size(); ++i) {
        const auto& st = *services->get(i)->as_table();
        std::string p = "services[" + std::to_string(i) + "]";
        service_config s;
        s.file_index = static_cast<std::uint32_t>(i);
        read_service(st, p, s);
        if (s.id != 0) {
          auto [it, fresh] = ids.emplace(s.id, p);
          if (!fresh)
            error(*st.get("id"), p + ".id",
                  "duplicate service id " + std::to_string(s.id) + " (also used by " + it->second +
                      ")",
                  "give every service a unique id");
        }
        if (!s.name.empty()) {
          auto [it, fresh] = names.emplace(s.name, p);
          if (!fresh)
            error(*st.get("name"), p + ".name",
                  "duplicate service name \"" + s.name + "\" (also used by " + it->second + ")",
                  "give every service a unique name");
        }
        if (!s.target.empty() && !c.targets.count(s.target)) {
          std::vector<std::string> known;
          for (const auto& [n, t] : c.targets) known.push_back(n);
          std::string best = closest_name(s.target, known);
          std::string hint;
          if (!best.empty())
            hint = "did you mean \"" + best + "\"?";
          else if (known.empty())
            hint = "define it with a [targets." + s.target + "] table";
          else {
            hint = "defined targets: ";
            for (std::size_t j = 0; j < known.size(); ++j) hint += (j ? ", " : "") + known[j];
          }
          error(*st.get("target"), p + ".target",
                "target \"" + s.target + "\" is not defined under [targets]", hint);
        }
        if (!s.key_columns.empty()) {
          s.key_column.clear();
          for (std::size_t k = 0; k < s.key_columns.size(); ++k)
            s.key_column += (k ? "|" : "") + s.key_columns[k];
        }
        if (s.key_column.empty()) s.key_column = s.recno_column.value_or(c.source.recno_column);
        check_writeback(s, p);
        // A parameter from the target's answer needs the answer of a success.
        if (s.writeback && c.targets.count(s.target) &&
            writeback_plan(s, sql_parameter_names(s.writeback->sql)).needs_answer())
          c.targets[s.target].response.keep_success_answers = true;
        c.services.push_back(std::move(s));
      }
    }
    std::stable_sort(c.services.begin(), c.services.end(),
                     [](const service_config& a, const service_config& b) { return a.id < b.id; });
    check_dependencies(c.services);
    return c;
  }
};

// Where the TOML text nests too deep for the parser to be safe: a dotted key
// of more than max_key_parts parts, or tables/arrays (headers, inline tables,
// dotted keys inside them) more than max_nesting levels deep. toml++ recurses
// per level, and ~50k dotted parts overflow the stack; no real configuration
// comes near these bounds. Strings and comments are skipped; the count is
// conservative (a float's '.' counts as a part).
constexpr int max_key_parts = 64;
constexpr int max_nesting = 128;

std::optional<config_diagnostic> nesting_problem(std::string_view s, const std::string& file) {
  int line = 1, col = 1;
  std::vector<int> levels;  // depth reached by each open '[' or '{'
  int dots = 0;             // '.' in the dotted key being read
  int last_key_dots = 0;    // dots of the key before '=' (an inline table's parent)
  auto problem = [&](std::string msg) {
    return config_diagnostic{file, line, col, "", std::move(msg),
                             "write nested tables as [section.sub] headers with a few levels"};
  };
  auto advance = [&](std::size_t& i) {
    if (s[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    ++i;
  };
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const int base = levels.empty() ? 0 : levels.back();
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') advance(i);
    } else if (c == '"' || c == '\'') {  // a string: part of a key, or a value
      const std::string_view three = c == '"' ? "\"\"\"" : "'''";
      const bool triple = s.substr(i, 3) == three;
      for (int k = 0; k < (triple ? 3 : 1); ++k) advance(i);
      while (i < s.size()) {
        if (c == '"' && s[i] == '\\' && i + 1 < s.size()) {
          advance(i);
          advance(i);
        } else if (s[i] == c && (!triple || s.substr(i, 3) == three)) {
          for (int k = 0; k < (triple ? 3 : 1); ++k) advance(i);
          break;
        } else if (s[i] == '\n' && !triple) {
          break;  // unterminated: the parser reports it
        } else {
          advance(i);
        }
      }
    } else if (c == '.') {
      ++dots;
      if (dots + 1 > max_key_parts)
        return problem("a dotted key with more than " + std::to_string(max_key_parts) + " parts");
      if (base + dots + 1 > max_nesting)
        return problem("tables nested more than " + std::to_string(max_nesting) + " levels deep");
      advance(i);
    } else if (c == '=') {
      last_key_dots = dots;
      dots = 0;
      advance(i);
    } else if (c == '[' || c == '{') {
      levels.push_back(base + last_key_dots + 1);
      if (levels.back() > max_nesting)
        return problem("tables or arrays nested more than " + std::to_string(max_nesting) +
                       " levels deep");
      dots = last_key_dots = 0;
      advance(i);
    } else if (c == ']' || c == '}') {
      if (!levels.empty()) levels.pop_back();
      dots = last_key_dots = 0;
      advance(i);
    } else {
      const bool key_char = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ' ' ||
                            c == '\t';
      if (!key_char) dots = last_key_dots = 0;
      advance(i);
    }
  }
  return std::nullopt;
}

} // namespace

config parse_config(std::string_view text, const std::string& file) {
  reader r;
  r.file = file;
  if (auto p = nesting_problem(text, file)) throw config_error({std::move(*p)});
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    r.error(static_cast<int>(b.line), static_cast<int>(b.column), "",
            "malformed TOML: " + std::string(e.description()),
            "fix the syntax at this position; see https://toml.io");
    throw config_error(std::move(r.diags));
  }
  config c = r.read(root);
  if (!r.diags.empty()) {
    std::stable_sort(r.diags.begin(), r.diags.end(),
                     [](const config_diagnostic& a, const config_diagnostic& b) {
                       if ((a.line == 0) != (b.line == 0)) return b.line == 0;
                       if (a.line != b.line) return a.line < b.line;
                       return a.column < b.column;
                     });
    throw config_error(std::move(r.diags));
  }
  return c;
}

std::vector<config_diagnostic> config_warnings(const config& c) {
  std::vector<config_diagnostic> out;
  // "http://HOST[:port]/..." -> whether HOST is the loopback.
  auto loopback = [](std::string_view url) {
    url.remove_prefix(url.find("://") + 3);
    url = url.substr(0, url.find_first_of("/?#"));
    if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
    if (url.starts_with("[")) return url.starts_with("[::1]");
    url = url.substr(0, url.find(':'));
    return url == "localhost" || url.starts_with("127.");
  };
  auto plain = [](std::string_view url) { return url.rfind("http://", 0) == 0; };
  auto userinfo = [](std::string_view url) {
    auto s = url.find("://");
    if (s == std::string_view::npos) return false;
    url.remove_prefix(s + 3);
    return url.substr(0, url.find_first_of("/?#")).find('@') != std::string_view::npos;
  };
  for (const auto& [name, t] : c.targets) {
    const std::string p = "targets." + name;
    if (t.auth.kind != auth_kind::none && plain(t.base_url) && !loopback(t.base_url))
      out.push_back({c.file, 0, 0, p + ".base_url",
                     std::string("plain http:// but auth.kind = \"") +
                         (t.auth.kind == auth_kind::static_key ? "static" : "oauth2") +
                         "\": the credentials cross the network unencrypted",
                     "use https:// (tls.ca_file trusts a private CA)"});
    if (t.auth.kind == auth_kind::oauth2 && plain(t.auth.token_url) && !loopback(t.auth.token_url))
      out.push_back({c.file, 0, 0, p + ".auth.token_url",
                     "plain http://: the client secret crosses the network unencrypted",
                     "use https:// (tls.ca_file trusts a private CA)"});
    for (const std::string* u : {&t.base_url, &t.auth.token_url})
      if (userinfo(*u))
        out.push_back({c.file, 0, 0, p + (u == &t.base_url ? ".base_url" : ".auth.token_url"),
                       "the URL carries user:password@", "use [" + p + ".auth] instead"});
  }
  return out;
}

config load_config(const std::string& path) {
  auto fail = [&](std::string why, std::string hint = "check the path and its permissions") {
    return config_error({config_diagnostic{path, 0, 0, "", "cannot read config file: " + why,
                                           std::move(hint)}});
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; what is not a
  // regular file (FIFO, device, socket, directory) is refused before reading.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw fail(std::strerror(errno));
  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw fail("it is a directory");
  if (!S_ISREG(st.st_mode))
    throw fail("it is not a regular file (a pipe, device or socket)",
               "write the configuration to a file and pass its path");
  const std::string limit = std::to_string(max_config_bytes >> 20) + " MiB";
  if (static_cast<std::uint64_t>(st.st_size) > max_config_bytes)
    throw fail("it is larger than " + limit, "a configuration is a few kilobytes; check the path");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_config_bytes)  // grew while being read
      throw fail("it is larger than " + limit, "a configuration is a few kilobytes; check the path");
  }
  return parse_config(text, path);
}

} // namespace stampede
