// What an asynchronous invocation's outcome looks like at its destinations, in Lambda's
// shapes: the invocation record of on_success / on_failure destinations, and the dead-letter
// message (the original event with its error attributes, as Lambda sends to its DLQ).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "ember/queue/event_queue.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

enum class Condition { kSuccess, kRetriesExhausted, kEventAgeExceeded };

std::string_view condition_name(Condition condition);

// The last attempt's answer, when one ran.
struct AttemptAnswer {
  std::string payload;         // what the function returned, or its error document
  std::string function_error;  // "Unhandled" when it failed
};

// {"version":"1.0","timestamp","requestContext":{"requestId","functionArn","condition",
// "approximateInvokeCount"},"requestPayload","responseContext":{"statusCode",
// "executedVersion","functionError"},"responsePayload"}. `function_arn` is unqualified.
// Without an answer (an event that expired before any attempt ran) responseContext and
// responsePayload are left out.
std::string invocation_record(Condition condition, const queue::Event& event,
                              std::string_view function_arn, const AttemptAnswer* answer,
                              std::chrono::system_clock::time_point now);

// {"body": the original event (text), "messageAttributes": {"RequestID", "ErrorCode",
// "ErrorMessage"}} with SQS's attribute shape ({"dataType","stringValue"}).
std::string dead_letter_message(const queue::Event& event, std::string_view error_message);

// runtime_api's: errorMessage of an error document, or the text itself when it is not one.
// The engine's callers (async_dispatcher.cpp, worker_extensions.cpp) name it unqualified.
using runtime_api::error_message_of;

}  // namespace ember::engine
