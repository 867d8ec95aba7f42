#include "ember/runtime_api/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace ember::runtime_api {
namespace {

// EVP_*Block take int lengths; these chunks keep every call far below INT_MAX and are whole
// base64 quanta (3 bytes in, 4 characters out), so chunks concatenate without padding.
constexpr std::size_t kEncodeChunk = 3 * 1024 * 1024;
constexpr std::size_t kDecodeChunk = 4 * 1024 * 1024;

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// The value (0-63) of a character of the alphabet.
unsigned sextet(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a') + 26;
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0') + 52;
  return c == '+' ? 62 : 63;
}

// The canonical form only: a multiple of 4 characters from the alphabet, then at most two
// '=' at the very end, and before the '=' a character whose bits past the last byte are zero
// (RFC 4648 3.5: "QR==" would decode to "A" like "QQ==", found by tests/fuzz/base64_fuzz).
// EVP_DecodeBlock alone would skip surrounding whitespace and accept '=' elsewhere and
// those bits, so it only ever sees text that passed this.
std::optional<std::size_t> padding_of(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto data_end = text.find_last_not_of('=') + 1;  // npos + 1 == 0: all '='
  const std::size_t padding = text.size() - data_end;
  if (padding > 2) return std::nullopt;
  if (!std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(data_end),
                   in_alphabet)) {
    return std::nullopt;
  }
  // One '=': the last character holds 4 bits of data and 2 unused; two: 2 and 4 unused.
  const unsigned unused_bits = padding == 1 ? 0x3U : 0xFU;
  if (padding > 0 && (sextet(text[data_end - 1]) & unused_bits) != 0) return std::nullopt;
  return padding;
}

const unsigned char* bytes(const char* data) {
  return reinterpret_cast<const unsigned char*>(data);  // NOLINT: OpenSSL takes bytes
}

unsigned char* bytes(char* data) {
  return reinterpret_cast<unsigned char*>(data);  // NOLINT: OpenSSL takes bytes
}

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out((data.size() + 2) / 3 * 4, '\0');
  for (std::size_t at = 0; at < data.size(); at += kEncodeChunk) {
    const auto n = std::min(kEncodeChunk, data.size() - at);
    // Writes a NUL after the chunk: the next chunk's first byte, or out's own terminator.
    EVP_EncodeBlock(bytes(out.data() + at / 3 * 4), bytes(data.data() + at), static_cast<int>(n));
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  const auto padding = padding_of(text);
  if (!padding) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  for (std::size_t at = 0; at < text.size(); at += kDecodeChunk) {
    const auto n = std::min(kDecodeChunk, text.size() - at);
    if (EVP_DecodeBlock(bytes(out.data() + at / 4 * 3), bytes(text.data() + at),
                        static_cast<int>(n)) < 0) {
      return std::nullopt;
    }
  }
  // EVP_DecodeBlock decodes each '=' as zero bits and keeps the byte: drop one per '='.
  out.resize(out.size() - *padding);
  return out;
}

}  // namespace ember::runtime_api
