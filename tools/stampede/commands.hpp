// The `stampede` subcommands. Each returns the process exit code.
#pragma once

#include "pipeline/config.hpp"
#include "storage/ledger.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stampede {
struct request;  // engine/requests.hpp
}

namespace stampede::cli {

/// Documented exit codes (README "Exit codes"; main.cpp's footer).
enum exit_code : int {
  ok = 0,              // everything selected was delivered
  failed = 1,          // a cycle failed: source, target or state store error, or the
                       // drain after a stop timed out (the message says what was left)
  bad_input = 2,       // bad flags, config, or source layout; nothing was written
  records_failed = 4,  // the cycles completed, but records of the selected services
                       // are in Error or Cancelled (stderr: counts and top reasons)
};

struct common_options {
  std::string config_path = "stampede.toml";
  std::vector<std::uint32_t> services;   // empty = all configured
  std::string shard;                     // --shard k/N ("" = not sharded), pipeline/shard.hpp
};

struct run_options {
  bool once = false;
  bool initial_load = false;
  std::string progress = "auto";          // auto | always | never
};

struct status_options {
  bool json = false;
};

struct demo_options {
  std::string dir = "demo";
  std::string config_path;                // "" = find examples/demo.toml
  double scale = 1.0;
  std::uint16_t port = 8787;
  std::uint64_t mutate = 1000;
  bool keep = false;                      // keep an existing database and state
  std::string self = "stampede";          // how the user invoked us (argv[0]), for hints
};

/// `stampede log` and `log show` (tools/stampede/cmd_log.cpp).
struct log_options {
  std::string status;                     // "" = any
  std::string key;                        // "" = any
  std::string since, until;               // "" = open
  std::size_t limit = 100;                // 0 = no limit
  bool json = false;
  std::uint32_t show_service = 0;         // log show SERVICE KEY
  std::string show_key;
};

/// `stampede resend` (cmd_resend.cpp).
struct resend_options {
  std::uint32_t service = 0;
  std::vector<std::string> keys;
  std::string status;                     // "" | error | cancelled
  bool all = false;                       // = --status error
  std::string by;                         // "" = $USER, else "cli"
};

/// `stampede checkpoint show|set` and `stampede replay` (cmd_checkpoint.cpp).
struct checkpoint_options {
  bool json = false;                      // show
  std::uint32_t service = 0;              // set, replay
  std::string from, to;                   // set: to; replay: from, to
  std::int64_t recno = 0;                 // set
  std::string by;
};

struct audit_cli_options {
  std::uint32_t service = 0;
  bool repair = false;
  bool json = false;
  std::string by;
  std::uint32_t range_rows = 5000;
  std::string metrics_file;  // the drift metric, Prometheus text format
};

int cmd_check(const common_options& o);
int cmd_audit(const common_options& o, const audit_cli_options& a);
int cmd_run(const common_options& o, const run_options& r);
int cmd_status(const common_options& o, const status_options& s);
int cmd_demo(const demo_options& d, const run_options& r);
int cmd_log(const common_options& o, const log_options& l);
int cmd_log_show(const common_options& o, const log_options& l);
int cmd_resend(const common_options& o, const resend_options& r);
int cmd_checkpoint_show(const common_options& o, const checkpoint_options& c);
int cmd_checkpoint_set(const common_options& o, const checkpoint_options& c);
int cmd_replay(const common_options& o, const checkpoint_options& c);

/// `stampede --version`: "stampede X.Y.Z (BuildType build)" and a line naming
/// the libraries' versions (version.cpp).
std::string version_text();
/// "0.1.0" (stampede_build_info's version label).
std::string version_number();

/// --by: the flag, else $USER, else "cli".
std::string requester(const std::string& by);

/// Opens cfg.state.dir read-only for a viewer (log, checkpoint show). A missing
/// dir prints "no state yet" and sets code = bad_input; a store error prints it
/// and sets code = failed; both return nullptr.
std::unique_ptr<state_store> open_state_for_reading(const config& cfg, int& code);

/// Loads the config of `o`, then sends `r` through the request inbox (applied
/// at once when no worker holds the store, else queued for it) and prints what
/// happened; the exit code. `needs_state`: a missing state dir is bad input.
int submit_and_report(const common_options& o, const request& r, bool needs_state);

/// Checks the source for `svcs`, printing errors; false on any.
bool source_ok(const config& cfg, const std::vector<const service_config*>& svcs);

/// Loads the config, printing diagnostics on failure (returns nullopt).
std::optional<config> load_or_report(const std::string& path);

/// Loads the config of `o` and applies its --shard: config::shard, and
/// state.dir becomes the shard's own directory (shard_dir). Refuses (prints
/// why, returns nullopt = bad input) a bad --shard, a sharded run on a state
/// dir that holds an unsharded store or the shards of another N, and an
/// unsharded one on a dir that holds shards.
std::optional<config> load_or_report(const common_options& o);

/// Resolves --services against the config; prints an error and returns false
/// on an unknown id.
bool select_services(const config& cfg, const std::vector<std::uint32_t>& ids,
                     std::vector<const service_config*>& out);

/// A loaded config and the services a command works on (pointers into cfg).
struct selection {
  config cfg;
  std::vector<const service_config*> services;
};

/// `-c` and `--services` of a command: nullptr (problems printed) = bad input.
std::unique_ptr<selection> load_selection(const common_options& o);

} // namespace stampede::cli
