#include "ember/runtime_api/hex.hpp"

namespace ember::runtime_api {

void append_hex(std::string& out, std::uint64_t value, std::size_t digits) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  for (std::size_t i = digits; i > 0; --i) {
    const std::size_t shift = 4 * (i - 1);
    out.push_back(shift < 64 ? kDigits[(value >> shift) & 0xFU] : '0');
  }
}

std::string hex_encode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  for (const unsigned char byte : bytes) append_hex(out, byte, 2);
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  for (const char c : bytes) append_hex(out, static_cast<unsigned char>(c), 2);
  return out;
}

}  // namespace ember::runtime_api
