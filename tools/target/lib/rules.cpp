#include "tools/target/lib/rules.hpp"

#include <charconv>
#include <stdexcept>

namespace stampede::target {

std::vector<rule> parse_rules(const std::vector<std::string>& specs) {
  std::vector<rule> out;
  for (const auto& s : specs) {
    auto bad = [&](const std::string& why) {
      return std::invalid_argument("invalid validation rule '" + s + "': " + why +
                                   " (expected FIELD:nonempty, FIELD:digits or FIELD:maxlen=N)");
    };
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) throw bad("missing FIELD: prefix");
    rule r;
    r.text = s;
    r.field = s.substr(0, colon);
    std::string_view kind = std::string_view(s).substr(colon + 1);
    if (kind == "nonempty") {
      r.k = rule::kind::nonempty;
    } else if (kind == "digits") {
      r.k = rule::kind::digits;
    } else if (kind.substr(0, 7) == "maxlen=") {
      r.k = rule::kind::maxlen;
      auto num = kind.substr(7);
      auto res = std::from_chars(num.data(), num.data() + num.size(), r.max);
      if (num.empty() || res.ec != std::errc{} || res.ptr != num.data() + num.size()) {
        throw bad("maxlen needs a non-negative integer");
      }
    } else {
      throw bad("unknown rule '" + std::string(kind) + "'");
    }
    std::size_t start = 0;
    while (true) {
      auto dot = r.field.find('.', start);
      auto part = r.field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) throw bad("empty path segment in field '" + r.field + "'");
      r.path.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string broken(const rule& r) {
  return "field '" + r.field + "' breaks rule '" + r.text.substr(r.field.size() + 1) + "'";
}

}  // namespace

std::string check_rules(const std::vector<rule>& rules, std::string_view data_json,
                        simdjson::dom::parser& parser) {
  if (rules.empty()) return {};
  simdjson::dom::element root;
  if (parser.parse(data_json.data(), data_json.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return "data must be a JSON object";
  }
  for (const auto& r : rules) {
    simdjson::dom::element cur = root;
    bool present = true;
    for (const auto& part : r.path) {
      simdjson::dom::object obj;
      if (cur.get_object().get(obj) != simdjson::SUCCESS ||
          obj.at_key(part).get(cur) != simdjson::SUCCESS) {
        present = false;
        break;
      }
    }
    if (present && cur.is_null()) present = false;
    switch (r.k) {
      case rule::kind::nonempty: {
        if (!present) return broken(r);
        std::string_view sv;
        if (cur.get_string().get(sv) == simdjson::SUCCESS && sv.empty()) return broken(r);
        simdjson::dom::array arr;
        if (cur.get_array().get(arr) == simdjson::SUCCESS && arr.size() == 0) return broken(r);
        simdjson::dom::object obj;
        if (cur.get_object().get(obj) == simdjson::SUCCESS && obj.size() == 0) return broken(r);
        break;
      }
      case rule::kind::digits: {
        if (!present) break;
        std::string_view sv;
        std::uint64_t u = 0;
        if (cur.get_string().get(sv) == simdjson::SUCCESS) {
          if (!is_digits(sv)) return broken(r);
        } else if (cur.get_uint64().get(u) != simdjson::SUCCESS) {
          return broken(r);
        }
        break;
      }
      case rule::kind::maxlen: {
        if (!present) break;
        std::string_view sv;
        std::size_t len = 0;
        if (cur.get_string().get(sv) == simdjson::SUCCESS) {
          len = sv.size();
        } else {
          len = simdjson::minify(cur).size();
        }
        if (len > r.max) return broken(r);
        break;
      }
    }
  }
  return {};
}

}  // namespace stampede::target
