// fuzz_replay: runs committed inputs through a fuzz target without libFuzzer
// (any compiler; the ASan unit tests run every corpus with it).
//
//   fuzz_replay TARGET PATH...   every file of each directory PATH (or PATH)
//
// Operation: each input is read whole and passed to the target once; a
//   failed check traps and a sanitizer report aborts, failing the test.
//   Prints how many inputs ran; exit 2 for an unknown target or unreadable
//   path, and when a PATH holds no input at all (a corpus that went missing
//   must not pass).
// Concurrency: single-threaded.
// Limitations: no mutation; that is libFuzzer's job (FUZZING.md).
#include "tests/fuzz/fuzz_target.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace stampede::fuzz {
namespace {
std::map<std::string, target_fn>& targets() {
  static std::map<std::string, target_fn> t;
  return t;
}
}  // namespace

bool register_target(const char* name, target_fn fn) {
  targets()[name] = fn;
  return true;
}
}  // namespace stampede::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using stampede::fuzz::targets;
  if (argc < 3 || !targets().count(argv[1])) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET PATH...\ntargets:");
    for (const auto& [name, fn] : targets()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  const auto fn = targets().at(argv[1]);
  std::size_t ran = 0;
  for (int a = 2; a < argc; ++a) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(argv[a], ec)) {
      for (const auto& e : fs::directory_iterator(argv[a], ec))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(argv[a], ec)) {
      files.emplace_back(argv[a]);
    }
    if (files.empty()) {
      std::fprintf(stderr, "fuzz_replay: no input in %s\n", argv[a]);
      return 2;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "fuzz_replay %s: %s (%zu bytes)\n", argv[1], f.filename().c_str(),
                   bytes.size());
      fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++ran;
    }
  }
  std::printf("fuzz_replay %s: %zu inputs, no failure\n", argv[1], ran);
  return 0;
}
