// placeholders: what the templates of a target share with the rest of the
// pipeline. For now the percent-encoding of their values (paths, form
// bodies, the redactor's encoded forms of a secret).
//
// Operation: `url_encode(s)`: RFC 3986 percent-encoding.
// Concurrency: pure functions.
// Limitations: none.
#pragma once

#include <string>
#include <string_view>

namespace stampede {

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string url_encode(std::string_view s);

}  // namespace stampede
