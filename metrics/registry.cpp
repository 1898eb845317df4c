// The metrics registry and exporter; see registry.hpp.
#include "metrics/registry.hpp"

#include <charconv>
#include <exception>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace stampede {

std::optional<unsigned> listen_port(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= listen.size())
    return std::nullopt;
  unsigned port = 0;
  const char* b = listen.data() + colon + 1;
  const char* e = listen.data() + listen.size();
  const auto [end, ec] = std::from_chars(b, e, port);
  if (ec != std::errc() || end != e || port > 65535)
    return std::nullopt;
  return port;
}

metrics_registry::metrics_registry() : registry_(std::make_shared<prometheus::Registry>()) {}

metrics_registry::~metrics_registry() = default;

void metrics_registry::serve(const std::string& listen) {
  if (exposer_)
    throw metrics_error(metrics_errc::already_serving,
                        "metrics exporter already serving on port " + std::to_string(port()));
  if (!listen_port(listen))
    throw metrics_error(metrics_errc::bad_listen,
                        "metrics.listen '" + listen + "' is not \"host:port\" (e.g. \"127.0.0.1:9464\"); "
                        "fix it or leave it empty to disable the exporter");
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    throw metrics_error(metrics_errc::bind_failed,
                        "cannot serve metrics on " + listen + ": the port is probably taken by another "
                        "process (another `stampede run`?) or the address is not local (" + e.what() +
                        "). Change metrics.listen or stop the other process.");
  }
  exposer_->RegisterCollectable(registry_);
}

int metrics_registry::port() const {
  if (!exposer_) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::string metrics_registry::render_text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

} // namespace stampede
