// mutate_report::to_json.
#include "tools/demogen/lib/demogen.hpp"

namespace stampede::demogen {

namespace {

void append_list(std::string& out, const char* name, const std::vector<std::int64_t>& v) {
  out += "\"";
  out += name;
  out += "\": [";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(v[i]);
  }
  out += "]";
}

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string mutate_report::to_json() const {
  std::size_t upd = 0, ins = 0, del = 0, late_n = 0;
  for (const auto& [id, p] : services) {
    upd += p.updated.size();
    ins += p.inserted.size();
    del += p.deleted.size();
    late_n += p.late.size();
  }
  std::string out = "{\n";
  out += "  \"count\": " + std::to_string(upd + ins + del) + ",\n";
  out += "  \"updated\": " + std::to_string(upd) + ",\n";
  out += "  \"inserted\": " + std::to_string(ins) + ",\n";
  out += "  \"deleted\": " + std::to_string(del) + ",\n";
  out += "  \"late\": " + std::to_string(late_n) + ",\n";
  out += "  \"late_stamp\": ";
  append_escaped(out, late_stamp);
  out += ",\n  \"services\": {";
  bool first = true;
  for (const auto& [id, p] : services) {
    out += first ? "\n" : ",\n";
    first = false;
    const service_def* s = find_service(id);
    out += "    \"" + std::to_string(id) + "\": {\"name\": ";
    append_escaped(out, s ? s->name : "");
    out += ", \"table\": ";
    append_escaped(out, s ? s->table : "");
    out += ",\n      ";
    append_list(out, "updated", p.updated);
    out += ",\n      ";
    append_list(out, "inserted", p.inserted);
    out += ",\n      ";
    append_list(out, "deleted", p.deleted);
    out += ",\n      ";
    append_list(out, "late", p.late);
    out += "}";
  }
  out += first ? "}\n}\n" : "\n  }\n}\n";
  return out;
}

}  // namespace stampede::demogen
