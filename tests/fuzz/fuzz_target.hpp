// One macro that makes a harness either a libFuzzer target or an entry of
// fuzz_replay, the unit test that runs every committed input of every target.
//
// Operation: `STAMPEDE_FUZZ_TARGET(name)(const std::uint8_t* data, std::size_t size)`
//   defines LLVMFuzzerTestOneInput when the file is built as a fuzz target
//   (STAMPEDE_FUZZ, clang: tests/fuzz/<name>_fuzz), or registers `name` with
//   fuzz_replay (tests/fuzz/replay_main.cpp) in every other build, so ASan
//   builds with gcc replay tests/fuzz/corpus/<name>/ as a unit test.
// Concurrency: registration runs during static initialisation, one thread.
// Limitations: a harness file defines exactly one target.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef STAMPEDE_FUZZ_REPLAY
namespace stampede::fuzz {
using target_fn = int (*)(const std::uint8_t*, std::size_t);
bool register_target(const char* name, target_fn fn);
}  // namespace stampede::fuzz
#define STAMPEDE_FUZZ_TARGET(name)                                                   \
  static int name##_fuzz_one(const std::uint8_t*, std::size_t);                      \
  [[maybe_unused]] static const bool name##_fuzz_registered =                        \
      ::stampede::fuzz::register_target(#name, name##_fuzz_one);                     \
  static int name##_fuzz_one
#else
#define STAMPEDE_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput
#endif
