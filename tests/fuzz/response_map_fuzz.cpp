// libFuzzer target: a target's answer -> per-record outcomes (pipeline/response_map).
//
// Input: byte 0 picks one of 8 response mappings (by key, positional, nested
//   and escaped JSON pointers, keep_success_answers, returned values, both
//   error rules), byte 1 the number of
//   records (0..7), then that many 0x00-terminated record keys, then the body.
// Checks beyond "no crash, no sanitizer report": one outcome per record; a
//   malformed body fails every record as retryable with the same error;
//   `received` never exceeds max_received_bytes and is a prefix of valid
//   UTF-8 boundaries; cap_received() cuts only at character boundaries.
// Build and run: FUZZING.md.
#include "tests/fuzz/fuzz_target.hpp"
#include "pipeline/json_writer.hpp"
#include "target/response_map.hpp"
#include "tests/fuzz/fuzz_input.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace stampede;

response_mapping mapping(unsigned variant) {
  response_mapping m;
  switch (variant) {
    case 0: break;  // defaults: /results, key, id, /error/message, /error/code, /error
    case 1:  // root array, positional, SET-style returned values
      m.results = "";
      m.key_field = "";
      m.returns = {{"codCli", "/codCli"}, {"codFil", "/codFil"}};
      break;
    case 2: m.results = ""; break;                   // root array, by key
    case 3:  // nested pointers, only the first error field decides, returned values
      m.key_field = "/k/0";
      m.id_field = "/x/0";
      m.error_fields = {"/e", "err"};
      m.rule = error_rule::first_decides;
      m.returns = {{"rev", "/rev"}, {"c", "/c/0"}};
      break;
    case 4: m.results = "/data/items"; m.keep_success_answers = true; break;
    case 5: m.id_field = ""; m.error_fields = {}; break;
    case 6: m.key_field = "id"; m.id_field = "id"; m.keep_success_answers = true; break;
    default: m.results = "/r~1s"; m.error_fields = {"/errors/0/message", "/errors"}; break;
  }
  return m;
}

void check_received(const std::string& r) {
  if (r.size() > max_received_bytes) __builtin_trap();
}

}  // namespace

STAMPEDE_FUZZ_TARGET(response_map)(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in(data, size);
  const response_mapping m = mapping(in.small(8));
  send_batch batch;
  const unsigned n = in.small(8);
  for (unsigned i = 0; i < n; ++i) batch.records.emplace_back().key = std::string(in.piece());
  const std::string_view body = in.rest();

  const mapped_response r = map_batch_response(body, m, batch);
  if (r.outcomes.size() != batch.records.size()) __builtin_trap();
  for (const record_outcome& o : r.outcomes) {
    check_received(o.received);
    if (r.err == map_errc::malformed && (o.ok || !o.retryable || o.error != r.error)) __builtin_trap();
    if (!o.ok && o.error.empty()) __builtin_trap();  // a failure always says why
  }

  const record_outcome single = map_single_response(body, m);
  check_received(single.received);
  if (!single.ok && single.error.empty()) __builtin_trap();

  (void)error_text(body, m);
  (void)json_value_at(body, "/status");
  (void)json_value_at(body, m.id_field);

  const std::string capped = cap_received(body);
  if (capped.size() > max_received_bytes || body.substr(0, capped.size()) != capped) __builtin_trap();
  if (utf8_valid(body) && !utf8_valid(capped)) __builtin_trap();  // never cuts a character
  return 0;
}
