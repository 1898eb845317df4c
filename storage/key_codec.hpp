// Order-preserving key encoding (big-endian, memcmp order == tuple order).
//
// Operation: append components to a std::string; memcmp on two encodings
//   orders them exactly as the component tuples compare.
//     - unsigned: big-endian fixed width
//     - signed: big-endian with the sign bit flipped
//     - string: bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01
//       (so a prefix sorts before its extensions, and any bytes are allowed)
// Concurrency: pure functions.
// Limitations: decoding needs the caller to know the component types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stampede::key_codec {

void put_u16(std::string& out, std::uint16_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_u64(std::string& out, std::uint64_t v);
void put_i64(std::string& out, std::int64_t v);
void put_string(std::string& out, std::string_view s);

/// Decoders consume from the front of `in`; nullopt on malformed input.
std::optional<std::uint16_t> get_u16(std::string_view& in);
std::optional<std::uint32_t> get_u32(std::string_view& in);
std::optional<std::uint64_t> get_u64(std::string_view& in);
std::optional<std::int64_t> get_i64(std::string_view& in);
std::optional<std::string> get_string(std::string_view& in);

/// The ledger key of (service, record key): put_u16(service) + put_string(key).
/// Service ids are 1..65535 (config validates); higher bits are dropped, and
/// state_store rejects ids > 65535 before building keys.
std::string ledger_key(std::uint32_t service, std::string_view record_key);

} // namespace stampede::key_codec
