// Bump-pointer byte arena for stampede-target's record store.
//
// Operation: hands out memory from 1 MiB chunks (larger requests get a chunk
//   of their own); nothing is freed until clear()/destruction. This keeps the
//   allocator out of the hot path (one malloc per ~3000 records instead of
//   three per record) and avoids glibc arena growth in 4 KiB mprotect steps.
// Concurrency: none; each store shard guards its arena with its mutex.
// Limitations: only trivially destructible objects may live here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

namespace stampede::target {

class arena {
public:
  static constexpr std::size_t chunk_bytes = 1u << 20;

  void* alloc(std::size_t n, std::size_t align = 8) {
    std::size_t pad = (align - (reinterpret_cast<std::uintptr_t>(cur_) & (align - 1))) & (align - 1);
    if (!cur_ || pad + n > left_) {
      const std::size_t size = n + align > chunk_bytes / 4 ? n + align : chunk_bytes;
      void* mem = std::malloc(size);  // not zeroed: pages are touched only when used
      if (!mem) throw std::bad_alloc();
      chunks_.emplace_back(static_cast<char*>(mem));
      cur_ = chunks_.back().get();
      left_ = size;
      bytes_ += size;
      pad = (align - (reinterpret_cast<std::uintptr_t>(cur_) & (align - 1))) & (align - 1);
    }
    char* p = cur_ + pad;
    cur_ += pad + n;
    left_ -= pad + n;
    return p;
  }
  char* copy(std::string_view s) {
    char* p = static_cast<char*>(alloc(s.size() ? s.size() : 1, 1));
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return p;
  }
  void clear() {
    chunks_.clear();
    cur_ = nullptr;
    left_ = 0;
    bytes_ = 0;
  }
  std::size_t bytes() const { return bytes_; }

private:
  struct freer {
    void operator()(char* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<char, freer>> chunks_;
  char* cur_ = nullptr;
  std::size_t left_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace stampede::target
