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
