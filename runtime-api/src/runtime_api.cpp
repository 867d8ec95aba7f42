#include "ember/runtime_api/runtime_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>
#include <random>
#include <regex>

#include "ember/runtime_api/extensions_api.hpp"
#include "ember/runtime_api/hex.hpp"
#include "ember/runtime_api/limits.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "streamed_response.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

Response json_reply(http::status status, std::string_view error_type, std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = error_body(error_type, message);
  return res;
}

Response accepted() {
  Response res{http::status::accepted, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"status":"OK"})";
  return res;
}

Response refusal_reply(RuntimeRefusal refusal, std::string_view what) {
  switch (refusal) {
    case RuntimeRefusal::kInvalidStateTransition:
      return json_reply(http::status::forbidden, "InvalidStateTransition",
                        std::string("State transition is not allowed: ") + std::string(what));
    case RuntimeRefusal::kInvalidRequestId:
      return json_reply(http::status::bad_request, "InvalidRequestID",
                        std::string("Invalid request ID: ") + std::string(what));
    case RuntimeRefusal::kWorkerGone:
      break;
  }
  // Nothing more will be served to this worker: end the connection with the answer.
  auto res = json_reply(http::status::internal_server_error, "ServiceException",
                        "The worker is shutting down");
  res.keep_alive(false);
  return res;
}

Response not_found(const Request& req) {
  return json_reply(http::status::not_found, "InvalidURI",
                    "No Runtime API route for " + std::string(req.method_string()) + " " +
                        std::string(req.target()));
}

// "invocation/{id}/response" -> {id, "response"}
std::optional<std::pair<std::string, std::string>> split_invocation_path(std::string_view rest) {
  constexpr std::string_view kInvocation = "invocation/";
  if (!rest.starts_with(kInvocation)) return std::nullopt;
  rest.remove_prefix(kInvocation.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::pair{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

// The answer just given completed an invocation, whose caller resumes from the executor's
// queue. Queue behind it, so the caller's answer is written before the runtime's 202: the
// caller waits for it, the runtime only for its next event.
boost::asio::awaitable<void> caller_first() {
#ifndef __clang_analyzer__
  co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
#else
  // clang-tidy's static analyzer (clang 14) follows post() into Asio's coroutine frame and
  // reports a null resume context there, which the frame always has when it runs.
  co_return;
#endif
}

// The event as a runtime receives it: the payload as the body, its context in headers.
Response event_reply(NextEvent& event) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, event.content_type);
  res.set("Lambda-Runtime-Aws-Request-Id", event.request_id);
  res.set("Lambda-Runtime-Deadline-Ms", std::to_string(event.deadline_epoch_ms));
  res.set("Lambda-Runtime-Invoked-Function-Arn", event.invoked_function_arn);
  if (!event.trace_id.empty()) res.set("Lambda-Runtime-Trace-Id", event.trace_id);
  if (!event.client_context.empty()) {
    res.set("Lambda-Runtime-Client-Context", event.client_context);
  }
  if (!event.cognito_identity.empty()) {
    res.set("Lambda-Runtime-Cognito-Identity", event.cognito_identity);
  }
  res.body() = std::move(event.payload);
  return res;
}

// GET invocation/next: waits for the worker's next event.
boost::asio::awaitable<Response> serve_next(RuntimeApiHandler& handler, const Request& req) {
  if (req.method() != http::verb::get) co_return not_found(req);
  RuntimeRefusal refusal = RuntimeRefusal::kWorkerGone;
  auto event = co_await handler.next(refusal);
  if (!event) {
    co_return refusal_reply(refusal, refusal == RuntimeRefusal::kInvalidStateTransition
                                         ? "next while an invocation is unanswered or another "
                                           "next is waiting"
                                         : "");
  }
  co_return event_reply(*event);
}

// POST init/error: the runtime failed to start.
Response serve_init_error(RuntimeApiHandler& handler, Request& req) {
  if (req.method() != http::verb::post) return not_found(req);
  auto type = normalise_error_type(req["Lambda-Runtime-Function-Error-Type"]);
  if (auto refused = handler.init_error(std::move(type), std::move(req.body()))) {
    return refusal_reply(*refused, "init/error after initialisation finished");
  }
  return accepted();
}

// POST invocation/{id}/response.
boost::asio::awaitable<Response> serve_response(RuntimeApiHandler& handler, Request& req,
                                                const std::string& id) {
  if (const auto mode = req["Lambda-Runtime-Function-Response-Mode"];
      !mode.empty() && mode != "buffered") {
    co_return json_reply(http::status::bad_request, "InvalidFunctionResponseMode",
                         "Response mode " + std::string(mode) + " is not supported");
  }
  std::string content_type(req[http::field::content_type]);
  if (auto refused = handler.response(id, std::move(content_type), std::move(req.body()))) {
    co_return refusal_reply(*refused, id);
  }
  co_await caller_first();
  co_return accepted();
}

// POST invocation/{id}/error.
boost::asio::awaitable<Response> serve_error(RuntimeApiHandler& handler, Request& req,
                                             const std::string& id) {
  auto type = normalise_error_type(req["Lambda-Runtime-Function-Error-Type"]);
  if (auto refused = handler.error(id, std::move(type), std::move(req.body()))) {
    co_return refusal_reply(*refused, id);
  }
  co_await caller_first();
  co_return accepted();
}

boost::asio::awaitable<Response> handle(std::weak_ptr<RuntimeApiHandler> weak, Request& req) {
  auto target = std::string_view(req.target());
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  // The Telemetry API is documented both with and without its trailing '/'.
  const bool telemetry = target == kTelemetryPath || target == std::string(kTelemetryPath) + "/";
  if (target.starts_with(kExtensionsPrefix) || telemetry) {
    auto handler = weak.lock();
    if (!handler) co_return refusal_reply(RuntimeRefusal::kWorkerGone, {});
    handler->observe(req);
    auto* extensions = handler->extensions();
    if (extensions == nullptr) co_return not_found(req);
    if (telemetry) co_return serve_telemetry_api(*extensions, req);
    co_return co_await serve_extensions_api(*extensions, req);
  }
  if (!target.starts_with(kPrefix)) co_return not_found(req);
  const auto rest = target.substr(kPrefix.size());
  auto handler = weak.lock();
  if (!handler) co_return refusal_reply(RuntimeRefusal::kWorkerGone, {});
  handler->observe(req);

  if (rest == "invocation/next") {
    co_return co_await serve_next(*handler, req);
  }
  if (rest == "init/error") co_return serve_init_error(*handler, req);
  auto parts = split_invocation_path(rest);
  if (!parts || req.method() != http::verb::post) co_return not_found(req);
  const auto& [id, verb] = *parts;
  if (verb == "response") {
    co_return co_await serve_response(*handler, req, id);
  }
  if (verb == "error") {
    co_return co_await serve_error(*handler, req, id);
  }
  co_return not_found(req);
}

// POST invocation/{id}/response with Lambda-Runtime-Function-Response-Mode: streaming, whose
// body is read as it arrives (streamed_response.cpp).
bool is_streamed_response(const Request& head) {
  if (head.method() != http::verb::post ||
      head["Lambda-Runtime-Function-Response-Mode"] != "streaming") {
    return false;
  }
  const auto target = std::string_view(head.target());
  if (!target.starts_with(kPrefix)) return false;
  const auto parts = split_invocation_path(target.substr(kPrefix.size()));
  return parts && parts->second == "response";
}

boost::asio::awaitable<Response> handle_streamed_response(std::weak_ptr<RuntimeApiHandler> weak,
                                                          Request& head, BodyReader& body) {
  auto handler = weak.lock();
  if (!handler) co_return refusal_reply(RuntimeRefusal::kWorkerGone, {});
  handler->observe(head);
  const std::string id =
      split_invocation_path(std::string_view(head.target()).substr(kPrefix.size()))->first;
  const auto answer = co_await serve_streamed_response(*handler, head, body, id);
  if (answer.refusal) co_return refusal_reply(*answer.refusal, id);
  if (answer.exceeded_limit != 0) {
    co_return json_reply(
        http::status::payload_too_large, "RequestEntityTooLarge",
        "Response must be smaller than " + std::to_string(answer.exceeded_limit) + " bytes");
  }
  co_await caller_first();
  co_return accepted();
}

}  // namespace

std::string error_body(std::string_view error_type, std::string_view message) {
  boost::json::object body;
  body["errorMessage"] = message;
  body["errorType"] = error_type;
  return boost::json::serialize(body);
}

std::string error_message_of(std::string_view body, std::string_view otherwise) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (const auto* message = value.as_object().if_contains("errorMessage");
        message != nullptr && message->is_string()) {
      return std::string(message->as_string());
    }
  }
  return std::string(otherwise);
}

// X-Ray style: Root=1-<epoch hex>-<96 random bits>;Parent=<64 bits>;Sampled=0. Trace ids need
// not be secret: a generator seeded once per thread saves a getrandom() per invocation.
std::string new_trace_id() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device entropy;
    std::seed_seq seed{entropy(), entropy(), entropy(), entropy()};
    return std::mt19937_64(seed);
  }();
  std::string text = "Root=1-";
  text.reserve(sizeof "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0");
  append_hex(text, static_cast<std::uint64_t>(std::time(nullptr)), 8);
  text.push_back('-');
  append_hex(text, generator(), 8);
  append_hex(text, generator(), 16);
  text.append(";Parent=");
  append_hex(text, generator(), 16);
  text.append(";Sampled=0");
  return text;
}

std::string normalise_error_type(std::string_view header_value) {
  static const std::regex kShape("(Runtime|Function)\\.[A-Z][a-zA-Z]+");
  std::string value(header_value);
  if (std::regex_match(value, kShape)) return value;
  return value.starts_with("Function") ? "Function.Unknown" : "Runtime.Unknown";
}

HttpApi make_runtime_api(const std::weak_ptr<RuntimeApiHandler>& handler) {
  HttpApi api;
  api.handle = [handler](Request& req, const Peer& /*peer*/) { return handle(handler, req); };
  api.too_large = [handler](const Request& req) {
    // An oversized answer still ends its invocation, with Lambda's error for it.
    auto target = std::string_view(req.target());
    if (target.starts_with(kPrefix)) {
      if (auto parts = split_invocation_path(target.substr(kPrefix.size()));
          parts && parts->second == "response") {
        if (auto h = handler.lock()) h->response_too_large(parts->first);
      }
    }
    return json_reply(http::status::payload_too_large, "RequestEntityTooLarge",
                      "Request must be smaller than " + std::to_string(kMaxPayloadBytes) +
                          " bytes for the invoke operation");
  };
  api.malformed = [](std::string_view what) {
    return json_reply(http::status::bad_request, "InvalidRequest", what);
  };
  api.streams_request = is_streamed_response;
  api.handle_request_stream = [handler](Request& head, BodyReader& body, const Peer& /*peer*/) {
    return handle_streamed_response(handler, head, body);
  };
  return api;
}

ServerLimits runtime_api_limits() {
  ServerLimits limits;
  limits.body_bytes = kMaxPayloadBytes;
  // The runtime and up to 10 extensions each hold connections, all from the sandbox's one
  // address: the per-client cap is the whole cap.
  limits.max_connections = 32;
  limits.max_connections_per_client = 32;
  // A runtime may hold its connection idle for a whole invocation (up to 900 s) before it
  // posts the response on it.
  limits.idle = std::chrono::seconds(960);
  return limits;
}

}  // namespace ember::runtime_api
