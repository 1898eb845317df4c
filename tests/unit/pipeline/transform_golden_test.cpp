// Golden tests: tests/data/golden/<name>.in -> <name>.expected, byte for byte.
//
// Input format (one directive per line, '#' starts a comment line):
//   service <id> <name>
//   timezone <minutes>                 source.utc_offset_minutes (default -180)
//   batch <records> <bytes>            target batch limits (default 1000 4194304)
//   field <name> <type> column=<COL> | value=<text> [trim=false] [nullable=false]
//   row <key>|<cell>|<cell>...         cells in transformer::columns() order
//   del <key>|<cell>|...               same, D_E_L_E_T_ = '*' (with a delivered prior)
// Cells: `\N` alone is NULL; escapes \\ \| \t \n \r \xHH; spaces are kept.
// Output: one line per batch header, record (`key op data`) and record error.
// Set STAMPEDE_UPDATE_GOLDEN=1 to rewrite the .expected files (then review the diff!).
#include "pipeline/transform.hpp"
#include "transform_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace stampede;
using namespace stampede::test;

namespace {

const std::string kDir = std::string(STAMPEDE_SOURCE_DIR) + "/tests/data/golden/";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  FAIL("bad hex digit in golden input");
  return 0;
}

// Splits on unescaped '|' and decodes escapes.
std::vector<cellv> split_cells(const std::string& s) {
  std::vector<cellv> out;
  std::string cur;
  bool raw_null = false;
  const auto flush = [&] {
    if (raw_null && cur.empty()) out.emplace_back(std::nullopt);
    else out.emplace_back(cur);
    cur.clear();
    raw_null = false;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '|') {
      flush();
      continue;
    }
    if (c != '\\' || i + 1 >= s.size()) {
      cur.push_back(c);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 'N':
        if (cur.empty() && (i + 1 == s.size() || s[i + 1] == '|')) raw_null = true;
        else cur += "\\N";
        break;
      case 't': cur.push_back('\t'); break;
      case 'n': cur.push_back('\n'); break;
      case 'r': cur.push_back('\r'); break;
      case 'x':
        REQUIRE(i + 2 < s.size());
        cur.push_back(static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
        i += 2;
        break;
      default: cur.push_back(e);  // \\ and \|
    }
  }
  flush();
  return out;
}

field_type parse_type(const std::string& t) {
  if (t == "string") return field_type::string;
  if (t == "integer") return field_type::integer;
  if (t == "decimal") return field_type::decimal;
  if (t == "date") return field_type::date;
  if (t == "datetime") return field_type::datetime;
  if (t == "boolean") return field_type::boolean;
  FAIL("unknown type in golden input: " << t);
  return field_type::string;
}

std::string run_golden(const std::string& input) {
  service_config svc;
  target_config tgt;
  source_config src;
  src.utc_offset_minutes = -180;
  std::vector<row_spec> rows;
  std::istringstream in(input);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.find(' ');
    const std::string cmd = line.substr(0, sp);
    const std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    std::istringstream args(rest);
    if (cmd == "service") {
      args >> svc.id >> svc.name;
    } else if (cmd == "timezone") {
      args >> src.utc_offset_minutes;
    } else if (cmd == "batch") {
      args >> tgt.batch_records >> tgt.batch_bytes;
    } else if (cmd == "field") {
      field_mapping f;
      std::string type, opt;
      args >> f.name >> type;
      f.type = parse_type(type);
      while (args >> opt) {
        if (opt.rfind("column=", 0) == 0) f.column = opt.substr(7);
        else if (opt.rfind("value=", 0) == 0) f.value = split_cells(opt.substr(6)).at(0).value_or("");
        else if (opt == "trim=false") f.trim = false;
        else if (opt == "nullable=false") f.nullable = false;
        else FAIL("unknown field option in golden input: " << opt);
      }
      svc.fields.push_back(f);
    } else if (cmd == "row" || cmd == "del") {
      auto bar = rest.find('|');
      row_spec r;
      r.key = rest.substr(0, bar);
      if (bar != std::string::npos) r.cells = split_cells(rest.substr(bar + 1));
      if (cmd == "del") {
        r.deleted = true;
        ledger_entry e;
        e.status = record_status::success;
        e.remote_id = "remote-" + r.key;
        r.prior = e;
      }
      rows.push_back(std::move(r));
    } else {
      FAIL("unknown golden directive: " << cmd);
    }
  }
  transformer tr(svc, tgt, src);
  for (const auto& r : rows) REQUIRE(r.cells.size() == tr.columns().size());
  const auto batches = tr.run(make_page(svc.id, tr.columns(), rows));
  std::string out;
  for (const auto& b : batches) {
    out += "batch " + std::to_string(b->part) + "/" + std::to_string(b->parts) +
           " records=" + std::to_string(b->records.size()) + " bytes=" + std::to_string(b->bytes()) +
           " skipped_unchanged=" + std::to_string(b->skipped_unchanged) +
           " skipped_deleted=" + std::to_string(b->skipped_deleted) + "\n";
    for (const auto& r : b->records)
      out += "record " + r.key + " " + std::string(to_string(r.op)) + " " + std::string(b->data(r)) + "\n";
    for (const auto& e : b->record_errors) out += "error " + e.key + " " + e.message + "\n";
  }
  return out;
}

void check_golden(const std::string& name) {
  const std::string actual = run_golden(read_file(kDir + name + ".in"));
  const std::string expected_path = kDir + name + ".expected";
  if (const char* u = std::getenv("STAMPEDE_UPDATE_GOLDEN"); u && *u == '1') {
    std::ofstream(expected_path, std::ios::binary) << actual;
    WARN("rewrote " << expected_path);
  }
  const std::string expected = read_file(expected_path);
  INFO("golden " << name << " (STAMPEDE_UPDATE_GOLDEN=1 rewrites it)");
  CHECK(actual == expected);
}

} // namespace

TEST_CASE("golden: every type with good values, blanks and NULLs", "[transform][golden]") {
  check_golden("types");
}
TEST_CASE("golden: bad values become record errors", "[transform][golden]") {
  check_golden("bad_values");
}
TEST_CASE("golden: nested objects and constants", "[transform][golden]") {
  check_golden("nested");
}
TEST_CASE("golden: string escaping and invalid UTF-8", "[transform][golden]") {
  check_golden("utf8");
}
TEST_CASE("golden: UTC source, deletes and batch split", "[transform][golden]") {
  check_golden("utc_batches");
}
