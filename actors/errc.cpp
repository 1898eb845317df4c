#include "actors/errc.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>

namespace stampede {

namespace {

constexpr caf::atom_value category = caf::atom("stampede");

std::string with_context(std::uint8_t code, const caf::message& ctx) {
  std::string out(to_string(static_cast<errc>(code)));
  if (ctx.match_elements<std::string>() && !ctx.get_as<std::string>(0).empty()) {
    out += ": ";
    out += ctx.get_as<std::string>(0);
  }
  return out;
}

} // namespace

std::string_view to_string(errc e) {
  switch (e) {
    case errc::none: return "no error";
    case errc::source_failed: return "source failed";
    case errc::transform_failed: return "transform failed";
    case errc::target_failed: return "target failed";
    case errc::store_failed: return "state store failed";
    case errc::stopped: return "stopped";
    case errc::drain_timeout: return "drain timed out";
    case errc::bad_config: return "bad configuration";
    case errc::internal: return "internal error";
    case errc::waiting: return "waiting for a dependency";
  }
  return "unknown error";
}

caf::error make_error(errc e, std::string what) {
  return caf::make_error(e, std::move(what));
}

std::optional<errc> errc_of(const caf::error& err) {
  if (!err || err.category() != category)
    return std::nullopt;
  return static_cast<errc>(err.code());
}

std::string render(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == category)
    return with_context(err.code(), err.context());
  return caf::to_string(err);
}

void register_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(category, [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
    return with_context(code, ctx);
  });
}

} // namespace stampede
