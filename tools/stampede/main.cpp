// stampede: incremental, observable ERP -> HTTP export.
#include "tools/stampede/commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

using namespace stampede::cli;

namespace {

const char* kExitCodes = R"(
Exit codes:
  0  ok
  1  a cycle failed (source, target or state store error; see the message)
  2  bad input: flags, configuration or source layout (nothing was written)
  3  this subcommand's engine arrives in a later release
)";

void add_common(CLI::App* sub, common_options& o, bool services) {
  sub->add_option("-c,--config", o.config_path, "Configuration file (TOML)")
    ->envname("STAMPEDE_CONFIG")
    ->capture_default_str();
  if (services)
    sub->add_option("-s,--services", o.services,
                    "Only these service ids, comma separated (default: all)")
      ->delimiter(',');
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"stampede: exports ERP records incrementally to HTTP/JSON platforms and "
               "proves what was delivered."};
  app.require_subcommand(1);
  app.footer(std::string("Start with:  stampede demo\n") + kExitCodes);
  common_options common;
  run_options run;
  status_options status;
  demo_options demo;

  auto* check = app.add_subcommand("check", "Validate the configuration and the source database");
  add_common(check, common, false);
  check->footer(R"(
Checks every key of the config (unknown keys, types, ${ENV} variables), then
opens the source: every service's table and mapped columns must exist; warns
when the stamp column has no index.

Examples:
  stampede check -c examples/demo.toml
  STAMPEDE_CONFIG=/etc/stampede.toml stampede check)");

  auto* runc = app.add_subcommand("run", "Export the configured services (continuous or --once)");
  add_common(runc, common, true);
  runc->add_flag("--once", run.once, "Run one cycle per service, then exit (cron, CronJob)");
  runc->add_flag("--initial-load", run.initial_load,
                 "Only the initial load (carga inicial) of services not yet loaded, in id order");
  runc->add_option("--progress", run.progress, "Progress display: auto|always|never")
    ->check(CLI::IsMember({"auto", "always", "never"}))
    ->capture_default_str();
  runc->footer(R"(
The first cycle of a service is its initial load; services load in numeric
order. Later cycles are incremental: rows whose S_T_A_M_P_ moved, re-reading a
lookback window (late commits) and skipping rows whose content did not change.
Without --once, each service then runs on its schedule until SIGTERM/SIGINT,
which stops reading, drains what is in flight, persists it and exits 0.

Examples:
  stampede run --once -c stampede.toml
  stampede run --once --services 19,20 -c stampede.toml
  stampede run --initial-load -c stampede.toml
  stampede run -c stampede.toml              # continuous, on the schedules)");

  auto* st = app.add_subcommand("status", "Per service: checkpoint, initial load, counts, lag");
  add_common(st, common, true);
  st->add_flag("--json", status.json, "Print JSON instead of a table");
  st->footer(R"(
Reads the state directory (read-only; safe while `stampede run` is going).

Examples:
  stampede status -c stampede.toml
  stampede status --json --services 19 -c stampede.toml)");

  auto* dm = app.add_subcommand("demo", "Generate a demo ERP, start a local target, export it all");
  dm->add_option("--dir", demo.dir, "Where the demo database and state go")->capture_default_str();
  dm->add_option("-c,--config", demo.config_path, "Demo config (default: examples/demo.toml)");
  dm->add_option("--scale", demo.scale, "Database size; 1.0 is about 100k rows")
    ->check(CLI::Range(0.001, 1000.0))
    ->capture_default_str();
  dm->add_option("--port", demo.port, "Port of the local reference target (0 = any free)")
    ->capture_default_str();
  dm->add_option("--mutate", demo.mutate, "Rows to change before the incremental cycle")
    ->capture_default_str();
  dm->add_flag("--keep", demo.keep, "Keep an existing demo database and state");
  dm->add_option("--progress", run.progress, "Progress display: auto|always|never")
    ->check(CLI::IsMember({"auto", "always", "never"}));
  dm->footer(R"(
A newcomer's first taste: generates demo/erp.db (22 services of a municipal tax
system), starts the reference target on 127.0.0.1, runs the initial load of all
services with live progress, changes some rows (including late commits) and runs
an incremental cycle, then prints what went where.

Examples:
  stampede demo
  stampede demo --scale 10 --port 0)");

  auto* lg = app.add_subcommand("log", "Per-record log monitor (arrives in a later release)");
  add_common(lg, common, true);
  auto* rs = app.add_subcommand("resend", "Resend failed records (arrives in a later release)");
  add_common(rs, common, true);
  auto* cp = app.add_subcommand("checkpoint", "Show or move checkpoints (arrives in a later release)");
  add_common(cp, common, true);
  for (auto* later : {lg, rs, cp}) {
    later->allow_extras();
    later->footer("\nNot available yet: its engine arrives in a later release; it says so and "
                  "exits 3.\nMeanwhile `stampede status -c FILE` shows counts by status "
                  "(pending, success, error, cancelled) per service.");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return bad_input;
  }
  if (check->parsed())
    return cmd_check(common);
  if (runc->parsed())
    return cmd_run(common, run);
  if (st->parsed())
    return cmd_status(common, status);
  if (dm->parsed()) {
    demo.self = argv[0];
    return cmd_demo(demo, run);
  }
  if (lg->parsed())
    return cmd_later("log", 0);
  if (rs->parsed())
    return cmd_later("resend", 0);
  if (cp->parsed())
    return cmd_later("checkpoint", 0);
  return bad_input;
}
