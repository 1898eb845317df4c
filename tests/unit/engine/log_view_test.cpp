// The log monitor's plain logic (engine/log_view.hpp) against a real store.
#include "engine/log_view.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <simdjson.h>
#include <unistd.h>

using namespace stampede;
namespace fs = std::filesystem;

namespace {

struct temp_store {
  fs::path path;
  std::unique_ptr<state_store> store;
  temp_store() {
    std::string tmpl = (fs::temp_directory_path() / "stampede-logview-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
    store = state_store::open((path / "state").string());
  }
  ~temp_store() {
    store.reset();
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

ledger_entry at(record_status s, std::int64_t updated, std::string error = "") {
  ledger_entry e;
  e.status = s;
  e.updated_ms = updated;
  e.created_ms = 1;
  e.last_error = std::move(error);
  return e;
}

std::vector<std::string> keys_of(const log_result& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows)
    out.push_back(std::to_string(row.service) + "/" + row.key);
  return out;
}

} // namespace

TEST_CASE("parse_time_arg: absolute UTC forms and relative ages", "[log_view]") {
  const std::int64_t now = 1714557600000;  // 2024-05-01 10:00:00 UTC
  CHECK(parse_time_arg("2024-05-01", now) == 1714521600000);
  CHECK(parse_time_arg("2024-05-01 10:00", now) == now);
  CHECK(parse_time_arg("2024-05-01 10:00:00", now) == now);
  CHECK(parse_time_arg("2024-05-01T10:00:00.250", now) == now + 250);
  CHECK(parse_time_arg("15m", now) == now - 15 * 60000);
  CHECK(parse_time_arg("2h", now) == now - 2 * 3600000);
  CHECK(parse_time_arg("1d", now) == now - 86400000);
  CHECK(!parse_time_arg("", now));
  CHECK(!parse_time_arg("yesterday", now));
  CHECK(!parse_time_arg("2024-13-01", now));
  CHECK(!parse_time_arg("2024-05-01 10", now));
  CHECK(!parse_time_arg("15x", now));
}

TEST_CASE("iso_utc and statuses", "[log_view]") {
  CHECK(iso_utc(1714557600123) == "2024-05-01T10:00:00.123Z");
  CHECK(iso_utc(0).empty());
  CHECK(parse_record_status("Error") == record_status::error);
  CHECK(parse_record_status("cancelled") == record_status::cancelled);
  CHECK(!parse_record_status("failed"));
  CHECK(op_name(2) == "delete");
  CHECK(op_name(9) == "unknown");
}

TEST_CASE("query_log: filters, newest change first, limit with the matched count",
          "[log_view]") {
  temp_store t;
  state_changes a;
  a.ledger = {{"1", at(record_status::success, 100)},
              {"2", at(record_status::error, 400, "bad cnpj")},
              {"3", at(record_status::error, 300, "")},
              {"4", at(record_status::cancelled, 200, "gave up")}};
  state_changes::item it;
  it.key = "3";
  it.no = 0;
  it.value.message = "first";
  a.items.push_back(it);
  it.no = 1;
  it.value.message = "resend requested by ana";
  a.items.push_back(it);
  t.store->apply(19, a, service_state{}, false);
  state_changes b;
  b.ledger = {{"1", at(record_status::error, 350, "not found")}};
  t.store->apply(20, b, service_state{}, false);

  log_filter f;
  auto all = query_log(*t.store, {19, 20}, f);
  CHECK(keys_of(all) == std::vector<std::string>{"19/2", "20/1", "19/3", "19/4", "19/1"});
  CHECK(all.matched == 5);
  CHECK(all.rows[0].last_message == "bad cnpj");
  CHECK(all.rows[2].last_message == "resend requested by ana");  // no error: newest item

  f.status = record_status::error;
  f.limit = 2;
  auto errs = query_log(*t.store, {19, 20}, f);
  CHECK(keys_of(errs) == std::vector<std::string>{"19/2", "20/1"});
  CHECK(errs.matched == 3);

  log_filter window;
  window.since_ms = 200;
  window.until_ms = 350;
  CHECK(keys_of(query_log(*t.store, {19, 20}, window)) ==
        std::vector<std::string>{"20/1", "19/3", "19/4"});

  log_filter one;
  one.key = "1";
  CHECK(keys_of(query_log(*t.store, {19}, one)) == std::vector<std::string>{"19/1"});
  one.key = "nope";
  CHECK(query_log(*t.store, {19, 20}, one).rows.empty());

  log_filter unlimited;
  unlimited.limit = 0;
  CHECK(query_log(*t.store, {19, 20}, unlimited).rows.size() == 5);
}

TEST_CASE("entry JSON is valid and escapes what the target answered", "[log_view]") {
  service_config svc;
  svc.id = 19;
  svc.name = "taxes";
  svc.key_column = "R_E_C_N_O_";
  log_row row;
  row.service = 19;
  row.key = "7\x01";
  row.entry = at(record_status::error, 1714557600123, "bad \"value\"\n\xff");
  row.last_message = row.entry.last_error;
  std::string out;
  json_writer w(out);
  write_entry_json(w, svc, row);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  REQUIRE(p.parse(out).get(doc) == simdjson::SUCCESS);
  CHECK(std::string_view(doc["key_field"]) == "R_E_C_N_O_");
  CHECK(std::string_view(doc["key"]) == "7\x01");
  CHECK(std::string_view(doc["status"]) == "error");
  CHECK(std::string_view(doc["changed"]) == "2024-05-01T10:00:00.123Z");
  CHECK(std::string_view(doc["changed_by"]) == "worker");
  CHECK(std::string_view(doc["message"]) == "bad \"value\"\n\xEF\xBF\xBD");
}
