// libFuzzer target: the declarative transform and the JSON writer
// (pipeline/transform, pipeline/json_writer).
//
// Input: byte 0 the number of fields (1..6); per field a type/flags byte
//   (type, trim, nullable, constant), a name byte (plain or dotted names that
//   may collide) and a column byte, plus a 0x00-terminated constant when the
//   field has one; then the time zone, batch_records and batch_bytes bytes;
//   then the row count (0..7) and per row a flags byte (deleted, prior ledger
//   state), a 0x00-terminated key and per column a NULL byte and a
//   0x00-terminated cell. What is left is fed to the JSON writer and to
//   convert_value() of every type.
// Checks beyond "no crash, no sanitizer report": every row is accounted for
//   exactly once (record, record error or skipped); every record's data is
//   one valid JSON object in valid UTF-8; batches respect batch_records and
//   batch_bytes (a lone oversized record excepted) and carry part/parts; the
//   writer's output is valid JSON in valid UTF-8 that reads back as
//   json_string_value(input); json_escape_to() stays inside
//   json_escape_bound(); doubles round-trip exactly.
// Build and run: FUZZING.md.
#include "tests/fuzz/fuzz_target.hpp"
#include "pipeline/json_writer.hpp"
#include "pipeline/transform.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/fuzz/json_check.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace stampede;
using fuzz::json_valid;

constexpr field_type kTypes[] = {field_type::string, field_type::integer, field_type::decimal,
                                 field_type::date,   field_type::datetime, field_type::boolean};
constexpr const char* kNames[] = {"a", "b", "c", "a.x", "a.y", "n.m.o", "a.x.z", "id"};
constexpr const char* kColumns[] = {"C1", "C2", "C3"};
constexpr int kOffsets[] = {0, -180, 330, 840, -720};
constexpr std::uint64_t kBatchBytes[] = {1, 64, 1024, 4u << 20};

bool utf8_ok(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void check_batches(const std::vector<std::shared_ptr<send_batch>>& batches, std::size_t rows,
                   const target_config& tgt) {
  if (batches.empty()) __builtin_trap();
  std::size_t seen = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const send_batch& b = *batches[i];
    if (b.part != i || b.parts != batches.size()) __builtin_trap();
    seen += b.records.size() + b.record_errors.size() + b.skipped_unchanged + b.skipped_deleted;
    if (b.records.size() > tgt.batch_records) __builtin_trap();
    if (b.records.size() > 1 && b.bytes() > tgt.batch_bytes) __builtin_trap();
    for (const out_record& r : b.records) {
      const std::string_view d = b.data(r);
      if (d.empty() || d.front() != '{' || !json_valid(d) || !utf8_ok(d)) __builtin_trap();
      if (r.idempotency_key.size() != 16) __builtin_trap();
    }
    for (const record_error& e : b.record_errors)
      if (e.message.empty()) __builtin_trap();
  }
  if (seen != rows) __builtin_trap();
}

void run_transform(fuzz::fuzz_input& in) {
  service_config svc;
  svc.id = 7;
  svc.name = "fuzz";
  const unsigned nfields = 1 + in.small(6);
  for (unsigned i = 0; i < nfields; ++i) {
    const std::uint8_t flags = in.byte();
    field_mapping f;
    f.type = kTypes[(flags & 7) % 6];
    f.trim = flags & 8;
    f.nullable = flags & 16;
    f.name = kNames[in.small(8)];
    f.column = kColumns[in.small(3)];
    if (flags & 32) f.value = std::string(in.piece());
    svc.fields.push_back(std::move(f));
  }
  source_config src;
  src.utc_offset_minutes = kOffsets[in.small(5)];
  target_config tgt;
  tgt.batch_records = 1 + in.small(4);
  tgt.batch_bytes = kBatchBytes[in.small(4)];

  std::unique_ptr<transformer> tr;
  try {
    tr = std::make_unique<transformer>(svc, tgt, src);
  } catch (const std::invalid_argument& e) {
    if (std::strlen(e.what()) == 0) __builtin_trap();
  }
  const unsigned nrows = in.small(8);
  if (!tr) return;

  row_page page;
  page.service = svc.id;
  page.columns = std::make_shared<const std::vector<std::string>>(tr->columns());
  const std::size_t ncol = page.columns->size();
  for (unsigned r = 0; r < nrows; ++r) {
    const std::uint8_t flags = in.byte();
    row_page::row_meta m;
    m.key = std::string(in.piece());
    m.stamp = "2024-01-01 00:00:00.000";
    m.recno = r + 1;
    m.deleted = flags & 1;
    if (flags & 2) {
      ledger_entry p;
      p.status = static_cast<record_status>((flags >> 2) & 3);
      p.last_op = (flags >> 4) % 3;
      if (flags & 64) p.remote_id = "r" + std::to_string(r);
      if (flags & 128) p.batch_id = "b";
      p.content_hash = flags;
      m.prior = p;
    }
    page.rows.push_back(std::move(m));
    for (std::size_t c = 0; c < ncol; ++c) {
      row_page::cell cell;
      cell.null = in.small(4) == 0;
      const std::string_view v = in.piece();
      if (!cell.null) {
        cell.off = static_cast<std::uint32_t>(page.arena.size());
        cell.len = static_cast<std::uint32_t>(v.size());
        page.arena += v;
      }
      page.cells.push_back(cell);
    }
  }
  if (!page.rows.empty()) page.end = keyset_pos{page.rows.back().stamp, page.rows.back().recno};
  check_batches(tr->run(page), nrows, tgt);
}

void run_writer(std::string_view s) {
  // Escaping: bounded, valid, and read back as json_string_value(s).
  std::vector<char> buf(json_escape_bound(s.size()));
  char* end = json_escape_to(buf.data(), s);
  if (end < buf.data() || end > buf.data() + buf.size()) __builtin_trap();
  std::string escaped;
  json_escape_append(escaped, s);
  if (escaped != std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())))
    __builtin_trap();
  if (utf8_valid(s) != (json_string_value(s) == s)) __builtin_trap();

  std::string doc;
  json_writer w(doc);
  w.begin_object();
  w.key(s);
  w.string(s);
  w.key("n");
  w.begin_array();
  w.integer(static_cast<std::int64_t>(s.size()) - 3);
  w.uinteger(s.size());
  w.boolean(s.empty());
  w.null();
  w.end_array();
  w.end_object();
  if (!json_valid(doc) || !utf8_ok(doc)) __builtin_trap();

  std::string quoted;
  json_quote_append(quoted, s);
  simdjson::dom::parser parser;
  std::string_view back;
  if (parser.parse(quoted).get_string().get(back) != simdjson::SUCCESS) __builtin_trap();
  if (back != json_string_value(s)) __builtin_trap();

  // Doubles: the shortest form reads back to the same value.
  if (s.size() >= sizeof(double)) {
    double d;
    std::memcpy(&d, s.data(), sizeof d);
    char num[32];
    const std::string_view txt(num, static_cast<std::size_t>(json_double_to(num, d) - num));
    if (!std::isfinite(d)) {
      if (txt != "null") __builtin_trap();
    } else {
      double again = 0;
      if (!json_valid(txt) || parser.parse(std::string(txt)).get_double().get(again) != simdjson::SUCCESS ||
          again != d)
        __builtin_trap();
    }
  }

  // Every conversion gives valid JSON or a reason.
  for (field_type t : kTypes) {
    for (bool trim : {false, true}) {
      std::string out, why;
      if (convert_value(t, trim, -180, s, out, why) == transform_errc::ok) {
        if (!json_valid(out) || !utf8_ok(out)) __builtin_trap();
      } else if (why.empty() || !out.empty()) {
        __builtin_trap();
      }
    }
  }
}

}  // namespace

STAMPEDE_FUZZ_TARGET(transform)(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in(data, size);
  run_transform(in);
  run_writer(in.rest());
  return 0;
}
