// The embedded HTTP server; see server.hpp.
#include "web/server.hpp"

#include "metrics/registry.hpp"

#include <civetweb.h>
#include <fmt/format.h>

#include <cctype>
#include <mutex>

namespace stampede {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

// civetweb reports why mg_start failed through log_message; mg_start runs on
// the constructing thread, so a thread_local keeps the text.
thread_local std::string start_error;

int log_message(const ::mg_connection*, const char* message) {
  if (start_error.empty() && message)
    start_error = message;
  return 1;  // do not print it
}

} // namespace

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty())
      continue;
    const auto eq = part.find('=');
    out[url_decode(part.substr(0, eq))] =
        eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1));
  }
  return out;
}

web_server::web_server(web_site site, const std::string& listen, int threads)
    : site_(std::move(site)) {
  if (!listen_port(listen))
    throw web_error(fmt::format("metrics.listen '{}' is not \"host:port\" (e.g. \"127.0.0.1:9464\"); "
                                "fix it or leave it empty to turn the web monitor off", listen));
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  const auto nthreads = std::to_string(threads);
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", nthreads.c_str(),
                           "request_timeout_ms", "30000", nullptr};
  mg_callbacks cb{};
  cb.log_message = &log_message;
  start_error.clear();
  ctx_ = mg_start(&cb, this, options);
  if (!ctx_)
    throw web_error(fmt::format("cannot serve the web monitor on {}: {}. The port is probably taken "
                                "by another process (another `stampede run`?) or the address is not "
                                "local; change [metrics] listen or stop the other process",
                                listen, start_error.empty() ? "civetweb could not start" : start_error));
  mg_server_port ports[4]{};
  const int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : 0;
  mg_set_request_handler(ctx_, "/", &web_server::handle, this);
}

web_server::~web_server() {
  if (ctx_)
    mg_stop(ctx_);
}

int web_server::handle(::mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<web_server*>(self_ptr);
  const mg_request_info* ri = mg_get_request_info(conn);
  web_request req;
  req.method = ri->request_method ? ri->request_method : "GET";
  req.path = ri->local_uri ? ri->local_uri : "/";
  if (ri->query_string)
    req.query = parse_query(ri->query_string);
  for (int i = 0; i < ri->num_headers; ++i) {
    std::string name = ri->http_headers[i].name ? ri->http_headers[i].name : "";
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = ri->http_headers[i].value ? ri->http_headers[i].value : "";
  }
  if (req.method == "POST") {
    // A form of a few fields; anything larger is not ours.
    constexpr long long max_body = 64 * 1024;
    if (ri->content_length > max_body) {
      mg_printf(conn, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
      return 413;
    }
    std::string body;
    char buf[4096];
    int n = 0;
    while (static_cast<long long>(body.size()) < max_body && (n = mg_read(conn, buf, sizeof buf)) > 0)
      body.append(buf, static_cast<std::size_t>(n));
    if (req.headers["content-type"].rfind("application/x-www-form-urlencoded", 0) == 0 ||
        req.headers["content-type"].empty())
      req.form = parse_query(body);
  }
  web_response res;
  try {
    res = route(req, self->site_);
  } catch (const std::exception& e) {
    res = {500, "text/plain; charset=utf-8", fmt::format("internal error: {}\n", e.what())};
  }
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
            res.status, reason(res.status), res.content_type.c_str(), res.body.size());
  if (req.method != "HEAD")
    mg_write(conn, res.body.data(), res.body.size());
  return res.status;
}

} // namespace stampede
