// The Lambda Invoke API (2015-03-31) that clients call: requests, answers, and the service
// the engine implements behind it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/runtime_api/function_ref.hpp"
#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/invoke_auth.hpp"
#include "ember/runtime_api/reload_service.hpp"

namespace ember::runtime_api {

enum class InvocationType { kRequestResponse, kEvent, kDryRun };

class ResponseStream;
class ControlService;
class LogService;

// A validated Invoke call: the HTTP layer has checked the path, headers and payload.
struct InvokeRequest {
  std::string request_id;  // x-amzn-RequestId, made by the front door
  FunctionRef function;    // who is called
  InvocationType type = InvocationType::kRequestResponse;
  bool log_tail = false;       // X-Amz-Log-Type: Tail
  std::string client_context;  // decoded JSON, empty when none
  std::string payload;         // valid JSON ("{}" when the body was empty)
  // X-Ember-Timings: 1 asks for the engine's phase timestamps in the answer (for `ember bench`).
  bool want_timings = false;
  std::chrono::steady_clock::time_point received{};  // when the front door had the request
  // The caller reads the answer while it is written (InvokeWithResponseStream, a Function URL
  // route): a runtime that streams hands its bytes over as they come (InvokeResult::stream).
  bool stream = false;
};

// One named instant in the life of an invocation, for X-Ember-Timings.
struct Phase {
  std::string name;
  std::chrono::steady_clock::time_point at;
};

// Errors of the service itself (not of the function), with Lambda's names.
enum class ServiceError {
  kResourceNotFound,       // 404
  kInvalidParameterValue,  // 400
  kInvalidRequestContent,  // 400
  kRequestTooLarge,        // 413
  kTooManyRequests,        // 429
  kServiceUnavailable,     // 503 (node shutting down, event store full)
  kService,                // 500
  // node.auth refusals (invoke_auth.hpp), all before the request is parsed.
  kMissingAuthenticationToken,  // 403
  kIncompleteSignature,         // 400
  kUnrecognizedClient,          // 403
  kInvalidSignature,            // 403
  kAccessDenied,                // 403
};

struct InvokeResult {
  // Set for service errors; the rest then only uses message/reason/retry_after.
  std::optional<ServiceError> service_error;
  std::string message;
  std::string reason;                      // 429 only: why (Lambda's Reason field)
  std::optional<int> retry_after_seconds;  // 429 only

  bool dry_run = false;        // 204, nothing ran
  bool accepted = false;       // 202: an Event invocation is stored and will run
  std::string function_error;  // "Unhandled" when the function failed
  std::string error_type;      // the error's type when known (the runtime's /error header)
  std::string content_type = "application/json";
  std::string payload;
  std::string log_tail;  // raw text; the HTTP layer base64-encodes it
  std::string executed_version = "$LATEST";

  // Set when the runtime streams its answer to a caller that asked for a stream: the bytes
  // and how it ends come through it (payload and function_error stay empty here).
  std::shared_ptr<ResponseStream> stream;

  bool cold = false;          // a worker was started for this invocation
  std::vector<Phase> phases;  // in order; sent as microseconds since `received`
};

class InvokeService {
 public:
  InvokeService() = default;
  InvokeService(const InvokeService&) = delete;
  InvokeService& operator=(const InvokeService&) = delete;
  InvokeService(InvokeService&&) = delete;
  InvokeService& operator=(InvokeService&&) = delete;
  virtual ~InvokeService() = default;

  virtual boost::asio::awaitable<InvokeResult> invoke(InvokeRequest request) = 0;
};

// What the node reports about itself on GET /ember/v1/functions (`ember ps`).
class StatusService {
 public:
  StatusService() = default;
  StatusService(const StatusService&) = delete;
  StatusService& operator=(const StatusService&) = delete;
  StatusService(StatusService&&) = delete;
  StatusService& operator=(StatusService&&) = delete;
  virtual ~StatusService() = default;

  // Asks every part of the node (the event queue's thread too), hence awaitable.
  virtual boost::asio::awaitable<boost::json::object> status() = 0;
};

// What the node reports on GET /metrics: Prometheus' text exposition format.
class MetricsService {
 public:
  MetricsService() = default;
  MetricsService(const MetricsService&) = delete;
  MetricsService& operator=(const MetricsService&) = delete;
  MetricsService(MetricsService&&) = delete;
  MetricsService& operator=(MetricsService&&) = delete;
  virtual ~MetricsService() = default;

  // The whole text; asks every part of the node, hence awaitable.
  virtual boost::asio::awaitable<std::string> metrics() = 0;
};

// A new request id (a random UUID), as the front door gives every request.
std::string new_request_id();

// Parses and validates an Invoke API request; on success calls the service. When
// `only_function` is set, the request goes to that function whatever name its path gives
// (its qualifier is kept). Exposed for tests.
boost::asio::awaitable<Response> handle_invoke_request(InvokeService& service, Request& req,
                                                       const std::string& only_function = {});

struct InvokeApiOptions {
  // The node's status route (GET /ember/v1/functions) when set; must outlive the server.
  StatusService* status = nullptr;
  // GET /metrics when set (node.metrics); must outlive the server.
  MetricsService* metrics = nullptr;
  // Completes the status with what the node itself does not know (its HTTP routes' counts).
  std::function<void(boost::json::object&)> add_to_status;
  // GET /, the status page, when set (and `status` is): the status above, completed, made into
  // an HTML page by the engine (engine::render_status_page); runtime-api writes no HTML itself.
  std::function<std::string(const boost::json::object& status)> status_page;
  // Every request goes to this function, as aws-lambda-rie serves its one function at
  // /2015-03-31/functions/function/invocations (ember rie); empty: the path names it.
  std::string only_function;
  // node.auth: every request must carry a SigV4 signature of one of its credentials, and the
  // credential must allow the function; nullptr: no checking.
  std::shared_ptr<const Authenticator> auth;
  // The control plane (CreateFunction, GetFunction, ...) on the same port when set; must
  // outlive the server.
  ControlService* control = nullptr;
  // POST /ember/v1/reload when set (ember serve's file); must outlive the server.
  ReloadService* reload = nullptr;
  // GET /ember/v1/logs/NAME (log_api.hpp) when set; must outlive the server.
  LogService* logs = nullptr;
};

// The HttpApi of the Invoke API, for HttpServer. The service must outlive the server.
HttpApi make_invoke_api(InvokeService& service, InvokeApiOptions options = {});

ServerLimits invoke_api_limits();

}  // namespace ember::runtime_api
