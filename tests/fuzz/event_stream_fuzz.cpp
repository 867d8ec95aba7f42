// The event-stream encoder (runtime-api/src/event_stream.cpp) on what a function streams and
// the error it reports: every message's prelude states its own length and header length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ember/runtime_api/event_stream.hpp"

namespace {

std::uint32_t be32(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8U) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// Reads the frame back as a client would: prelude (12), string headers, payload, message CRC
// (4); the headers must be the three given and the payload the bytes given.
void check_frame(std::string_view message, std::string_view event_type,
                 std::string_view content_type, std::string_view payload) {
  if (message.size() < 16 || be32(message, 0) != message.size()) __builtin_trap();
  const std::size_t headers_end = 12 + std::size_t{be32(message, 4)};
  if (headers_end > message.size() - 4) __builtin_trap();
  std::string_view values[3];
  std::size_t at = 12;
  for (auto& value : values) {
    if (at >= headers_end) __builtin_trap();
    const std::size_t name_size = static_cast<unsigned char>(message[at]);
    at += 1 + name_size + 1;  // name, type byte
    if (at + 2 > headers_end) __builtin_trap();
    const std::size_t value_size = (std::size_t{static_cast<unsigned char>(message[at])} << 8U) |
                                   static_cast<unsigned char>(message[at + 1]);
    at += 2;
    if (at + value_size > headers_end) __builtin_trap();
    value = message.substr(at, value_size);
    at += value_size;
  }
  if (at != headers_end || values[0] != event_type || values[1] != content_type ||
      values[2] != "event") {
    __builtin_trap();
  }
  if (!payload.empty() &&
      message.substr(headers_end, message.size() - 4 - headers_end) != payload) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::runtime_api;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Three fields cut at the first two NULs (error code, details, log result); the whole input
  // is also one payload chunk.
  const auto a = input.find('\0');
  const auto first = input.substr(0, a);
  const auto rest = a == std::string_view::npos ? std::string_view{} : input.substr(a + 1);
  const auto b = rest.find('\0');
  const auto second = rest.substr(0, b);
  const auto third = b == std::string_view::npos ? std::string_view{} : rest.substr(b + 1);
  check_frame(payload_chunk_event(input), "PayloadChunk", "application/octet-stream", input);
  check_frame(invoke_complete_event(first, second, third), "InvokeComplete", "application/json",
              {});
  check_frame(event_stream_message(first, second, third), first, second, third);
  return 0;
}
