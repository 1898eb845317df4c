// Minimal JSON output helpers for stampede-target responses.
//
// Operation: append JSON fragments (escaped strings, numbers) to a
//   std::string. No allocation beyond the target string's growth.
// Concurrency: stateless free functions; thread-safe.
// Limitations: strings are escaped byte-wise (UTF-8 passes through, control
//   characters become \u00XX); the caller is responsible for structure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stampede::target {

/// Appends `s` as a quoted JSON string.
void json_append_string(std::string& out, std::string_view s);
/// Appends an unsigned integer.
void json_append_uint(std::string& out, std::uint64_t v);
/// Appends `{"error":{"code":"<code>","message":"<message>"}}`.
void json_append_error(std::string& out, std::string_view code, std::string_view message);
/// Returns `{"error":{"code":..,"message":..}}` as a new string.
std::string json_error(std::string_view code, std::string_view message);

}  // namespace stampede::target
