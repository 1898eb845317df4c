// stampede: incremental, observable ERP -> HTTP export.
#include "engine/logging.hpp"
#include "tools/stampede/commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

using namespace stampede::cli;

namespace {

const char* kExitCodes = R"(
Exit codes:
  0  ok
  1  a service's cycle failed (source, target or state store error; see the message)
  2  bad input: flags, configuration or source layout (nothing was written)
  4  the cycle completed but records are in Error or Cancelled
     (see `stampede log --status error`)
)";

// Every subcommand's -c, for STAMPEDE_CONFIG: CLI11's envname() fills the
// option of EVERY subcommand that did not see -c, and they all write the one
// common_options, so the environment overwrote a -c given on the command line.
std::vector<CLI::Option*> g_config_options;

void add_common(CLI::App* sub, common_options& o, bool services, bool shard = true) {
  if (shard)
    sub->add_option("--shard", o.shard,
                    "Be shard k of N (k = 0..N-1): only rows whose key hashes to k, with the "
                    "shard's own state in <state.dir>/shard-k-of-N; k may be a StatefulSet pod "
                    "name ending in -k (run --help)");
  g_config_options.push_back(
      sub->add_option("-c,--config", o.config_path,
                      "Configuration file (TOML); without -c, $STAMPEDE_CONFIG when set")
        ->capture_default_str());
  if (services)
    sub->add_option("-s,--services", o.services,
                    "Only these service ids, comma separated (default: all)")
      ->delimiter(',');
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"stampede: exports ERP records incrementally to HTTP/JSON platforms and "
               "proves what was delivered."};
  app.set_version_flag("--version", version_text(), "Print this build's version and libraries, then exit");
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-format) also after the subcommand
  std::string log_format = "auto";
  app.add_option("--log-format", log_format,
                 "Log lines on stderr: auto (JSON lines unless stderr is a terminal), human, json")
    ->check(CLI::IsMember({"auto", "human", "json"}))
    ->capture_default_str();
  app.footer(std::string("Start with:  stampede demo\n") + kExitCodes);
  common_options common;
  run_options run;
  status_options status;
  demo_options demo;
  log_options logo;
  resend_options resend;
  checkpoint_options cpo;

  auto* check = app.add_subcommand("check", "Validate the configuration and the source database");
  add_common(check, common, false, false);
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

--shard k/N splits one huge service across N workers (processes, machines or
pods): worker k exports only the rows whose record key hashes to k (64-bit
FNV-1a of the key as exported, mod N; k is 0-based, 0..N-1) and keeps its own
ledger and checkpoint in <state.dir>/shard-k-of-N. It still reads every row
(the checkpoint moves past the other shards' rows). Two workers on the same
shard cannot run at once (the state lock: exit 1). status, log, resend,
checkpoint, replay and audit take the same --shard to open that shard's state.
N cannot change once shards hold state. On Kubernetes, k can be the pod name
of a StatefulSet: --shard $(POD_NAME)/4 takes the ordinal after the last '-'.

Examples:
  stampede run --once -c stampede.toml
  stampede run --once --services 19,20 -c stampede.toml
  stampede run --once --services 19 --shard 0/4 -c stampede.toml   # ... up to 3/4
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

  auto* lg = app.add_subcommand("log", "Per-record log monitor: status, attempts, messages");
  add_common(lg, common, false);
  lg->add_option("-s,--service,--services", common.services,
                 "Only these service ids, comma separated (default: all)")
    ->delimiter(',');
  lg->add_option("--status", logo.status, "Only records in this status: pending|success|error|cancelled");
  lg->add_option("--key", logo.key, "Only the record with this key (the service's key_column)");
  lg->add_option("--since", logo.since,
                 "Changed at or after: \"YYYY-MM-DD[ HH:MM[:SS]]\" (UTC) or a time ago: 15m, 2h, 1d");
  lg->add_option("--until", logo.until, "Changed at or before (same forms as --since)");
  lg->add_option("--limit", logo.limit, "At most this many records, newest change first (0 = all)")
    ->capture_default_str();
  lg->add_flag("--json", logo.json, "JSON lines: one object per record");
  lg->footer(R"(
One line per record: service, key (key_column=value), status, operation,
remote id, attempts, created and last changed (ISO-8601 UTC), changed by
("worker", or the user who asked for a resend) and the last message. The most
recently changed records come first. Opens the state directory read-only: safe
while `stampede run` is going.

Examples:
  stampede log -c stampede.toml
  stampede log --status error --service 19 -c stampede.toml
  stampede log --since 2h --json -c stampede.toml | jq .message
  stampede log --since "2024-05-01 08:00" --until "2024-05-01 18:00" -c stampede.toml
  stampede log show 19 1042 -c stampede.toml   # one record with every attempt)");
  auto* lgs = lg->add_subcommand("show", "One record with every log item (attempts, payloads)");
  add_common(lgs, common, false);
  lgs->add_option("service", logo.show_service, "Service id")->required();
  lgs->add_option("key", logo.show_key, "Record key (the service's key_column)")->required();
  lgs->add_flag("--json", logo.json, "One JSON document: {entry, resend_due, items}");
  lgs->footer(R"(
The record's entry and one item per attempt or action: time, status, attempt,
HTTP status, message, the payload sent and the answer received (kept for
failed attempts, capped in size), and who acted.

Examples:
  stampede log show 19 1042 -c stampede.toml
  stampede log show 19 1042 --json -c stampede.toml)");

  auto* rs = app.add_subcommand("resend", "Send records again: chosen keys, every Error or Cancelled");
  add_common(rs, common, false);
  rs->add_option("-s,--service", resend.service, "Service id")->required();
  rs->add_option("--key", resend.keys, "Record key(s); repeat or list several: --key 7 8 9");
  rs->add_option("--status", resend.status, "Every record in this status: error|cancelled");
  rs->add_flag("--all", resend.all, "Every record in Error (same as --status error)");
  rs->add_option("--by", resend.by, "Who asks, recorded in the log (default: $USER, else cli)");
  rs->footer(R"(
Chosen records go back to pending with attempts 0 and a new idempotency-key
generation (an idempotent API executes them again), enter the resend queue and
are sent by the next cycle, regardless of the lookback window. Who asked is
recorded in each record's log. Give exactly one of --key, --status, --all.

Works with or without a running worker: the request is written to
<state.dir>/requests/. With no worker it is applied at once and the count is
printed; with a worker running it is queued and applied before its next cycle.

Examples:
  stampede resend --service 19 --key 1042 --key 1043 -c stampede.toml
  stampede resend --service 19 --all --by ana -c stampede.toml
  stampede resend --service 19 --status cancelled -c stampede.toml)");

  audit_cli_options audo;
  auto* au = app.add_subcommand("audit", "Compare the source with the ledger: rows missing, changed or hard-deleted");
  add_common(au, common, false);
  au->add_option("-s,--service", audo.service, "Service id")->required();
  au->add_flag("--repair", audo.repair, "Queue the missing and changed rows for delivery");
  au->add_flag("--json", audo.json, "Print one JSON object");
  au->add_option("--by", audo.by, "Who repairs, recorded in the log (default: audit)");
  au->add_option("--range-rows", audo.range_rows, "Rows and ledger keys per range (memory bound)")
    ->capture_default_str();
  au->add_option("--metrics-file", audo.metrics_file,
                 "Also write the drift metric here (Prometheus text, for node_exporter's textfile collector)");
  au->footer(R"(
Reads the whole source table in keyset ranges, renders every row with the
service's mapping and compares its content hash with the ledger; then walks
the ledger and looks each delivered key up in the source. Reports, for rows
at or before the checkpoint: rows missing from the ledger (e.g. a transaction
committed late, older than the lookback), rows whose content changed without
a delivery, and keys deleted from the source without a soft delete. Rows after
the checkpoint are the next cycle's work, not drift.

--repair queues the missing and changed rows through the request inbox (as
`stampede resend` does; applied at once, or by a running worker before its
next cycle): the next run sends missing rows as creates and changed rows as
updates. Hard deletes are reported only. Opens the state read-only: safe next
to a running worker. Memory stays within --range-rows rows plus the drift keys.

Exit codes: 0 no drift, 4 drift found (queued with --repair), 1 source or
state store error, 2 bad input.

Examples:
  stampede audit --service 19 -c stampede.toml
  stampede audit --service 19 --repair --by ana -c stampede.toml
  stampede audit --service 19 --json -c stampede.toml
  stampede audit --service 19 --metrics-file /var/lib/node_exporter/stampede_audit_19.prom -c stampede.toml)");

  auto* cp = app.add_subcommand("checkpoint", "Show or move a service's checkpoint");
  cp->require_subcommand(1);
  auto* cps = cp->add_subcommand("show", "Checkpoints, pending replays and recent events");
  add_common(cps, common, false);
  cps->add_option("-s,--service,--services", common.services,
                  "Only these service ids, comma separated (default: all)")
    ->delimiter(',');
  cps->add_flag("--json", cpo.json, "Print one JSON document");
  cps->footer(R"(
Per service: the checkpoint (reading resumes strictly after this stamp and
recno), whether the initial load is complete, replays not yet done and the
latest events (checkpoint moves and resend requests, with who asked). Opens
the state directory read-only: safe while `stampede run` is going.

Examples:
  stampede checkpoint show -c stampede.toml
  stampede checkpoint show --service 19 --json -c stampede.toml)");
  auto* cpset = cp->add_subcommand("set", "Rewind or skip: move a service's checkpoint");
  add_common(cpset, common, false);
  cpset->add_option("-s,--service", cpo.service, "Service id")->required();
  cpset->add_option("--to", cpo.to, "Stamp \"YYYY-MM-DD HH:MM:SS[.fff]\" (UTC, as in S_T_A_M_P_)")
    ->required();
  cpset->add_option("--recno", cpo.recno, "Keyset recno at that stamp (rows strictly after it)")
    ->capture_default_str();
  cpset->add_option("--by", cpo.by, "Who asks, recorded in the events (default: $USER, else cli)");
  cpset->footer(R"(
The next cycle reads rows strictly after (STAMP, RECNO). Rewinding re-reads
rows, but rows delivered with unchanged content are still skipped: to send a
range again, use `stampede replay`. Skipping forward leaves the rows in between
unsent. The move is recorded with who asked (`checkpoint show`). Applied at
once with no worker running, else by the worker before its next cycle.

Examples:
  stampede checkpoint set --service 19 --to "2024-05-01 00:00:00" -c stampede.toml
  stampede checkpoint set --service 19 --to "2024-05-01 12:30:00.250" --by ana -c stampede.toml)");

  auto* rp = app.add_subcommand("replay", "Send a stamp range again without moving the checkpoint");
  add_common(rp, common, false);
  rp->add_option("-s,--service", cpo.service, "Service id")->required();
  rp->add_option("--from", cpo.from, "First stamp, inclusive: \"YYYY-MM-DD HH:MM:SS[.fff]\" (UTC)")
    ->required();
  rp->add_option("--to", cpo.to, "Last stamp, inclusive")->required();
  rp->add_option("--by", cpo.by, "Who asks, recorded in the events (default: $USER, else cli)");
  rp->footer(R"(
The next cycle of the service reads every row with a stamp in [FROM, TO] and
sends it again with a new idempotency-key generation, even when its content
did not change; the checkpoint does not move. Works on a running worker too
(applied before its next cycle).

Examples:
  stampede replay --service 19 --from "2024-05-01 00:00:00" --to "2024-05-01 23:59:59.999" -c stampede.toml)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return bad_input;
  }
  // -c wins over STAMPEDE_CONFIG (the container image sets the variable).
  if (std::none_of(g_config_options.begin(), g_config_options.end(),
                   [](const CLI::Option* opt) { return opt->count() > 0; }))
    if (const char* env = std::getenv("STAMPEDE_CONFIG"); env && *env)
      common.config_path = env;
  // Level: engine.log_level, applied with set_log_level() once the config is read.
  stampede::setup_logging("info", *stampede::parse_log_format(log_format));
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
  if (lgs->parsed())
    return cmd_log_show(common, logo);
  if (lg->parsed())
    return cmd_log(common, logo);
  if (rs->parsed())
    return cmd_resend(common, resend);
  if (au->parsed())
    return cmd_audit(common, audo);
  if (cps->parsed())
    return cmd_checkpoint_show(common, cpo);
  if (cpset->parsed())
    return cmd_checkpoint_set(common, cpo);
  if (rp->parsed())
    return cmd_replay(common, cpo);
  return bad_input;
}
