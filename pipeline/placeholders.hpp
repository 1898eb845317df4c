// placeholders: `{name}` in the templates of a target (paths, envelope
// types, request.fields), found, checked and expanded in one place.
//
// Operation: `scan_placeholders(tpl)` lists every `{name}` of a template
//   (name = letters, digits, '_'); "{{" and "}}" are a literal brace, any
//   other brace is kept as it is. `check_template(tpl, context, returned)`
//   says what is wrong with a template in a context: a placeholder that the
//   context does not know (with the closest known name), or a returned value
//   that response.returns does not configure. `expand(tpl, lookup, encode)`
//   replaces each placeholder by lookup(name) in ONE pass (replaced text is
//   never expanded again), percent-encoding it when `encode` (paths);
//   expand() returns nullopt when lookup has no value for a name (a record
//   without a {rev} yet), so the caller can leave the member out.
// Concurrency: pure functions.
// Limitations: the contexts and their names are fixed here (docs/targets.md
//   "Placeholders"); a returned value named like a built-in one ("key") is
//   refused by the config, not shadowed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

/// Where a template is used: which placeholders have a value there.
enum class template_context {
  batch_path,    // paths.batch, paths.sync: {service} {service_id} {service_name}
  status_path,   // paths.batch_status: the batch path's and {batch}
  record_path,   // paths.record, record_id, message: + {op} {type} {key} {id} {idempotency_key}
                 // and returned values
  envelope_type, // envelope.type_*: {service} {service_id} {service_name} {key} {op}
  record_field,  // request.fields: {service} {service_id} {service_name} {op} {key} {id}
                 // {idempotency_key} and returned values
  envelope_header, // envelope.header: request.fields' and {type}
  setup_path,    // [[targets.X.setup]] path: none
};

struct placeholder {
  std::string name;
  std::size_t pos = 0;  // offset of the '{'
};

/// Letters, digits and '_', not empty: a name a placeholder (and :param) can have.
bool placeholder_name_ok(std::string_view name);

/// The built-in names of a context (without returned values).
std::vector<std::string> builtin_placeholders(template_context ctx);

/// Every `{name}` of `tpl`, in order.
std::vector<placeholder> scan_placeholders(std::string_view tpl);

/// "" when every placeholder of `tpl` is known in `ctx`; else what is wrong
/// and what to do ("unknown placeholder {tpye}: did you mean {type}? ...").
/// `returned`: the names of response.returns (they count in record contexts).
std::string check_template(std::string_view tpl, template_context ctx,
                           const std::vector<std::string>& returned);

/// The value of a placeholder, or nullopt when it has none for this record.
using placeholder_lookup = std::function<std::optional<std::string_view>(std::string_view)>;

/// `tpl` with its placeholders replaced (percent-encoded when `encode`);
/// nullopt when a placeholder has no value, unless `keep_missing`: then it
/// stays in the text as written (`{name}`).
std::optional<std::string> expand(std::string_view tpl, const placeholder_lookup& lookup,
                                  bool encode, bool keep_missing = false);

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string url_encode(std::string_view s);

/// application/x-www-form-urlencoded: url_encode() with ' ' as '+'.
std::string form_encode(std::string_view s);

}  // namespace stampede
