// AWS event stream messages (application/vnd.amazon.eventstream), as InvokeWithResponseStream
// answers: a prelude (total length, headers length, CRC32), string headers, the payload and a
// message CRC32. Only the encoder: ember never reads event streams.
#pragma once

#include <string>
#include <string_view>

namespace ember::runtime_api {

// An `event` message whose headers are :event-type, :content-type and :message-type.
std::string event_stream_message(std::string_view event_type, std::string_view content_type,
                                 std::string_view payload);

// PayloadChunk: a piece of the function's response.
std::string payload_chunk_event(std::string_view bytes);

// InvokeComplete: {"ErrorCode","ErrorDetails","LogResult"}, each left out when empty;
// log_result is already base64.
std::string invoke_complete_event(std::string_view error_code, std::string_view error_details,
                                  std::string_view log_result);

}  // namespace ember::runtime_api
