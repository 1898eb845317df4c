// Open-addressing hash index (hash -> node pointer) used by the target's store.
//
// Operation: linear probing over a power-of-two array of {hash, pointer}
//   slots, grown at 50% load. The full 64-bit hash is kept in the slot so a
//   miss usually costs one cache line and no key comparison. The index does
//   not own the nodes. `prefetch` may be called without the owner's lock: it
//   reads a relaxed-atomic copy of the table address and never faults.
// Concurrency: none; the store guards each index with its shard mutex.
// Limitations: no erase (the store never erases a single entry).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace stampede::target {

template <class Node>
class flat_index {
public:
  flat_index() = default;
  flat_index(const flat_index&) = delete;
  flat_index& operator=(const flat_index&) = delete;

  /// First node with hash `h` for which `eq(node)` holds, or nullptr.
  template <class Eq>
  Node* find(std::uint64_t h, Eq&& eq) const {
    if (slots_.empty()) return nullptr;
    h = fix(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.h == 0) return nullptr;
      if (s.h == h && eq(*s.p)) return s.p;
    }
  }

  /// Adds a node known to be absent.
  Node* insert(std::uint64_t h, Node* p) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place(fix(h), p);
    ++count_;
    return p;
  }

  /// Hints the CPU to load the slot for `h` (safe without the lock).
  void prefetch(std::uint64_t h) const {
    const slot* base = pub_slots_.load(std::memory_order_relaxed);
    if (base) __builtin_prefetch(base + (fix(h) & pub_mask_.load(std::memory_order_relaxed)));
  }

  std::size_t size() const { return count_; }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_) {
      if (s.h) f(*s.p);
    }
  }

  void clear() {
    pub_slots_.store(nullptr, std::memory_order_relaxed);
    std::vector<slot>().swap(slots_);
    count_ = 0;
    mask_ = 0;
  }

private:
  struct slot {
    std::uint64_t h = 0;  // 0 = empty
    Node* p = nullptr;
  };
  static std::uint64_t fix(std::uint64_t h) { return h ? h : 1; }
  void place(std::uint64_t h, Node* p) {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].h == 0) {
        slots_[i] = slot{h, p};
        return;
      }
    }
  }
  void grow() {
    std::vector<slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    pub_mask_.store(mask_, std::memory_order_relaxed);
    pub_slots_.store(slots_.data(), std::memory_order_relaxed);
    for (const auto& s : old) {
      if (s.h) place(s.h, s.p);
    }
  }

  std::vector<slot> slots_;
  std::size_t count_ = 0;
  std::size_t mask_ = 0;
  std::atomic<const slot*> pub_slots_{nullptr};
  std::atomic<std::size_t> pub_mask_{0};
};

}  // namespace stampede::target
