// The worker's embedded HTTP server: the web monitor, /healthz, /readyz and
// /metrics on one port (`[metrics] listen`).
//
// Operation: `web_server(site, listen)` starts civetweb (Debian's
//   libcivetweb, the library prometheus-cpp's exposer uses) on "host:port"
//   ("127.0.0.1:9464"; port 0 picks a free one: port()) and answers every
//   request with route() (web/pages.hpp): decodes the path and the query
//   string, writes status, Content-Type, Content-Length, Cache-Control:
//   no-store and X-Content-Type-Options: nosniff. An exception inside a page
//   answers 500 with its message. The destructor stops the server (waits for
//   the requests in progress).
// Concurrency: civetweb runs `threads` request threads; route() is safe on
//   them. Construct and destroy on one thread; destroy before the engine.
// Limitations: plain HTTP (put a TLS proxy in front when exposed, the admin
//   token travels in the request); no keep-alive tuning; a POST body is read
//   up to 64 KiB (larger: 413) and parsed as a form.
#pragma once

#include "web/pages.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

struct mg_context;
struct mg_connection;

namespace stampede {

struct web_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "a=1&b=x%20y+z" -> {a: "1", b: "x y z"} (percent and '+' decoded; a
/// malformed %XY is kept as is; the last of a repeated name wins).
std::map<std::string, std::string> parse_query(std::string_view q);

class web_server {
public:
  /// Throws web_error when `listen` is not "host:port" or cannot be bound.
  web_server(web_site site, const std::string& listen, int threads = 4);
  ~web_server();
  web_server(const web_server&) = delete;
  web_server& operator=(const web_server&) = delete;

  int port() const { return port_; }

private:
  static int handle(::mg_connection* conn, void* self);
  web_site site_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

} // namespace stampede
