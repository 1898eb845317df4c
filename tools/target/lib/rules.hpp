// Per-record validation rules of stampede-target ("FIELD:RULE").
//
// Operation: `parse_rules` turns "FIELD:RULE" strings into rules; FIELD is a
//   dotted path into the record's data object ("address.zip"), RULE is
//   `nonempty` (present, not null, not "" / [] / {}), `digits` (if present
//   and not null: a non-empty string of ASCII digits or a non-negative
//   integer) or `maxlen=N` (if present and not null: string length in bytes,
//   or the raw JSON text length of a non-string, <= N). `check_rules` returns
//   the message of the first rule broken, or an empty string.
// Concurrency: rules are immutable values; `check_rules` uses the caller's
//   parser, one per thread.
// Limitations: paths cannot address array elements or keys containing '.'.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace stampede::target {

struct rule {
  enum class kind { nonempty, digits, maxlen };
  std::string text;               // the original "FIELD:RULE"
  std::string field;              // dotted path as given
  std::vector<std::string> path;  // split on '.'
  kind k = kind::nonempty;
  std::size_t max = 0;            // maxlen only
};

/// Throws std::invalid_argument naming the bad rule and the accepted forms.
std::vector<rule> parse_rules(const std::vector<std::string>& specs);

/// Checks `data_json` (a JSON object) against `rules`. Returns "" when all
/// pass, else a message such as "field 'cnpj' breaks rule 'digits'".
std::string check_rules(const std::vector<rule>& rules, std::string_view data_json,
                        simdjson::dom::parser& parser);

}  // namespace stampede::target
