// HTTP/1.1 request-head parsing and response framing for stampede-target.
//
// Operation: `parse_head` parses the request line and headers found at the
//   start of a buffer (up to the blank line) into string_views pointing into
//   that buffer; only the headers the target needs are kept. `frame_response`
//   writes a complete response (status line, headers, body) into a string.
// Concurrency: stateless free functions; thread-safe.
// Limitations: heads are limited to 64 KiB; obsolete line folding is
//   rejected; only Content-Length bodies are framed (chunked is reported so
//   the caller can answer 411).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stampede::target {

struct http_request {
  std::string_view method;
  std::string_view path;   // target without the query string
  std::string_view query;  // after '?', empty if none
  int version_minor = 1;   // HTTP/1.<minor>
  bool keep_alive = true;
  bool expect_continue = false;
  bool chunked = false;
  bool has_content_length = false;
  std::size_t content_length = 0;
  std::string_view content_type;
  std::string_view authorization;
  std::string_view record_key;       // X-Record-Key
  std::string_view idempotency_key;  // Idempotency-Key
  std::string_view batch_idempotency_key;  // X-Batch-Idempotency-Key
  // Body: `body` points at content_length bytes followed by at least
  // `body_padding` readable bytes (simdjson needs padding).
  const char* body = nullptr;
  std::size_t body_padding = 0;
  std::string_view body_view() const { return {body, body ? content_length : 0}; }
};

struct http_response {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  int retry_after_s = -1;  // >= 0: send Retry-After
  bool close = false;      // send "Connection: close" and close after writing
  bool drop = false;       // close the connection without answering
  int delay_ms = 0;        // hold the answer this long (latency fault)
};

enum class head_status { incomplete, ok, bad, too_large };

inline constexpr std::size_t max_head_bytes = 64 * 1024;
inline constexpr std::size_t max_body_bytes = 256u * 1024 * 1024;

/// Parses the head at the start of `buf`. On `ok`, `head_len` is the number of
/// bytes up to and including the blank line. On `bad`, `error` says why.
head_status parse_head(std::string_view buf, http_request& req, std::size_t& head_len,
                       std::string& error);

/// Standard reason phrase for a status code ("Unknown" if not known).
std::string_view reason_phrase(int status);

/// Appends the framed response to `out`; `keep_alive` false adds Connection: close.
/// A 204 is framed without Content-Type, Content-Length and body (RFC 9110).
void frame_response(const http_response& r, bool keep_alive, std::string& out);

/// Decodes %XX escapes (a malformed escape is kept as it is).
std::string pct_decode(std::string_view s);

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

}  // namespace stampede::target
