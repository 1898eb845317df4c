// libFuzzer harness for pipeline/response_map (not built by default).
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     -DSTAMPEDE_FUZZ tests/fuzz/response_map_fuzz.cpp pipeline/response_map.cpp \
//     -lsimdjson -o response_map_fuzz && ./response_map_fuzz -max_total_time=60
#ifdef STAMPEDE_FUZZ
#include "pipeline/response_map.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace stampede;
  static const send_batch batch = [] {
    send_batch b;
    for (const char* k : {"a", "b", "1", ""}) {
      out_record r;
      r.key = k;
      b.records.push_back(r);
    }
    return b;
  }();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  response_mapping by_key;
  response_mapping positional;
  positional.key_field = "";
  positional.results = "";
  positional.id_field = "/x/0";
  auto r1 = map_batch_response(body, by_key, batch);
  auto r2 = map_batch_response(body, positional, batch);
  if (r1.outcomes.size() != batch.records.size() || r2.outcomes.size() != batch.records.size())
    __builtin_trap();
  (void)map_single_response(body, by_key);
  (void)error_text(body, by_key);
  (void)json_value_at(body, "/status");
  return 0;
}
#endif
