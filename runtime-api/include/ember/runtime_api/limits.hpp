// Lambda's documented size limits, shared by both APIs.
#pragma once

#include <cstddef>

namespace ember::runtime_api {

// Synchronous request and response payloads: 6 MB.
inline constexpr std::size_t kMaxPayloadBytes = 6 * 1024 * 1024;
// Streamed responses (Lambda-Runtime-Function-Response-Mode: streaming): Lambda's soft limit
// of 20 MB (raised to 200 MB in July 2025). Past it the stream ends with
// Function.ResponseSizeTooLarge and the runtime gets 413.
inline constexpr std::size_t kMaxStreamedResponseBytes = 20 * 1024 * 1024;
// Asynchronous (InvocationType: Event) payloads: 256 KB.
inline constexpr std::size_t kMaxAsyncPayloadBytes = 256 * 1024;
// Log tail returned by X-Amz-Log-Type: Tail.
inline constexpr std::size_t kLogTailBytes = 4 * 1024;
// X-Amz-Client-Context, base64 encoded.
inline constexpr std::size_t kMaxClientContextBytes = 3583;

}  // namespace ember::runtime_api
