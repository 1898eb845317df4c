// stampede-demo-db: create and change the demo ERP database (see docs/demo-database.md).
#include "tools/demogen/lib/demogen.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

namespace dg = stampede::demogen;

namespace {

// "500ms", "30s", "2m", "1h" -> milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 9) return std::nullopt;  // no overflow below
  const long long v = std::stoll(s.substr(0, i));
  const std::string unit = s.substr(i);
  if (unit == "ms") return std::chrono::milliseconds(v);
  if (unit == "s") return std::chrono::milliseconds(v * 1000);
  if (unit == "m") return std::chrono::milliseconds(v * 60'000);
  if (unit == "h") return std::chrono::milliseconds(v * 3'600'000);
  return std::nullopt;
}

std::string human_rate(double rows, double secs) {
  const double r = secs > 0 ? rows / secs : 0;
  char buf[32];
  if (r >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM rows/s", r / 1e6);
  else if (r >= 1e3)
    std::snprintf(buf, sizeof buf, "%.0fk rows/s", r / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f rows/s", r);
  return buf;
}

int run_generate(const std::string& out, double scale, std::uint64_t seed,
                 const std::vector<std::uint32_t>& only, std::optional<std::uint64_t> rows,
                 bool quiet) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  using clock = std::chrono::steady_clock;
  clock::time_point started;
  dg::generate_options o;
  o.path = out;
  o.scale = scale;
  o.seed = seed;
  o.only = only;
  o.rows = rows;
  if (!quiet) {
    o.progress = [&](std::uint32_t id, std::uint64_t done, std::uint64_t total) {
      const auto now = clock::now();
      if (done == 0) started = now;
      const double secs = std::chrono::duration<double>(now - started).count();
      const auto* s = dg::find_service(id);
      if (done < total && !tty) return;
      std::fprintf(stderr, "%s  %2u %-26s %11llu / %-11llu %8.2f s  %s%s", tty ? "\r" : "", id,
                   s->name.c_str(), static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total), secs,
                   human_rate(static_cast<double>(done), secs).c_str(),
                   done == total ? "\n" : "   ");
      std::fflush(stderr);
    };
  }
  const auto res = dg::generate(o);
  std::uint64_t total = 0;
  for (const auto& [id, n] : res.rows) total += n;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(out, ec);
  std::printf("wrote %llu rows in %zu tables to %s (%.1f MiB) in %.2f s (%s)\n",
              static_cast<unsigned long long>(total), res.rows.size(), out.c_str(),
              ec ? 0.0 : static_cast<double>(bytes) / (1024.0 * 1024.0), res.seconds,
              human_rate(static_cast<double>(total), res.seconds).c_str());
  std::printf("next: STAMPEDE_DEMO_DB=%s stampede run --config examples/demo.toml\n", out.c_str());
  return 0;
}

int run_mutate(const std::string& db, std::uint64_t count, double late_share,
               const std::string& late_by, std::uint64_t seed,
               const std::vector<std::uint32_t>& only, const std::string& report) {
  const auto lb = parse_duration(late_by);
  if (!lb) {
    std::fprintf(stderr,
                 "error: --late-by '%s' is not a duration; use e.g. 500ms, 30s, 2m or 1h\n",
                 late_by.c_str());
    return 2;
  }
  dg::mutate_options o;
  o.path = db;
  o.count = count;
  o.late_share = late_share;
  o.late_by = *lb;
  o.seed = seed;
  o.only = only;
  const auto rep = dg::mutate(o);
  std::size_t u = 0, i = 0, d = 0, l = 0;
  for (const auto& [id, p] : rep.services) {
    std::printf("  %2u %-26s updated %6zu  inserted %6zu  deleted %6zu  late %6zu\n", id,
                dg::find_service(id)->name.c_str(), p.updated.size(), p.inserted.size(),
                p.deleted.size(), p.late.size());
    u += p.updated.size();
    i += p.inserted.size();
    d += p.deleted.size();
    l += p.late.size();
  }
  std::printf("changed %zu rows in %s: %zu updated, %zu inserted, %zu soft-deleted; %zu late "
              "(stamp %s)\n",
              u + i + d, db.c_str(), u, i, d, l, rep.late_stamp.c_str());
  if (!report.empty()) {
    if (report == "-") {
      std::fputs(rep.to_json().c_str(), stdout);
    } else {
      std::ofstream f(report, std::ios::binary | std::ios::trunc);
      f << rep.to_json();
      if (!f) {
        std::fprintf(stderr, "error: cannot write the report to '%s' (check the directory)\n",
                     report.c_str());
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "stampede-demo-db: builds and changes the demo ERP database (SQLite, 22 services of a\n"
      "municipal tax system, Protheus-style S_T_A_M_P_ / R_E_C_N_O_ / D_E_L_E_T_ columns).\n\n"
      "Examples:\n"
      "  stampede-demo-db generate --out demo/erp.db                 # ~100k rows, all 22 services\n"
      "  stampede-demo-db generate --out demo/big.db --scale 10      # ~1M rows\n"
      "  stampede-demo-db generate --out /tmp/b.db --services 19 --rows 10000000   # benchmark\n"
      "  stampede-demo-db mutate --db demo/erp.db --count 100 --report changes.json\n"
      "  stampede-demo-db mutate --db demo/erp.db --count 1000 --late-share 0.2 --late-by 2m"};
  app.require_subcommand(1);

  auto* gen = app.add_subcommand("generate", "create (overwrite) the demo database");
  std::string out;
  double scale = 1.0;
  std::uint64_t gseed = 42;
  std::vector<std::uint32_t> gonly;
  std::optional<std::uint64_t> rows;
  bool quiet = false;
  gen->add_option("--out,-o", out, "database file to write (overwritten; parent dirs created)")
      ->required();
  gen->add_option("--scale", scale, "size: 1.0 = ~100k rows (240 per small service, 24,000 per "
                                    "large one: 19-22)")->capture_default_str();
  gen->add_option("--seed", gseed, "random seed; same seed = same content")->capture_default_str();
  gen->add_option("--services", gonly, "only these service ids, e.g. 19,20 (default: all 22)")
      ->delimiter(',');
  gen->add_option("--rows", rows, "exactly N rows in each selected service (benchmarks)");
  gen->add_flag("--quiet,-q", quiet, "no progress lines");

  auto* mut = app.add_subcommand("mutate", "update, insert and soft-delete random rows with fresh stamps");
  std::string db, report, late_by = "30s";
  std::uint64_t count = 100, mseed = 7;
  double late_share = 0.1;
  std::vector<std::uint32_t> monly;
  mut->add_option("--db,-d", db, "database created by `generate`")->required();
  mut->add_option("--count,-n", count, "rows to change (70% updates, 20% inserts, 10% deletes)")->capture_default_str();
  mut->add_option("--late-share", late_share,
                  "share of changes stamped in the past, like a long transaction committed late")->capture_default_str();
  mut->add_option("--late-by", late_by, "how far in the past late stamps are (500ms, 30s, 2m)")->capture_default_str();
  mut->add_option("--seed", mseed, "random seed (mixed with the file's state)")->capture_default_str();
  mut->add_option("--services", monly, "only these service ids (default: all tables present)")
      ->delimiter(',');
  mut->add_option("--report", report, "write the JSON report of changed R_E_C_N_O_s here ('-' = stdout)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    std::fprintf(stderr, "run `stampede-demo-db --help` for usage and examples\n");
    return 2;
  }

  try {
    if (gen->parsed()) return run_generate(out, scale, gseed, gonly, rows, quiet);
    return run_mutate(db, count, late_share, late_by, mseed, monly, report);
  } catch (const dg::error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.code == dg::errc::sqlite_failure || e.code == dg::errc::io_failure ? 1 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
