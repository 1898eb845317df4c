#include "pipeline/record.hpp"

namespace stampede {

std::string_view to_string(record_op op) {
  switch (op) {
    case record_op::create: return "create";
    case record_op::update: return "update";
    case record_op::del: return "delete";
  }
  return "unknown";
}

bool operator<(const keyset_pos& a, const keyset_pos& b) {
  if (int c = a.stamp.compare(b.stamp); c != 0) return c < 0;
  return a.recno < b.recno;
}

void append_key_part(std::string& key, std::string_view part, std::size_t i) {
  if (i > 0) key += '|';
  for (char c : part) {
    if (c == '|' || c == '\\') key += '\\';
    key += c;
  }
}

std::optional<std::vector<std::string>> split_composite_key(std::string_view key, std::size_t n) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == '\\') {
      if (++i == key.size()) return std::nullopt;  // a dangling escape
      parts.back() += key[i];
    } else if (c == '|') {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  if (parts.size() != n) return std::nullopt;
  return parts;
}

} // namespace stampede

namespace stampede {

std::string_view to_string(failure_class c) {
  switch (c) {
    case failure_class::none: return "none";
    case failure_class::unreachable: return "unreachable";
    case failure_class::credentials: return "credentials";
    case failure_class::route: return "route";
    case failure_class::exhausted: return "exhausted";
    case failure_class::circuit_open: return "circuit_open";
    case failure_class::cancelled: return "cancelled";
  }
  return "unknown";
}

} // namespace stampede
