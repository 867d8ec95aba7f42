// The Lambda Runtime API (2018-06-01) served to one worker: routes and the worker's answers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/response_stream.hpp"

namespace ember::runtime_api {

class ExtensionsApiHandler;  // extensions_api.hpp

// One event as `GET /runtime/invocation/next` hands it to the runtime.
struct NextEvent {
  std::string request_id;
  std::int64_t deadline_epoch_ms = 0;
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;    // decoded JSON, empty when the caller sent none
  std::string cognito_identity;  // JSON, empty when none
  std::string content_type = "application/json";
  std::string payload;
};

// Why a runtime call was refused, with the status and errorType the spec gives it.
enum class RuntimeRefusal {
  kInvalidStateTransition,  // 403: the call is not allowed in the worker's current state
  kInvalidRequestId,        // 400: unknown or stale request id
  kWorkerGone,              // 500: the worker is being torn down
};

// Where a streamed response's bytes go, or why the runtime may not answer now.
struct StreamStart {
  std::optional<RuntimeRefusal> refusal;
  // Null without a refusal: the caller wants the whole answer (a buffered Invoke), so the API
  // collects the body (6 MB at most) and calls response() or error() with it.
  std::shared_ptr<ResponseStream> stream;
};

// What the engine does with each Runtime API call of one worker.
class RuntimeApiHandler {
 public:
  RuntimeApiHandler() = default;
  RuntimeApiHandler(const RuntimeApiHandler&) = delete;
  RuntimeApiHandler& operator=(const RuntimeApiHandler&) = delete;
  RuntimeApiHandler(RuntimeApiHandler&&) = delete;
  RuntimeApiHandler& operator=(RuntimeApiHandler&&) = delete;
  virtual ~RuntimeApiHandler() = default;

  // Waits until an event is assigned to this worker. nullopt plus a refusal when refused.
  virtual boost::asio::awaitable<std::optional<NextEvent>> next(RuntimeRefusal& refusal) = 0;
  // The function's result for request_id.
  virtual std::optional<RuntimeRefusal> response(const std::string& request_id,
                                                 std::string content_type, std::string body) = 0;
  // The function failed: error_type is already normalised (see normalise_error_type).
  virtual std::optional<RuntimeRefusal> error(const std::string& request_id, std::string error_type,
                                              std::string body) = 0;
  // The runtime tried to answer request_id with a body over the 6 MB limit; it gets 413.
  virtual void response_too_large(const std::string& request_id) = 0;
  // The runtime began a streamed response for request_id (Lambda-Runtime-Function-Response-Mode:
  // streaming) with this Content-Type. The default collects it as a buffered one.
  virtual StreamStart stream_response(const std::string& /*request_id*/,
                                      const std::string& /*content_type*/) {
    return {};
  }
  // The streamed response that stream_response() gave a stream ended: end.error_type is empty
  // on success, else the runtime's error (trailers) or Lambda's for a truncated or too large one.
  virtual void stream_ended(const std::string& /*request_id*/, const StreamEnd& /*end*/) {}
  // The runtime failed to initialise and will exit.
  virtual std::optional<RuntimeRefusal> init_error(std::string error_type, std::string body) = 0;
  // Sees each request as it arrives, before the call above that serves it (on the same
  // strand, nothing in between): `ember conform` reads the raw headers there, such as an
  // absent Lambda-Runtime-Function-Error-Type, which normalisation hides. The engine does not.
  virtual void observe(const Request& /*req*/) {}
  // The worker's Extensions API (2020-01-01) on the same address; nullptr: none (404).
  virtual ExtensionsApiHandler* extensions() { return nullptr; }
};

// Lambda-Runtime-Function-Error-Type values must look like Category.Reason; anything else
// becomes Runtime.Unknown (or Function.Unknown when it starts with "Function").
std::string normalise_error_type(std::string_view header_value);

// The error body of Lambda's APIs: {"errorMessage":"...","errorType":"..."}, as the Runtime
// API refuses a call and as a caller gets a function or platform error.
std::string error_body(std::string_view error_type, std::string_view message);

// The errorMessage of such a body (as a runtime or an extension posts it to an error route),
// or `otherwise` when `body` is not one: not JSON, not an object, no string errorMessage.
std::string error_message_of(std::string_view body, std::string_view otherwise);
// ... or `body` itself, for what a log line or a dead letter shows of any error document.
inline std::string error_message_of(std::string_view body) { return error_message_of(body, body); }

// A new Lambda-Runtime-Trace-Id, X-Ray's form:
// "Root=1-<epoch seconds, 8 hex>-<96 random bits>;Parent=<64 random bits>;Sampled=0".
std::string new_trace_id();

// Builds the HttpApi for one worker. The handler is held weakly: once the worker is gone
// every call gets a 500 and the connection closes.
HttpApi make_runtime_api(const std::weak_ptr<RuntimeApiHandler>& handler);

// Limits for a worker's Runtime API: 6 MB bodies, no idle limit while the runtime waits.
ServerLimits runtime_api_limits();

}  // namespace ember::runtime_api
