// `stampede resend`: put records back in the resend queue, via the request
// inbox (engine/requests.hpp).
//
// Operation: builds a resend request (keys, every Error or every Cancelled
//   record), then `submit_and_report`: the request is written to
//   <state.dir>/requests/; when no worker holds the state dir it is applied at
//   once and the CLI prints how many records were queued, otherwise the
//   running worker applies it before its next cycle.
// Concurrency: single-threaded CLI; safe next to a running worker.
// Limitations: the records are sent by the next cycle of `stampede run`, not
//   by this command.
#include "engine/requests.hpp"
#include "tools/stampede/commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

namespace stampede::cli {

namespace {

std::string list(const std::vector<std::string>& keys, std::size_t max = 20) {
  std::string out;
  for (std::size_t i = 0; i < keys.size() && i < max; ++i)
    out += (i ? ", " : "") + keys[i];
  if (keys.size() > max)
    out += fmt::format(", ... ({} in all)", keys.size());
  return out;
}

} // namespace

std::string requester(const std::string& by) {
  if (!by.empty())
    return by;
  const char* user = std::getenv("USER");
  return user && *user ? std::string(user) : std::string("cli");
}

int submit_and_report(const common_options& o, const request& r, bool needs_state) {
  auto loaded = load_or_report(o);
  if (!loaded)
    return bad_input;
  const config& cfg = *loaded;
  if (needs_state && !std::filesystem::exists(cfg.state.dir)) {
    std::cerr << fmt::format("error: no state yet in {}: nothing was sent, so there is nothing "
                             "to {}; run `stampede run -c {}` first\n",
                             cfg.state.dir, to_string(r.kind), cfg.file);
    return bad_input;
  }
  submit_result res;
  try {
    res = submit_request(cfg.state.dir, cfg, r);
  } catch (const request_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return bad_input;
  } catch (const store_error& e) {
    std::cerr << fmt::format("error: state store {}: {}\nThe request stays in {} and is applied "
                             "by the next `stampede run` (or the next resend/checkpoint/replay "
                             "command).\n",
                             cfg.state.dir, e.what(), requests_dir(cfg.state.dir));
    return failed;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return failed;
  }
  for (const auto& a : res.others) {
    if (a.rejected)
      std::cerr << "warning: " << a.summary << " (moved to " << requests_dir(cfg.state.dir)
                << "/rejected)\n";
    else
      std::cout << "applied an earlier queued request: " << a.summary << "\n";
  }
  if (res.queued) {
    std::cout << fmt::format("queued: the running worker applies it before its next cycle ({})\n",
                             res.file);
    return ok;
  }
  if (!res.mine) {  // cannot happen while we hold the store; say so rather than guess
    std::cerr << "error: the request " << res.file << " was not applied; see "
              << requests_dir(cfg.state.dir) << "/rejected\n";
    return failed;
  }
  const auto& a = *res.mine;
  if (a.rejected) {
    std::cerr << "error: " << a.error << "\n";
    return bad_input;
  }
  std::cout << a.summary << "\n";
  if (!a.unknown_keys.empty())
    std::cout << fmt::format("unknown key(s) (no record in service {}): {}\n", r.service,
                             list(a.unknown_keys));
  if (!a.in_flight_keys.empty())
    std::cout << fmt::format("skipped, awaiting an async batch result: {}\n",
                             list(a.in_flight_keys));
  if (r.kind == request_kind::resend && a.changed > 0)
    std::cout << "The next `stampede run` sends them; `stampede log --status pending` shows them.\n";
  if (r.kind == request_kind::resend && a.changed == 0 && !a.unknown_keys.empty())
    return bad_input;  // every key given was unknown: nothing was done
  return ok;
}

int cmd_resend(const common_options& o, const resend_options& ro) {
  const int chosen = (ro.keys.empty() ? 0 : 1) + (ro.status.empty() ? 0 : 1) + (ro.all ? 1 : 0);
  if (chosen != 1) {
    std::cerr << "error: say which records, with exactly one of --key K (repeatable), "
                 "--status error|cancelled, --all (= every Error record)\n";
    return bad_input;
  }
  request r;
  r.kind = request_kind::resend;
  r.service = ro.service;
  r.by = requester(ro.by);
  if (!ro.keys.empty()) {
    r.scope = resend_scope::keys;
    r.keys = ro.keys;
  } else if (ro.all || ro.status == "error") {
    r.scope = resend_scope::error;
  } else if (ro.status == "cancelled") {
    r.scope = resend_scope::cancelled;
  } else {
    std::cerr << fmt::format("error: --status '{}': a resend takes error or cancelled\n",
                             ro.status);
    return bad_input;
  }
  return submit_and_report(o, r, /*needs_state=*/true);
}

} // namespace stampede::cli
