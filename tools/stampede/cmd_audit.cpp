// `stampede audit --service N [--repair] [--json]`: compares the source with
// the ledger (engine/audit.hpp) and, with --repair, queues the drift for
// delivery through the request inbox (as `stampede resend` does).
//
// Operation: opens the state dir read-only (safe next to a running worker)
//   and the source, runs the auditor, prints the report; --repair submits
//   one resend request (`create_missing`) for the missing and changed keys.
//   Exit 0 when there is no drift, 4 when there is (repaired or not: the next
//   run delivers it), 1 on a source or state store error, 2 on bad input.
// Concurrency: single-threaded CLI.
// Limitations: hard deletes are reported, not repaired.
#include "engine/audit.hpp"
#include "engine/requests.hpp"
#include "tools/stampede/commands.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>

namespace stampede::cli {

int cmd_audit(const common_options& o, const audit_cli_options& a) {
  auto loaded = load_or_report(o);
  if (!loaded)
    return bad_input;
  const config& cfg = *loaded;
  const service_config* svc = cfg.find_service(a.service);
  if (!svc) {
    std::cerr << fmt::format("error: service {} is not in {}\n", a.service, cfg.file);
    return bad_input;
  }
  if (a.range_rows == 0) {
    std::cerr << "error: --range-rows must be at least 1\n";
    return bad_input;
  }
  int code = ok;
  audit_report rep;
  {
    auto store = open_state_for_reading(cfg, code);
    if (!store)
      return code;
    try {
      auto src = source::open(cfg.source);
      auditor au(cfg, *svc, *store, *src);
      audit_options ao;
      ao.range_rows = a.range_rows;
      rep = au.run(ao);
    } catch (const std::exception& e) {
      std::cerr << fmt::format("error: audit of service {}: {}\n", svc->id, e.what());
      return failed;
    }
  }
  if (!a.metrics_file.empty()) {
    // Atomically, for node_exporter's textfile collector.
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    const std::string tmp = a.metrics_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << to_prometheus(rep, now);
      if (!out.flush()) {
        std::cerr << fmt::format("error: cannot write --metrics-file {}\n", tmp);
        return failed;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, a.metrics_file, ec);
    if (ec) {
      std::cerr << fmt::format("error: --metrics-file {}: {}\n", a.metrics_file, ec.message());
      return failed;
    }
  }
  if (a.json)
    std::cout << to_json(rep) << "\n";
  else
    std::cout << render(rep);
  if (rep.drift() == 0)
    return ok;
  if (!a.repair) {
    if (!a.json)
      std::cout << "`stampede audit --repair` queues the missing and changed rows for delivery\n";
    return records_failed;
  }
  auto req = repair_request(rep, requester(a.by.empty() ? "audit" : a.by));
  if (!req) {
    std::cout << "nothing to repair by a resend (hard deletes are reported only)\n";
    return records_failed;
  }
  const int rc = submit_and_report(o, *req, /*needs_state=*/true);
  return rc == ok ? records_failed : rc;
}

} // namespace stampede::cli
