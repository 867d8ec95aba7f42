#include "ember/runtime_api/event_stream.hpp"

#include <boost/crc.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>

namespace ember::runtime_api {

namespace {

// Prelude (12) and message CRC (4) around the headers and payload.
constexpr std::size_t kFrameBytes = 16;
constexpr std::uint8_t kStringHeader = 7;

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

// The CRC-32 of zlib and IEEE 802.3, as the framing specifies.
std::uint32_t crc32_of(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

// name length (u8), name, type 7, value length (u16), value.
void put_string_header(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  out.push_back(static_cast<char>(kStringHeader));
  out.push_back(static_cast<char>((value.size() >> 8U) & 0xFFU));
  out.push_back(static_cast<char>(value.size() & 0xFFU));
  out.append(value);
}

}  // namespace

std::string event_stream_message(std::string_view event_type, std::string_view content_type,
                                 std::string_view payload) {
  std::string headers;
  put_string_header(headers, ":event-type", event_type);
  put_string_header(headers, ":content-type", content_type);
  put_string_header(headers, ":message-type", "event");
  std::string out;
  out.reserve(kFrameBytes + headers.size() + payload.size());
  put_u32(out, static_cast<std::uint32_t>(kFrameBytes + headers.size() + payload.size()));
  put_u32(out, static_cast<std::uint32_t>(headers.size()));
  put_u32(out, crc32_of(out));
  out += headers;
  out += payload;
  put_u32(out, crc32_of(out));
  return out;
}

std::string payload_chunk_event(std::string_view bytes) {
  return event_stream_message("PayloadChunk", "application/octet-stream", bytes);
}

std::string invoke_complete_event(std::string_view error_code, std::string_view error_details,
                                  std::string_view log_result) {
  boost::json::object body;
  if (!error_code.empty()) body["ErrorCode"] = error_code;
  if (!error_details.empty()) body["ErrorDetails"] = error_details;
  if (!log_result.empty()) body["LogResult"] = log_result;
  return event_stream_message("InvokeComplete", "application/json", boost::json::serialize(body));
}

}  // namespace ember::runtime_api
