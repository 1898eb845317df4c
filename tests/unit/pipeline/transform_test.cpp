#include "pipeline/transform.hpp"
#include "pipeline/hash.hpp"
#include "transform_support.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <stdexcept>

using namespace stampede;
using namespace stampede::test;

namespace {

service_config svc_with(std::vector<field_mapping> fields, std::uint32_t id = 7) {
  service_config s;
  s.id = id;
  s.name = "people";
  s.fields = std::move(fields);
  return s;
}

target_config tgt_with(std::uint32_t records = 1000, std::uint64_t bytes = 4u << 20) {
  target_config t;
  t.name = "portal";
  t.batch_records = records;
  t.batch_bytes = bytes;
  return t;
}

source_config src_at(int offset = -180) {
  source_config s;
  s.utc_offset_minutes = offset;
  return s;
}

std::string conv(field_type t, std::string_view in, bool trim = true, int off = -180) {
  std::string out, why;
  if (convert_value(t, trim, off, in, out, why) != transform_errc::ok) return "ERR:" + why;
  return out;
}

bool is_err(const std::string& s) { return s.rfind("ERR:", 0) == 0; }

std::string ctor_error(const service_config& s, const target_config& t = tgt_with()) {
  try {
    transformer tr(s, t, src_at());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

ledger_entry prior(std::uint64_t hash, record_status st, std::string remote_id, std::uint8_t last_op,
                   std::uint32_t attempts = 0) {
  ledger_entry e;
  e.content_hash = hash;
  e.status = st;
  e.remote_id = std::move(remote_id);
  e.last_op = last_op;
  e.attempts = attempts;
  return e;
}

} // namespace

TEST_CASE("convert_value: string", "[transform]") {
  CHECK(conv(field_type::string, "JOSE   ") == "\"JOSE\"");
  CHECK(conv(field_type::string, "  JOSE   ") == "\"  JOSE\"");  // only trailing padding
  CHECK(conv(field_type::string, "JOSE   ", false) == "\"JOSE   \"");
  CHECK(conv(field_type::string, "    ") == "\"\"");
  CHECK(conv(field_type::string, "a\"b\\") == "\"a\\\"b\\\\\"");
}

TEST_CASE("convert_value: integer", "[transform]") {
  CHECK(conv(field_type::integer, "42") == "42");
  CHECK(conv(field_type::integer, "  -0042  ") == "-42");
  CHECK(conv(field_type::integer, "+7") == "7");
  CHECK(conv(field_type::integer, "000") == "0");
  CHECK(conv(field_type::integer, "-0") == "0");
  CHECK(conv(field_type::integer, "9223372036854775807") == "9223372036854775807");
  CHECK(conv(field_type::integer, "-9223372036854775808") == "-9223372036854775808");
  CHECK(conv(field_type::integer, "   ") == "null");
  CHECK(is_err(conv(field_type::integer, "9223372036854775808")));
  CHECK(is_err(conv(field_type::integer, "12.5")));
  CHECK(is_err(conv(field_type::integer, "1 2")));
  CHECK(is_err(conv(field_type::integer, "-")));
  CHECK(is_err(conv(field_type::integer, "abc")));
}

TEST_CASE("convert_value: decimal keeps the exact digits", "[transform]") {
  CHECK(conv(field_type::decimal, "0001234.50") == "1234.50");
  CHECK(conv(field_type::decimal, "-0.10") == "-0.10");
  CHECK(conv(field_type::decimal, "  12  ") == "12");
  CHECK(conv(field_type::decimal, "0.000") == "0.000");
  CHECK(conv(field_type::decimal, "-000.5") == "-0.5");
  CHECK(conv(field_type::decimal, "123456789012345678901234567890.123456789") ==
        "123456789012345678901234567890.123456789");
  CHECK(conv(field_type::decimal, "") == "null");
  CHECK(is_err(conv(field_type::decimal, "1.")));
  CHECK(is_err(conv(field_type::decimal, ".5")));
  CHECK(is_err(conv(field_type::decimal, "1,50")));
  CHECK(is_err(conv(field_type::decimal, "1e5")));
  CHECK(is_err(conv(field_type::decimal, "+1.0")));
  CHECK(is_err(conv(field_type::decimal, "--1")));
}

TEST_CASE("convert_value: date", "[transform]") {
  CHECK(conv(field_type::date, "20240229") == "\"2024-02-29\"");
  CHECK(conv(field_type::date, "2024-12-31") == "\"2024-12-31\"");
  CHECK(conv(field_type::date, "        ") == "null");
  CHECK(conv(field_type::date, "20000229") == "\"2000-02-29\"");
  CHECK(is_err(conv(field_type::date, "20230229")));  // not a leap year
  CHECK(is_err(conv(field_type::date, "19000229")));  // century, not leap
  CHECK(is_err(conv(field_type::date, "20231301")));
  CHECK(is_err(conv(field_type::date, "20230100")));
  CHECK(is_err(conv(field_type::date, "20230431")));
  CHECK(is_err(conv(field_type::date, "00000000")));
  CHECK(is_err(conv(field_type::date, "2023/01/01")));
  CHECK(is_err(conv(field_type::date, "2023011")));
}

TEST_CASE("convert_value: datetime in the source time zone", "[transform]") {
  CHECK(conv(field_type::datetime, "2024-03-01 13:45:00") == "\"2024-03-01T13:45:00-03:00\"");
  CHECK(conv(field_type::datetime, "2024-03-01 13:45:00.123") == "\"2024-03-01T13:45:00.123-03:00\"");
  CHECK(conv(field_type::datetime, "2024-03-01T23:59:59") == "\"2024-03-01T23:59:59-03:00\"");
  CHECK(conv(field_type::datetime, "2024-03-01 00:00:00", true, 0) == "\"2024-03-01T00:00:00Z\"");
  CHECK(conv(field_type::datetime, "2024-03-01 00:00:00", true, 330) == "\"2024-03-01T00:00:00+05:30\"");
  CHECK(conv(field_type::datetime, "  ") == "null");
  CHECK(is_err(conv(field_type::datetime, "2024-03-01 24:00:00")));
  CHECK(is_err(conv(field_type::datetime, "2024-03-01 12:60:00")));
  CHECK(is_err(conv(field_type::datetime, "2024-02-30 12:00:00")));
  CHECK(is_err(conv(field_type::datetime, "2024-03-01")));
  CHECK(is_err(conv(field_type::datetime, "2024-03-01 12:00:00.")));
  CHECK(is_err(conv(field_type::datetime, "2024-03-01X12:00:00")));
}

TEST_CASE("convert_value: boolean", "[transform]") {
  for (const char* t : {"1", "T", "t", "S", "s", "Y", "y", "true", "TRUE", " True "})
    CHECK(conv(field_type::boolean, t) == "true");
  for (const char* f : {"0", "F", "f", "N", "n", "false", "FALSE"})
    CHECK(conv(field_type::boolean, f) == "false");
  CHECK(conv(field_type::boolean, " ") == "null");
  CHECK(is_err(conv(field_type::boolean, "2")));
  CHECK(is_err(conv(field_type::boolean, "yes")));
}

TEST_CASE("transformer: mapping validation names service, field and problem", "[transform]") {
  CHECK_THAT(ctor_error(svc_with({})), Catch::Contains("service 7 'people'") && Catch::Contains("no fields"));
  auto both = fcol("a", "A1");
  both.value = "x";
  CHECK_THAT(ctor_error(svc_with({both})), Catch::Contains("field 'a'") && Catch::Contains("both"));
  field_mapping none;
  none.name = "a";
  CHECK_THAT(ctor_error(svc_with({none})), Catch::Contains("field 'a'") && Catch::Contains("column"));
  CHECK_THAT(ctor_error(svc_with({fcol("a", "A1"), fcol("a", "A2")})), Catch::Contains("duplicate"));
  CHECK_THAT(ctor_error(svc_with({fcol("a", "A1"), fcol("a.b", "A2")})),
             Catch::Contains("field 'a.b'") && Catch::Contains("plain field"));
  CHECK_THAT(ctor_error(svc_with({fcol("a.b", "A1"), fcol("a", "A2")})),
             Catch::Contains("field 'a'") && Catch::Contains("already an object"));
  CHECK_THAT(ctor_error(svc_with({fcol("a..b", "A1")})), Catch::Contains("empty path segment"));
  CHECK_THAT(ctor_error(svc_with({fcol(".a", "A1")})), Catch::Contains("empty path segment"));
  CHECK_THAT(ctor_error(svc_with({fcol("", "A1")})), Catch::Contains("empty name"));
  CHECK_THAT(ctor_error(svc_with({fval("d", "2023-13-01", field_type::date)})),
             Catch::Contains("field 'd'") && Catch::Contains("month"));
  auto blank = fval("d", "", field_type::date);
  blank.nullable = false;
  CHECK_THAT(ctor_error(svc_with({blank})), Catch::Contains("nullable"));
  CHECK_THAT(ctor_error(svc_with({fcol("a", "A1")}), tgt_with(0)), Catch::Contains("batch_records"));
  CHECK_THAT(ctor_error(svc_with({fcol("a", "A1")}), tgt_with(10, 0)), Catch::Contains("batch_bytes"));
  CHECK(ctor_error(svc_with({fcol("a", "A1"), fcol("b.c", "A1"), fval("k", "1", field_type::integer)})) == "");
}

TEST_CASE("transformer: columns are distinct, in first-use order, constants excluded", "[transform]") {
  // the output groups a.b/a.c together, but columns follow the configured field order
  transformer tr(svc_with({fcol("a.b", "C1"), fval("k", "x"), fcol("z", "C3"), fcol("copy", "C3"),
                           fcol("a.c", "C2")}),
                 tgt_with(), src_at());
  CHECK(tr.columns() == std::vector<std::string>{"C1", "C3", "C2"});
  auto out = tr.run(make_page(7, tr.columns(), {{"1", {"b", "z", "c"}}}));
  REQUIRE(out[0]->records.size() == 1);
  CHECK(out[0]->data(out[0]->records[0]) == R"({"a":{"b":"b","c":"c"},"k":"x","z":"z","copy":"z"})");
}

TEST_CASE("transformer: one column read by several fields, every byte escaped, fits the render buffer",
          "[transform]") {
  // Regression (found by the transform fuzzer): the render bound counted each
  // column's 6x escape room once, though every field reading it writes it again;
  // under ASan this overflowed the heap buffer before the fix.
  transformer tr(svc_with({fcol("a", "C"), fcol("b", "C"), fcol("c", "C"), fcol("d", "C")}), tgt_with(),
                 src_at());
  const std::string ctl(3000, '\x06');  // each byte becomes \u0006 (6 bytes)
  auto out = tr.run(make_page(7, tr.columns(), {{"1", {ctl}}}));
  REQUIRE(out[0]->records.size() == 1);
  std::string esc;
  for (int i = 0; i < 3000; ++i) esc += "\\u0006";
  CHECK(out[0]->data(out[0]->records[0]) ==
        "{\"a\":\"" + esc + "\",\"b\":\"" + esc + "\",\"c\":\"" + esc + "\",\"d\":\"" + esc + "\"}");
}

TEST_CASE("transformer: page must match service and columns", "[transform]") {
  transformer tr(svc_with({fcol("a", "A1")}), tgt_with(), src_at());
  CHECK_THROWS_AS(tr.run(make_page(8, {"A1"}, {})), std::invalid_argument);
  CHECK_THROWS_AS(tr.run(make_page(7, {"A2"}, {})), std::invalid_argument);
  CHECK_NOTHROW(tr.run(make_page(7, {"A1"}, {})));
}

TEST_CASE("transformer: NULL cells, nullable=false and record errors", "[transform]") {
  auto req = fcol("req", "B");
  req.nullable = false;
  auto reqd = fcol("reqd", "C", field_type::date);
  reqd.nullable = false;
  transformer tr(svc_with({fcol("opt", "A"), req, reqd}), tgt_with(), src_at());
  auto page = make_page(7, tr.columns(),
                        {{"1", {std::nullopt, "x", "20240101"}},
                         {"2", {"a", std::nullopt, "20240101"}},
                         {"3", {"a", "x", "        "}},
                         {"4", {"a", "x", "20241301"}}});
  auto out = tr.run(page);
  REQUIRE(out.size() == 1);
  const auto& b = *out[0];
  REQUIRE(b.records.size() == 1);
  CHECK(b.data(b.records[0]) == R"({"opt":null,"req":"x","reqd":"2024-01-01"})");
  REQUIRE(b.record_errors.size() == 3);
  CHECK(b.record_errors[0].key == "2");
  CHECK_THAT(b.record_errors[0].message, Catch::Contains("'req'") && Catch::Contains("column B") &&
                                            Catch::Contains("NULL"));
  CHECK(b.record_errors[1].key == "3");
  CHECK_THAT(b.record_errors[1].message, Catch::Contains("'reqd'") && Catch::Contains("blank"));
  CHECK(b.record_errors[2].key == "4");
  CHECK_THAT(b.record_errors[2].message, Catch::Contains("'reqd'") && Catch::Contains("column C") &&
                                            Catch::Contains("'20241301'") && Catch::Contains("month"));
}

TEST_CASE("transformer: content hash, idempotency key and record fields", "[transform]") {
  transformer tr(svc_with({fcol("a", "A")}), tgt_with(), src_at());
  auto page = make_page(7, tr.columns(), {{"K1", {"x"}}}, 3);
  auto out = tr.run(page);
  REQUIRE(out.size() == 1);
  const auto& r = out[0]->records.at(0);
  const std::string data = R"({"a":"x"})";
  CHECK(out[0]->data(r) == data);
  CHECK(r.content_hash == content_hash(data, false));
  CHECK(r.content_hash != content_hash(data, true));
  // documented layout: XXH64(data bytes + 0x00 / 0x01)
  CHECK(r.content_hash == xxh64(data + std::string(1, '\0')));
  CHECK(content_hash(data, true) == xxh64(data + "\x01"));
  CHECK(r.idempotency_key == idempotency_key(7, "K1", r.content_hash, record_op::create));
  // documented layout: u32 service LE | u32 key length LE | key | u64 hash LE | u8 op
  std::string bytes("\x07\x00\x00\x00\x02\x00\x00\x00K1", 10);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((r.content_hash >> (8 * i)) & 0xFF));
  bytes.push_back('\x00');
  CHECK(r.idempotency_key == hex64(xxh64(bytes)));
  CHECK(idempotency_key(7, "K1", r.content_hash, record_op::update) != r.idempotency_key);
  CHECK(idempotency_key(8, "K1", r.content_hash, record_op::create) != r.idempotency_key);
  // pinned: the key is persisted/sent, so the algorithm must never drift
  CHECK(idempotency_key(1, "000001", 0x0123456789abcdefULL, record_op::create) ==
        hex64(xxh64(std::string("\x01\x00\x00\x00\x06\x00\x00\x00" "000001"
                                "\xef\xcd\xab\x89\x67\x45\x23\x01\x00", 23))));
  CHECK(r.key == "K1");
  CHECK(r.stamp == page.rows[0].stamp);
  CHECK(r.recno == page.rows[0].recno);
  CHECK(r.op == record_op::create);
  CHECK(r.remote_id.empty());
  CHECK(r.attempts == 0);
}

TEST_CASE("transformer: operation decision table", "[transform]") {
  transformer tr(svc_with({fcol("a", "A")}), tgt_with(), src_at());
  const std::uint64_t h = content_hash(R"({"a":"x"})", false);
  const std::uint64_t hd = content_hash(R"({"a":"x"})", true);
  const std::uint64_t other = h ^ 1;
  using st = record_status;
  struct tc {
    const char* name;
    bool deleted;
    std::optional<ledger_entry> prior;
    std::optional<record_op> op;  // nullopt = skipped
    int skipped_unchanged, skipped_deleted;
    std::string remote_id;
    std::uint32_t attempts;
  };
  const tc cases[] = {
      {"new row", false, std::nullopt, record_op::create, 0, 0, "", 0},
      {"unchanged, success", false, prior(h, st::success, "R1", 0), std::nullopt, 1, 0, "", 0},
      {"unchanged, cancelled", false, prior(h, st::cancelled, "", 0, 5), std::nullopt, 1, 0, "", 0},
      {"unchanged hash, error: the resend queue owns it", false, prior(h, st::error, "", 0, 2),
       std::nullopt, 1, 0, "", 0},
      {"unchanged hash, error, has remote id: the queue too", false, prior(h, st::error, "R1", 1, 3),
       std::nullopt, 1, 0, "", 0},
      {"changed, success with id", false, prior(other, st::success, "R1", 0, 1), record_op::update, 0, 0,
       "R1", 0},
      {"changed, success without id (async target)", false, prior(other, st::success, "", 0),
       record_op::update, 0, 0, "", 0},
      {"changed, error never created", false, prior(other, st::error, "", 0, 4), record_op::create, 0, 0,
       "", 0},
      {"changed, pending never created", false, prior(other, st::pending, "", 0), record_op::create, 0, 0,
       "", 0},
      {"changed, cancelled with id", false, prior(other, st::cancelled, "R1", 1), record_op::update, 0, 0,
       "R1", 0},
      {"undeleted after delete", false, prior(hd, st::success, "R1", 2), record_op::create, 0, 0, "", 0},
      {"deleted, never seen", true, std::nullopt, std::nullopt, 0, 1, "", 0},
      {"deleted, delivered", true, prior(h, st::success, "R1", 0), record_op::del, 0, 0, "R1", 0},
      {"deleted, delivered without id", true, prior(h, st::success, "", 1), record_op::del, 0, 0, "", 0},
      {"deleted, failed but has id", true, prior(h, st::error, "R1", 1), record_op::del, 0, 0, "R1", 0},
      {"deleted, create failed (never delivered)", true, prior(h, st::error, "", 0), std::nullopt, 0, 1,
       "", 0},
      {"deleted, already deleted", true, prior(hd, st::success, "R1", 2), std::nullopt, 0, 1, "", 0},
      {"deleted, same hash as prior: attempts carried", true, prior(hd, st::error, "R1", 1, 2), record_op::del, 0, 0, "R1",
       2},
  };
  for (const tc& c : cases) {
    INFO(c.name);
    auto page = make_page(7, tr.columns(), {{"K", {"x"}, c.deleted, c.prior}});
    auto out = tr.run(page);
    REQUIRE(out.size() == 1);
    const send_batch& b = *out[0];
    CHECK(b.skipped_unchanged == std::uint32_t(c.skipped_unchanged));
    CHECK(b.skipped_deleted == std::uint32_t(c.skipped_deleted));
    CHECK(b.record_errors.empty());
    if (!c.op) {
      CHECK(b.records.empty());
      continue;
    }
    REQUIRE(b.records.size() == 1);
    const out_record& r = b.records[0];
    CHECK(r.op == *c.op);
    CHECK(r.remote_id == c.remote_id);
    CHECK(r.attempts == c.attempts);
    CHECK(r.content_hash == (c.deleted ? hd : h));
    CHECK(b.data(r) == R"({"a":"x"})");  // deletes carry the row's data too
    CHECK(r.idempotency_key == idempotency_key(7, "K", r.content_hash, r.op));
  }
}

TEST_CASE("transformer: empty page yields one empty batch", "[transform]") {
  transformer tr(svc_with({fcol("a", "A")}), tgt_with(), src_at());
  auto page = make_page(7, tr.columns(), {}, 9);
  page.end = keyset_pos{"2024-01-01 00:00:00.000", 5};
  page.last = true;
  auto out = tr.run(page);
  REQUIRE(out.size() == 1);
  CHECK(out[0]->records.empty());
  CHECK(out[0]->service == 7);
  CHECK(out[0]->page_seq == 9);
  CHECK(out[0]->part == 0);
  CHECK(out[0]->parts == 1);
  CHECK(out[0]->page_end == page.end);

  // all rows skipped: still exactly one batch carrying the counts
  ledger_entry done = prior(content_hash(R"({"a":"x"})", false), record_status::success, "R", 0);
  auto page2 = make_page(7, tr.columns(), {{"1", {"x"}, false, done}, {"2", {"y"}, true}});
  auto out2 = tr.run(page2);
  REQUIRE(out2.size() == 1);
  CHECK(out2[0]->records.empty());
  CHECK(out2[0]->skipped_unchanged == 1);
  CHECK(out2[0]->skipped_deleted == 1);
}

TEST_CASE("transformer: batches close by record count, parts numbered", "[transform]") {
  transformer tr(svc_with({fcol("a", "A", field_type::integer)}), tgt_with(3), src_at());
  std::vector<row_spec> rows;
  for (int i = 0; i < 8; ++i) rows.push_back({std::to_string(i), {std::to_string(i)}});
  auto page = make_page(7, tr.columns(), rows, 4);
  auto out = tr.run(page);
  REQUIRE(out.size() == 3);
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < out.size(); ++i) {
    CHECK(out[i]->part == i);
    CHECK(out[i]->parts == 3);
    CHECK(out[i]->page_seq == 4);
    CHECK(out[i]->page_end == page.end);
    for (const auto& r : out[i]->records) {
      CHECK(r.key == std::to_string(n));
      CHECK(out[i]->data(r) == "{\"a\":" + std::to_string(n) + "}");
      ++n;
    }
  }
  CHECK(out[0]->records.size() == 3);
  CHECK(out[1]->records.size() == 3);
  CHECK(out[2]->records.size() == 2);
  CHECK(n == 8);
}

TEST_CASE("transformer: batches close by data bytes", "[transform]") {
  // each record is {"a":"xxxxxxxxxx"} = 18 bytes
  transformer tr(svc_with({fcol("a", "A")}), tgt_with(1000, 40), src_at());
  std::vector<row_spec> rows;
  for (int i = 0; i < 5; ++i) rows.push_back({std::to_string(i), {std::string(10, 'x')}});
  rows.push_back({"big", {std::string(100, 'y')}});  // alone: bigger than batch_bytes
  rows.push_back({"6", {std::string(10, 'x')}});
  auto out = tr.run(make_page(7, tr.columns(), rows));
  REQUIRE(out.size() == 5);
  CHECK(out[0]->records.size() == 2);
  CHECK(out[0]->bytes() == 36);
  CHECK(out[1]->records.size() == 2);
  CHECK(out[2]->records.size() == 1);
  CHECK(out[3]->records.size() == 1);
  CHECK(out[3]->records[0].key == "big");
  CHECK(out[4]->records.size() == 1);
  for (const auto& b : out) {
    CHECK(b->parts == 5);
    for (const auto& r : b->records) CHECK(b->data(r).front() == '{');
  }
}

TEST_CASE("transformer: all-constant mapping and every output parses as JSON", "[transform]") {
  transformer tr(svc_with({fval("kind", "PF"), fval("n", "0012", field_type::integer),
                           fval("v", "1.50", field_type::decimal), fval("on", "S", field_type::boolean),
                           fval("when", "20240102", field_type::date)}),
                 tgt_with(), src_at());
  CHECK(tr.columns().empty());
  auto out = tr.run(make_page(7, tr.columns(), {{"1", {}}, {"2", {}}}));
  REQUIRE(out.size() == 1);
  REQUIRE(out[0]->records.size() == 2);
  const std::string expect = R"({"kind":"PF","n":12,"v":1.50,"on":true,"when":"2024-01-02"})";
  CHECK(out[0]->data(out[0]->records[1]) == expect);
  simdjson::dom::parser p;
  simdjson::padded_string ps(expect);
  CHECK(p.parse(ps).error() == simdjson::SUCCESS);
}

TEST_CASE("transformer: resend, replay and resumed pages", "[transform][resend]") {
  transformer tr(svc_with({fcol("a", "A")}), tgt_with(), src_at());
  const std::uint64_t h = content_hash(R"({"a":"x"})", false);
  using st = record_status;

  SECTION("a resend page sends an unchanged record in Error, attempts and remote id carried") {
    auto page = make_page(7, tr.columns(), {{"K", {"x"}, false, prior(h, st::error, "R1", 1, 3)}});
    page.detached = true;
    auto out = tr.run(page);
    REQUIRE(out[0]->records.size() == 1);
    REQUIRE(out[0]->records[0].op == record_op::update);
    REQUIRE(out[0]->records[0].remote_id == "R1");
    REQUIRE(out[0]->records[0].attempts == 3);
  }
  SECTION("a record awaiting an async result is not sent again; a changed one is") {
    auto waiting = prior(h, st::pending, "", 0);
    waiting.batch_id = "b-1";
    auto out = tr.run(make_page(7, tr.columns(), {{"K", {"x"}, false, waiting}}));
    REQUIRE(out[0]->records.empty());
    REQUIRE(out[0]->skipped_unchanged == 1);
    out = tr.run(make_page(7, tr.columns(), {{"K", {"y"}, false, waiting}}));
    REQUIRE(out[0]->records.size() == 1);
  }
  SECTION("a replay sends unchanged records with the replay's key generation") {
    auto page = make_page(7, tr.columns(), {{"K", {"x"}, false, prior(h, st::success, "R1", 0)}});
    page.force = true;
    page.generation = 3;
    page.detached = true;
    auto out = tr.run(page);
    REQUIRE(out[0]->records.size() == 1);
    const auto& r = out[0]->records[0];
    REQUIRE(r.op == record_op::update);
    REQUIRE(r.generation == 3);
    REQUIRE(r.idempotency_key == idempotency_key(7, "K", h, record_op::update, 3));
    REQUIRE(r.idempotency_key != idempotency_key(7, "K", h, record_op::update));
    REQUIRE(out[0]->detached);
  }
  SECTION("a manual resend's generation from the ledger changes the key; history is carried") {
    auto p = prior(h, st::pending, "R1", 0);
    p.generation = 2;
    p.items = 4;
    p.created_ms = 123;
    auto out = tr.run(make_page(7, tr.columns(), {{"K", {"x"}, false, p}}));
    const auto& r = out[0]->records.at(0);
    REQUIRE(r.generation == 2);
    REQUIRE(r.items == 4);
    REQUIRE(r.created_ms == 123);
    REQUIRE(r.idempotency_key == idempotency_key(7, "K", h, record_op::update, 2));
  }
  SECTION("keys whose row is gone become record errors; a resumed batch passes through") {
    auto page = make_page(7, tr.columns(), {});
    page.gone.emplace_back("G", prior(h, st::error, "", 0, 2));
    auto out = tr.run(page);
    REQUIRE(out.size() == 1);
    REQUIRE(out[0]->record_errors.size() == 1);
    REQUIRE(out[0]->record_errors[0].message.find("no longer in the source") != std::string::npos);

    row_page resumed;
    resumed.service = 7;
    resumed.seq = 4;
    resumed.resume = std::make_shared<send_batch>();
    resumed.resume->resume_batch_id = "b-9";
    resumed.resume->records.resize(2);
    out = tr.run(resumed);
    REQUIRE(out.size() == 1);
    REQUIRE(out[0] == resumed.resume);
    REQUIRE(out[0]->page_seq == 4);
    REQUIRE(out[0]->page_end.stamp.empty());
    REQUIRE(out[0]->detached);
  }
}
