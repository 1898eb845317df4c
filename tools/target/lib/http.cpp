#include "tools/target/lib/http.hpp"

#include <charconv>
#include <cstring>

#include "tools/target/lib/json_out.hpp"

namespace stampede::target {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

head_status parse_head(std::string_view buf, http_request& req, std::size_t& head_len,
                       std::string& error) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return buf.size() > max_head_bytes ? head_status::too_large : head_status::incomplete;
  }
  if (end + 4 > max_head_bytes) return head_status::too_large;
  head_len = end + 4;
  req = http_request{};
  std::string_view head = buf.substr(0, end + 2);  // keep the last line's CRLF

  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    error = "malformed request line (expected 'METHOD /path HTTP/1.1')";
    return head_status::bad;
  }
  req.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    req.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    req.version_minor = 0;
    req.keep_alive = false;
  } else {
    error = "unsupported HTTP version '" + std::string(version) + "' (use HTTP/1.1)";
    return head_status::bad;
  }
  if (target.empty() || target.front() != '/') {
    error = "request target must start with '/'";
    return head_status::bad;
  }
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string_view::npos) req.query = target.substr(q + 1);

  while (!head.empty()) {
    eol = head.find("\r\n");
    line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t') {
      error = "malformed header line";
      return head_status::bad;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    switch (name.size()) {
      case 10:
        if (iequals(name, "connection")) {
          if (contains_token(value, "close")) req.keep_alive = false;
          if (contains_token(value, "keep-alive")) req.keep_alive = true;
        }
        break;
      case 12:
        if (iequals(name, "content-type")) req.content_type = value;
        else if (iequals(name, "x-record-key")) req.record_key = value;
        break;
      case 13:
        if (iequals(name, "authorization")) req.authorization = value;
        break;
      case 14:
        if (iequals(name, "content-length")) {
          std::size_t n = 0;
          auto r = std::from_chars(value.data(), value.data() + value.size(), n);
          if (r.ec != std::errc{} || r.ptr != value.data() + value.size() ||
              (req.has_content_length && n != req.content_length)) {
            error = "invalid Content-Length";
            return head_status::bad;
          }
          req.has_content_length = true;
          req.content_length = n;
        }
        break;
      case 15:
        if (iequals(name, "idempotency-key")) req.idempotency_key = value;
        break;
      case 6:
        if (iequals(name, "expect") && iequals(value, "100-continue")) req.expect_continue = true;
        break;
      case 23:
        if (iequals(name, "x-batch-idempotency-key")) req.batch_idempotency_key = value;
        break;
      case 17:
        if (iequals(name, "transfer-encoding") && !iequals(value, "identity")) req.chunked = true;
        break;
      default:
        break;
    }
  }
  return head_status::ok;
}

std::string pct_decode(std::string_view s) {
  auto hv = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hv(s[i + 1]) >= 0 && hv(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hv(s[i + 1]) * 16 + hv(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void frame_response(const http_response& r, bool keep_alive, std::string& out) {
  out.append("HTTP/1.1 ");
  json_append_uint(out, static_cast<std::uint64_t>(r.status));
  out.push_back(' ');
  out.append(reason_phrase(r.status));
  out.append("\r\nServer: stampede-target");
  const bool no_content = r.status == 204;
  if (!no_content) {
    out.append("\r\nContent-Type: ");
    out.append(r.content_type);
    out.append("\r\nContent-Length: ");
    json_append_uint(out, r.body.size());
  }
  if (r.retry_after_s >= 0) {
    out.append("\r\nRetry-After: ");
    json_append_uint(out, static_cast<std::uint64_t>(r.retry_after_s));
  }
  if (!keep_alive || r.close) out.append("\r\nConnection: close");
  out.append("\r\n\r\n");
  if (!no_content) out.append(r.body);
}

}  // namespace stampede::target
