// bench_demogen_bench: generation speed of the demo database.
//
// Writes N rows of one service (default: 10,000,000 rows of service 19,
// iptu_credits) and reports wall time, rows/s, process CPU time, and the split
// between the insert phase and the index build + commit. The machine's other
// load shows as wall >> CPU; both are printed. Target: >= 500k rows/s.
#include "tools/demogen/lib/demogen.hpp"

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace dg = stampede::demogen;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_demogen_bench: demo database generation speed"};
  std::uint64_t rows = 10'000'000;
  std::uint32_t service = 19;
  std::string out = (std::filesystem::temp_directory_path() / "stampede_demogen_bench.db").string();
  bool keep = false;
  app.add_option("--rows", rows, "rows to write")->capture_default_str();
  app.add_option("--service", service, "service id (1..22)")->capture_default_str();
  app.add_option("--out", out, "database file (overwritten)")->capture_default_str();
  app.add_flag("--keep", keep, "keep the file afterwards");
  CLI11_PARSE(app, argc, argv);

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  clock::time_point inserted = t0;
  double cpu_inserted = 0;
  dg::generate_options o;
  o.path = out;
  o.only = {service};
  o.rows = rows;
  o.progress = [&](std::uint32_t, std::uint64_t done, std::uint64_t total) {
    if (done < total) {  // the last call before completion ends the insert phase (approx.)
      inserted = clock::now();
      cpu_inserted = cpu_seconds();
    }
  };
  const double cpu0 = cpu_seconds();
  try {
    dg::generate(o);
  } catch (const dg::error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  const auto t1 = clock::now();
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const double ins = std::chrono::duration<double>(inserted - t0).count();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(out, ec);
  std::printf("demogen: %llu rows of service %u in %.2f s wall = %.0f rows/s\n",
              static_cast<unsigned long long>(rows), service, wall,
              static_cast<double>(rows) / wall);
  std::printf("  insert phase %.2f s, index + commit %.2f s\n", ins, wall - ins);
  std::printf("  process CPU %.2f s (%.0f rows per CPU-second; insert phase %.2f s)\n", cpu,
              static_cast<double>(rows) / cpu, cpu_inserted - cpu0);
  std::printf("  file %.1f MiB (%.0f bytes/row)\n", static_cast<double>(bytes) / 1048576.0,
              static_cast<double>(bytes) / static_cast<double>(rows));
  if (!keep)
    for (const char* s : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(out + s, ec);
  return 0;
}
