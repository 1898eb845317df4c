// The process-wide metrics registry and its optional HTTP exporter.
//
// Operation: a `metrics_registry` owns one prometheus::Registry. Probes
//   (metrics/probes.hpp) register their families in it. `serve("host:port")`
//   starts a prometheus::Exposer that answers GET /metrics; `render_text()`
//   returns the same text exposition without HTTP (tests, `stampede status`).
//   Metric names, labels and meanings: docs/metrics.md.
// Concurrency: probes may be created and updated from any thread; serve()
//   and the destructor must not race with each other (call them from the
//   thread that owns the registry). The exporter runs its own civetweb threads.
// Limitations: one exporter per registry; serve() twice throws. Registering
//   the same metric name with a different help text or type throws
//   (prometheus-cpp Merge semantics), so names and helps live in probes.cpp.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace prometheus {
class Registry;
class Exposer;
} // namespace prometheus

namespace stampede {

enum class metrics_errc { ok = 0, bad_listen, bind_failed, already_serving };

struct metrics_error : std::runtime_error {
  metrics_error(metrics_errc c, const std::string& what) : std::runtime_error(what), code(c) {}
  metrics_errc code;
};

/// The port of a "host:port" listen address (0..65535; 0 = any free port);
/// nullopt when it is not one. Shared by the exporter and the web monitor.
std::optional<unsigned> listen_port(const std::string& listen);

class metrics_registry {
public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared_registry() const { return registry_; }

  /// Starts the HTTP exporter on `listen` ("host:port", e.g. "127.0.0.1:9464";
  /// port 0 picks a free port). Throws metrics_error when `listen` is malformed
  /// or the address cannot be bound (port taken, no permission).
  void serve(const std::string& listen);

  /// Whether serve() succeeded.
  bool serving() const { return exposer_ != nullptr; }

  /// The port the exporter listens on (0 when not serving).
  int port() const;

  /// Prometheus text exposition (format 0.0.4) of every metric.
  std::string render_text() const;

private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

} // namespace stampede
