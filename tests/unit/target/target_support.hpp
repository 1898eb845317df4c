// Helpers of the target unit tests: records in a batch arena, a header of a
// request, a batch of bare keys.
#pragma once

#include "target/http_client.hpp"
#include "pipeline/record.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stampede::test {

/// A record whose data is appended to `b`'s arena (not added to b.records).
inline out_record make_record(send_batch& b, std::string key, record_op op, std::string data,
                              std::string idem, std::string remote = {},
                              std::vector<std::pair<std::string, std::string>> returned = {}) {
  out_record r;
  r.key = std::move(key);
  r.op = op;
  r.idempotency_key = std::move(idem);
  r.remote_id = std::move(remote);
  r.returned = std::move(returned);
  r.data_off = static_cast<std::uint32_t>(b.arena.size());
  r.data_len = static_cast<std::uint32_t>(data.size());
  b.arena += data;
  return r;
}

/// The value of header `name` of `rq`, or "<absent>".
inline std::string header(const http_request& rq, std::string_view name) {
  for (const auto& [k, v] : rq.headers)
    if (k == name) return v;
  return "<absent>";
}

/// A batch of records with these keys and nothing else.
inline send_batch batch_of(std::initializer_list<const char*> keys) {
  send_batch b;
  for (const char* k : keys) {
    out_record r;
    r.key = k;
    b.records.push_back(r);
  }
  return b;
}

}  // namespace stampede::test
