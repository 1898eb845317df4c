// The one error enum of the engine, registered with CAF.
//
// Operation: every caf::error the actors, the cycle runner and the engine
//   make is `make_error(errc::X, "what happened")`: category "stampede", the
//   code, and one string of context (never a secret). `render(err)` gives a
//   readable line ("target failed: service 3: HTTP 401 ..."), also for CAF's
//   own errors; `register_errors(cfg)` lets `actor_system::render` do the
//   same. The CLI maps codes to exit codes (tools/stampede/commands.hpp).
// Concurrency: pure functions.
// Limitations: CAF 0.17 carries the code as uint8_t; append new codes at the
//   end (values are part of what the CLI and logs show).
#pragma once

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stampede {

enum class errc : std::uint8_t {
  none = 0,
  source_failed,     // opening or reading the source table
  transform_failed,  // the mapping could not be built or run
  target_failed,     // target-level failure: unreachable, credentials, route, retries exhausted
  store_failed,      // the state store could not be opened, read or written
  stopped,           // a stop request ended the work early (not a failure by itself)
  drain_timeout,     // after a stop, in-flight work did not finish within engine.drain_timeout
  bad_config,        // the configuration cannot run (missing target, ...)
  internal,          // an actor misused or died (a bug)
  waiting,           // not run: a service it runs `after` failed (engine/, service dependencies)
};

/// "source failed", "target failed", ...
std::string_view to_string(errc e);

/// The engine error `e` with `what` as its context.
caf::error make_error(errc e, std::string what);

/// The errc of `err`, or nullopt when it is not one of ours (CAF's own).
std::optional<errc> errc_of(const caf::error& err);

/// "<kind>: <context>" for our errors, CAF's rendering for others; "" for none.
std::string render(const caf::error& err);

/// Adds the "stampede" error category renderer to an actor system config.
void register_errors(caf::actor_system_config& cfg);

} // namespace stampede

CAF_ERROR_CODE_ENUM(stampede::errc, "stampede")
