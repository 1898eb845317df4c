#include "pipeline/shard.hpp"

#include "pipeline/page_filter.hpp"

#include <charconv>
#include <fmt/format.h>

namespace stampede {

std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

bool parse_u32(std::string_view t, std::uint32_t& v) {
  if (t.empty() || t.size() > 9)
    return false;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return ec == std::errc() && p == t.data() + t.size();
}

} // namespace

std::string parse_shard(std::string_view text, shard_spec& out) {
  const auto hint = "expected k/N with k = 0..N-1 (0-based, like a StatefulSet ordinal), "
                    "e.g. --shard 0/4 ... --shard 3/4, or a pod name ending in -k: "
                    "--shard stampede-19-2/4";
  const auto slash = text.rfind('/');
  if (slash == std::string_view::npos)
    return fmt::format("'{}': no '/'; {}", text, hint);
  std::string_view k = text.substr(0, slash);
  const std::string_view n = text.substr(slash + 1);
  std::uint32_t count = 0;
  if (!parse_u32(n, count))
    return fmt::format("'{}': N '{}' is not a number; {}", text, n, hint);
  if (count < 1 || count > max_shards)
    return fmt::format("'{}': N must be 1..{}; {}", text, max_shards, hint);
  if (const auto dash = k.rfind('-'); dash != std::string_view::npos && dash > 0)
    k = k.substr(dash + 1);  // a pod name: its ordinal
  std::uint32_t index = 0;
  if (!parse_u32(k, index))
    return fmt::format("'{}': k '{}' is not a number; {}", text, k, hint);
  if (index >= count)
    return fmt::format("'{}': k must be 0..{} (0-based) for N = {}; {}", text, count - 1, count,
                       hint);
  out = shard_spec{index, count};
  return {};
}

std::string to_string(const shard_spec& s) { return fmt::format("{}/{}", s.index, s.count); }

std::string shard_dir(const std::string& state_dir, const shard_spec& s) {
  if (!s.sharded())
    return state_dir;
  std::string d = state_dir;
  while (d.size() > 1 && d.back() == '/')
    d.pop_back();
  return fmt::format("{}/shard-{}-of-{}", d, s.index, s.count);
}

std::size_t keep_own_rows(row_page& page, const shard_spec& s) {
  if (!s.sharded())
    return 0;
  return keep_rows(page, [&](const row_page::row_meta& m) { return owns(s, m.key); });
}

} // namespace stampede
