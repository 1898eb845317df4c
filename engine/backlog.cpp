#include "engine/backlog.hpp"

#include "engine/status_view.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace stampede {

source_backlog measure_backlog(source& src, const config& cfg, const service_config& svc,
                               const service_state& st, std::int64_t now_ms) {
  source_backlog b;
  b.measured_ms = now_ms;
  try {
    const table_spec spec = spec_of(cfg.source, svc);
    const auto n = src.backlog(spec, keyset_pos{st.checkpoint_stamp, st.checkpoint_recno},
                               backlog_cap);
    b.rows = n.rows;
    b.capped = n.capped;
    if (n.rows > 0 && n.oldest)
      b.oldest_age_seconds =
          std::max<double>(0, static_cast<double>(src.now().unix_us() - n.oldest->unix_us()) / 1e6);
    b.measured = true;
  } catch (const std::exception& e) {
    b.error = fmt::format("service {}: source backlog: {}", svc.id, e.what());
  }
  return b;
}

std::string backlog_text(const source_backlog& b) {
  if (!b.error.empty())
    return "error";
  if (!b.measured)
    return "-";
  if (b.rows == 0)
    return "0";
  return fmt::format("{}{} (oldest {})", b.capped ? ">" : "", b.rows, lag_text(b.oldest_age_seconds));
}

} // namespace stampede
