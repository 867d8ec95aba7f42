// Lower-case hexadecimal, ember's one encoder: SHA-256 sums, ETags, request and trace ids,
// and the \xNN escapes of logs. It lives here, the lowest library every user links (engine,
// cli and the tests do; image cannot, see image/src/sha256.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ember::runtime_api {

// Appends the lowest `digits` hex digits of `value`, most significant first:
// append_hex(out, 0x1f, 2) appends "1f", append_hex(out, 0x1f, 4) appends "001f".
void append_hex(std::string& out, std::uint64_t value, std::size_t digits);

// `bytes` as hex, two digits a byte: "\x01\xab" is "01ab".
std::string hex_encode(std::span<const unsigned char> bytes);
std::string hex_encode(std::string_view bytes);

}  // namespace ember::runtime_api
