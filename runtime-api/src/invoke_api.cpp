#include "ember/runtime_api/invoke_api.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <limits>

#include "ember/runtime_api/base64.hpp"
#include "ember/runtime_api/control_api.hpp"
#include "ember/runtime_api/event_stream.hpp"
#include "ember/runtime_api/invoke_request.hpp"
#include "ember/runtime_api/limits.hpp"
#include "ember/runtime_api/log_api.hpp"
#include "ember/runtime_api/response_stream.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;

namespace {

// Checks JSON without building a value: the warm path only needs to know the payload parses,
// and a DOM of a 1 KB event costs a few microseconds of allocations.
class JsonChecker {
  struct Handler {
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();
    using error_code = boost::json::error_code;
    using string_view = boost::json::string_view;
    // Every callback accepts: the parser itself checks the syntax.
    static bool on_document_begin(error_code& /*ec*/) { return true; }
    static bool on_document_end(error_code& /*ec*/) { return true; }
    static bool on_array_begin(error_code& /*ec*/) { return true; }
    static bool on_array_end(std::size_t /*size*/, error_code& /*ec*/) { return true; }
    static bool on_object_begin(error_code& /*ec*/) { return true; }
    static bool on_object_end(std::size_t /*size*/, error_code& /*ec*/) { return true; }
    static bool on_string_part(string_view /*text*/, std::size_t /*size*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_string(string_view /*text*/, std::size_t /*size*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_key_part(string_view /*text*/, std::size_t /*size*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_key(string_view /*text*/, std::size_t /*size*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_number_part(string_view /*text*/, error_code& /*ec*/) { return true; }
    static bool on_int64(std::int64_t /*value*/, string_view /*text*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_uint64(std::uint64_t /*value*/, string_view /*text*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_double(double /*value*/, string_view /*text*/, error_code& /*ec*/) {
      return true;
    }
    static bool on_bool(bool /*value*/, error_code& /*ec*/) { return true; }
    static bool on_null(error_code& /*ec*/) { return true; }
    static bool on_comment_part(string_view /*text*/, error_code& /*ec*/) { return true; }
    static bool on_comment(string_view /*text*/, error_code& /*ec*/) { return true; }
  };

 public:
  // The same rules as boost::json::parse with default options; ec says why not.
  static void check(std::string_view text, boost::system::error_code& ec) {
    boost::json::basic_parser<Handler> parser{boost::json::parse_options{}};
    const auto n = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  }
};

struct ErrorShape {
  http::status status;
  std::string_view type;
  std::string_view origin;  // Lambda's "Type": who is at fault
};

ErrorShape shape_of(ServiceError error) {
  switch (error) {
    case ServiceError::kResourceNotFound:
      return {http::status::not_found, "ResourceNotFoundException", "User"};
    case ServiceError::kInvalidParameterValue:
      return {http::status::bad_request, "InvalidParameterValueException", "User"};
    case ServiceError::kInvalidRequestContent:
      return {http::status::bad_request, "InvalidRequestContentException", "User"};
    case ServiceError::kRequestTooLarge:
      return {http::status::payload_too_large, "RequestTooLargeException", "User"};
    case ServiceError::kTooManyRequests:
      return {http::status::too_many_requests, "TooManyRequestsException", "User"};
    case ServiceError::kServiceUnavailable:
      return {http::status::service_unavailable, "ServiceException", "Service"};
    case ServiceError::kMissingAuthenticationToken:
      return {http::status::forbidden, "MissingAuthenticationTokenException", "User"};
    case ServiceError::kIncompleteSignature:
      return {http::status::bad_request, "IncompleteSignatureException", "User"};
    case ServiceError::kUnrecognizedClient:
      return {http::status::forbidden, "UnrecognizedClientException", "User"};
    case ServiceError::kInvalidSignature:
      return {http::status::forbidden, "InvalidSignatureException", "User"};
    case ServiceError::kAccessDenied:
      return {http::status::forbidden, "AccessDeniedException", "User"};
    case ServiceError::kService:
      break;
  }
  return {http::status::internal_server_error, "ServiceException", "Service"};
}

Response service_error_reply(const std::string& request_id, ServiceError error,
                             std::string_view message, std::string_view reason = {},
                             std::optional<int> retry_after = std::nullopt) {
  const auto shape = shape_of(error);
  Response res{shape.status, 11};
  res.set(http::field::content_type, "application/json");
  res.set("x-amzn-RequestId", request_id);
  res.set("x-amzn-ErrorType", shape.type);
  boost::json::object body;
  body["Type"] = shape.origin;
  body["Message"] = message;
  if (!reason.empty()) body["Reason"] = reason;
  if (retry_after) res.set(http::field::retry_after, std::to_string(*retry_after));
  res.body() = boost::json::serialize(body);
  return res;
}

using Rejection = InvokeRejection;

using HeaderValue = boost::beast::string_view;

// ?Qualifier=, which must agree with a qualifier in the function name. An empty ?Qualifier=
// names no version, as Lambda's pattern (|[a-zA-Z0-9$_-]+) allows.
std::optional<Rejection> read_qualifier(const boost::urls::url_view& url, FunctionRef& function) {
  const auto q = url.params().find("Qualifier");
  if (q == url.params().end() || (*q).value.empty()) return std::nullopt;
  const std::string qualifier((*q).value);
  if (auto why = qualifier_error(qualifier)) {
    return Rejection{ServiceError::kInvalidParameterValue, "Invalid Qualifier: " + *why};
  }
  if (function.qualifier && *function.qualifier != qualifier) {
    return Rejection{ServiceError::kInvalidParameterValue,
                     "The derived qualifier from the function name does not match the specified "
                     "qualifier."};
  }
  function.qualifier = qualifier;
  return std::nullopt;
}

// X-Amz-Invocation-Type; none means RequestResponse.
std::optional<Rejection> read_invocation_type(HeaderValue type, InvocationType& out) {
  if (type.empty() || type == "RequestResponse") {
    out = InvocationType::kRequestResponse;
  } else if (type == "Event") {
    out = InvocationType::kEvent;
  } else if (type == "DryRun") {
    out = InvocationType::kDryRun;
  } else {
    return Rejection{ServiceError::kInvalidParameterValue,
                     "X-Amz-Invocation-Type '" + std::string(type) +
                         "' must be one of RequestResponse, Event, DryRun"};
  }
  return std::nullopt;
}

// X-Amz-Log-Type: Tail, None or nothing.
std::optional<Rejection> read_log_type(HeaderValue log_type, bool& log_tail) {
  if (log_type == "Tail") {
    log_tail = true;
  } else if (!log_type.empty() && log_type != "None") {
    return Rejection{ServiceError::kInvalidParameterValue,
                     "X-Amz-Log-Type '" + std::string(log_type) + "' must be None or Tail"};
  }
  return std::nullopt;
}

// X-Amz-Client-Context: Base64 of a JSON object, bounded; decoded into `decoded_out`.
std::optional<Rejection> read_client_context(HeaderValue context, std::string& decoded_out) {
  if (context.empty()) return std::nullopt;
  if (context.size() > kMaxClientContextBytes) {
    return Rejection{ServiceError::kInvalidParameterValue,
                     "X-Amz-Client-Context is " + std::to_string(context.size()) +
                         " bytes; the limit is " + std::to_string(kMaxClientContextBytes)};
  }
  auto decoded = base64_decode(context);
  boost::system::error_code ec;
  if (decoded) boost::json::parse(*decoded, ec);
  if (!decoded || ec) {
    return Rejection{ServiceError::kInvalidRequestContent,
                     "Client context must be a valid Base64-encoded JSON object."};
  }
  decoded_out = std::move(*decoded);
  return std::nullopt;
}

// The body, which must be JSON; an empty body is the event {}. An Event invocation's is
// stored and queued, so its limit is Lambda's 256 KB rather than 6 MB.
std::optional<Rejection> read_payload(std::string& body, InvocationType type,
                                      std::string& payload) {
  if (type == InvocationType::kEvent && body.size() > kMaxAsyncPayloadBytes) {
    return Rejection{ServiceError::kRequestTooLarge,
                     "Request must be smaller than " + std::to_string(kMaxAsyncPayloadBytes) +
                         " bytes for the InvokeAsync operation (got " +
                         std::to_string(body.size()) + " bytes)"};
  }
  if (body.empty()) {
    payload = "{}";
    return std::nullopt;
  }
  boost::system::error_code ec;
  JsonChecker::check(body, ec);
  if (ec) {
    return Rejection{ServiceError::kInvalidRequestContent,
                     "Could not parse request body into json: " + ec.message()};
  }
  payload = std::move(body);
  return std::nullopt;
}

// The invoke routes: POST /2015-03-31/functions/{FunctionName}/invocations and
// /2021-11-15/functions/{FunctionName}/response-streaming-invocations.
struct InvokeRoute {
  std::string function;  // the FunctionName segment, percent-decoded
  bool streaming = false;
};
std::optional<InvokeRoute> route_of(const boost::urls::url_view& url) {
  std::vector<std::string> segments;
  for (auto segment : url.segments()) segments.emplace_back(segment);
  if (segments.size() != 4 || segments[1] != "functions") return std::nullopt;
  if (segments[0] == "2015-03-31" && segments[3] == "invocations") {
    return InvokeRoute{std::move(segments[2]), false};
  }
  if (segments[0] == "2021-11-15" && segments[3] == "response-streaming-invocations") {
    return InvokeRoute{std::move(segments[2]), true};
  }
  return std::nullopt;
}

}  // namespace

std::variant<InvokeRequest, InvokeRejection> parse_invoke_request(Request& req,
                                                                  const std::string& id) {
  auto bad = [](ServiceError e, std::string m) { return Rejection{e, std::move(m)}; };
  if (req.method() != http::verb::post) {
    return bad(ServiceError::kResourceNotFound, "No route for " + std::string(req.method_string()) +
                                                    " " + std::string(req.target()));
  }
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return bad(ServiceError::kInvalidParameterValue, "Malformed request target");
  const auto route = route_of(*url);
  if (!route) {
    return bad(ServiceError::kResourceNotFound,
               "No route for POST " + std::string(url->path()) +
                   "; invoke is POST /2015-03-31/functions/{FunctionName}/invocations, "
                   "InvokeWithResponseStream POST "
                   "/2021-11-15/functions/{FunctionName}/response-streaming-invocations");
  }
  const bool streaming = route->streaming;

  InvokeRequest out;
  out.stream = streaming;
  out.request_id = id;
  out.received = std::chrono::steady_clock::now();
  out.want_timings = req["X-Ember-Timings"] == "1";
  auto parsed = parse_function_ref(route->function);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return bad(ServiceError::kInvalidParameterValue, "Invalid FunctionName: " + *why);
  }
  out.function = std::get<FunctionRef>(std::move(parsed));
  if (auto rejection = read_qualifier(*url, out.function)) return *std::move(rejection);
  if (auto rejection = read_invocation_type(req["X-Amz-Invocation-Type"], out.type)) {
    return *std::move(rejection);
  }
  if (streaming && out.type == InvocationType::kEvent) {
    return bad(ServiceError::kInvalidParameterValue,
               "InvokeWithResponseStream takes X-Amz-Invocation-Type RequestResponse or DryRun, "
               "not Event");
  }
  if (auto rejection = read_log_type(req["X-Amz-Log-Type"], out.log_tail)) {
    return *std::move(rejection);
  }
  if (auto rejection = read_client_context(req["X-Amz-Client-Context"], out.client_context)) {
    return *std::move(rejection);
  }
  if (auto rejection = read_payload(req.body(), out.type, out.payload)) {
    return *std::move(rejection);
  }
  return out;
}

namespace {

ServiceError service_error_of(AuthError error) {
  switch (error) {
    case AuthError::kMissingAuthenticationToken:
      return ServiceError::kMissingAuthenticationToken;
    case AuthError::kIncompleteSignature:
      return ServiceError::kIncompleteSignature;
    case AuthError::kUnrecognizedClient:
      return ServiceError::kUnrecognizedClient;
    case AuthError::kInvalidSignature:
      return ServiceError::kInvalidSignature;
    case AuthError::kAccessDenied:
      break;
  }
  return ServiceError::kAccessDenied;
}

bool is_status_request(const Request& req) {
  return req.method() == http::verb::get && req.target() == "/ember/v1/functions";
}

// GET /: the status page (a browser's reload sends the same target).
bool is_status_page_request(const Request& req) {
  return req.method() == http::verb::get && req.target() == "/";
}

// node.auth's verdict, before anything else looks at the request: nothing when it may go on,
// else the refusal. A key must allow the function it invokes; the status route needs "*". A
// request that names no function it could parse goes on, to be refused for that.
bool is_reload_request(const Request& req) {
  return req.method() == http::verb::post && req.target() == "/ember/v1/reload";
}

std::optional<Response> refusal_of(const Authenticator& auth, const Request& req,
                                   const std::string& only_function) {
  auto who = auth.authenticate(req);
  std::optional<AuthRefusal> refusal;
  if (auto* refused = std::get_if<AuthRefusal>(&who)) {
    refusal = std::move(*refused);
  } else if (is_status_request(req) || is_status_page_request(req) || is_control_request(req) ||
             is_reload_request(req) || is_logs_request(req)) {
    // The node's state and its functions' code: keys that may invoke every function ("*").
    refusal = Authenticator::authorize_status(*std::get<const Credential*>(who));
  } else if (auto url = boost::urls::parse_origin_form(req.target())) {
    const auto route = route_of(*url);
    std::variant<FunctionRef, std::string> function =
        route ? parse_function_ref(route->function) : std::string("not an invoke route");
    if (auto* ref = std::get_if<FunctionRef>(&function)) {
      const std::string& name = only_function.empty() ? ref->name : only_function;
      refusal = auth.authorize_invoke(*std::get<const Credential*>(who), name);
    }
  }
  if (!refusal) return std::nullopt;
  return service_error_reply(new_request_id(), service_error_of(refusal->error), refusal->message);
}

// "cold=1;sandbox_begin=-12;spawned=850;...": microseconds since the request was received;
// negative for what happened before it (a warm worker's start).
std::string format_timings(const InvokeRequest& request, const InvokeResult& result) {
  std::string text = result.cold ? "cold=1" : "cold=0";
  for (const auto& phase : result.phases) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(phase.at - request.received).count();
    text.append(";").append(phase.name).append("=").append(std::to_string(us));
  }
  return text;
}

// The last 4 KB of a log, base64, as X-Amz-Log-Result and InvokeComplete's LogResult carry it.
std::string log_result(std::string_view tail) {
  if (tail.size() > kLogTailBytes) tail = tail.substr(tail.size() - kLogTailBytes);
  return base64_encode(tail);
}

Response result_reply(const InvokeRequest& request, InvokeResult result) {
  if (result.service_error) {
    return service_error_reply(request.request_id, *result.service_error, result.message,
                               result.reason, result.retry_after_seconds);
  }
  const auto status = result.dry_run    ? http::status::no_content
                      : result.accepted ? http::status::accepted
                                        : http::status::ok;
  Response res{status, 11};
  res.set("x-amzn-RequestId", request.request_id);
  if (result.dry_run || result.accepted) return res;
  res.set("X-Amz-Executed-Version", result.executed_version);
  res.set(http::field::content_type,
          result.content_type.empty() ? std::string("application/json") : result.content_type);
  if (!result.function_error.empty()) res.set("X-Amz-Function-Error", result.function_error);
  if (request.want_timings) res.set("X-Ember-Timings", format_timings(request, result));
  if (request.log_tail) res.set("X-Amz-Log-Result", log_result(result.log_tail));
  res.body() = std::move(result.payload);
  return res;
}

// Forwards a runtime's stream as PayloadChunk events while it arrives; the end it reached.
// False when the caller went away.
[[maybe_unused]] boost::asio::awaitable<bool> forward_chunks(ResponseStream& stream,
                                                             ResponseWriter& writer) {
#ifdef __clang_analyzer__
  // See write_event_stream.
  co_return false;
#else
  while (auto bytes = co_await stream.read()) {
    if (!co_await writer.chunk(payload_chunk_event(*bytes))) {
      stream.abandon();
      co_return false;
    }
  }
  co_return true;
#endif
}

// The head of InvokeWithResponseStream's answer.
[[maybe_unused]] Response event_stream_head(const InvokeRequest& request,
                                            const InvokeResult& result) {
  Response head{http::status::ok, 11};
  head.set("x-amzn-RequestId", request.request_id);
  head.set("X-Amz-Executed-Version", result.executed_version);
  head.set(http::field::content_type, "application/vnd.amazon.eventstream");
  return head;
}

// InvokeWithResponseStream's answer: PayloadChunk events, then InvokeComplete.
boost::asio::awaitable<bool> write_event_stream(const InvokeRequest& request,
                                                const InvokeResult& result,
                                                ResponseWriter& writer) {
#ifdef __clang_analyzer__
  // clang-tidy's static analyzer (clang 14) does not model coroutine frames: it takes the
  // frame of a coroutine that awaits another one for uninitialised memory, inside Asio's
  // await_transform (as in runtime_api.cpp's caller_first). It sees no body here.
  co_return false;
#else
  if (!co_await writer.begin(event_stream_head(request, result))) co_return false;
  StreamEnd end;
  if (result.stream) {
    if (!co_await forward_chunks(*result.stream, writer)) co_return false;
    end = result.stream->end();
  } else {
    // A runtime that answered whole: its answer is the one chunk.
    end = stream_end_of(result);
    if (end.error_type.empty() && !result.payload.empty() &&
        !co_await writer.chunk(payload_chunk_event(result.payload))) {
      co_return false;
    }
  }
  const std::string logs = request.log_tail ? log_result(end.log_tail) : std::string();
  if (!co_await writer.chunk(invoke_complete_event(end.error_type, end.error_details, logs))) {
    co_return false;
  }
  co_return co_await writer.end();
#endif
}

// POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations.
boost::asio::awaitable<bool> handle_stream_request(InvokeService& service, Request& req,
                                                   ResponseWriter& writer,
                                                   const std::string& only_function,
                                                   const Authenticator* auth) {
  if (auth != nullptr) {
    if (auto refusal = refusal_of(*auth, req, only_function)) {
      co_return co_await writer.send(*std::move(refusal));
    }
  }
  const std::string id = new_request_id();
  auto parsed = parse_invoke_request(req, id);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    co_return co_await writer.send(service_error_reply(id, rejection->error, rejection->message));
  }
  auto request = std::get<InvokeRequest>(std::move(parsed));
  if (!only_function.empty()) request.function.name = only_function;
  auto result = co_await service.invoke(request);
  if (result.service_error || result.dry_run) {
    co_return co_await writer.send(result_reply(request, std::move(result)));
  }
  co_return co_await write_event_stream(request, result, writer);
}

// GET /ember/v1/logs/NAME, after node.auth (which wants a "*" key, as the status does).
boost::asio::awaitable<bool> handle_logs(LogService& logs, Request& req, ResponseWriter& writer,
                                         const Authenticator* auth) {
  if (auth != nullptr) {
    if (auto refusal = refusal_of(*auth, req, {})) return writer.send(*std::move(refusal));
  }
  return handle_logs_request(logs, req, writer);
}

bool is_stream_request(const Request& req) {
  return std::string_view(req.target()).starts_with("/2021-11-15/functions/");
}

// A finished answer, for the dispatcher that returns awaitables.
boost::asio::awaitable<Response> answer_now(Response res) { co_return res; }

// GET /ember/v1/functions: the node's status, completed by `add` (its HTTP routes' counts).
boost::asio::awaitable<Response> status_answer(
    StatusService& status, const std::function<void(boost::json::object&)>& add) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  boost::json::object out = co_await status.status();
  if (add) add(out);
  res.body() = boost::json::serialize(out);
  co_return res;
}

// POST /ember/v1/reload: 200 with what changed, 400 when the file was refused.
boost::asio::awaitable<Response> reload_answer(ReloadService& reload) {
  boost::json::object out = co_await reload.reload();
  Response res{out.contains("refused") ? http::status::bad_request : http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = boost::json::serialize(out);
  co_return res;
}

// GET /: the same status as an HTML page. The page has no script and loads nothing: the
// policy says so to the browser too, so even a text the page failed to escape could not run.
boost::asio::awaitable<Response> status_page_answer(
    StatusService& status, const std::function<void(boost::json::object&)>& add,
    const std::function<std::string(const boost::json::object&)>& render) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
          "form-action 'none'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  boost::json::object out = co_await status.status();
  if (add) add(out);
  res.body() = render(out);
  co_return res;
}

// GET /metrics in Prometheus' text exposition format, version 0.0.4.
boost::asio::awaitable<Response> metrics_answer(MetricsService& metrics) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = co_await metrics.metrics();
  co_return res;
}

}  // namespace

std::string new_request_id() {
  // One generator per thread, seeded once from the entropy source: ids must be unique, not
  // secret, and a getrandom() per request is a syscall on the warm path.
  thread_local boost::uuids::random_generator_mt19937 generator;
  return boost::uuids::to_string(generator());
}

boost::asio::awaitable<Response> handle_invoke_request(InvokeService& service, Request& req,
                                                       const std::string& only_function) {
  const std::string id = new_request_id();
  auto parsed = parse_invoke_request(req, id);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    co_return service_error_reply(id, rejection->error, rejection->message);
  }
  auto request = std::get<InvokeRequest>(std::move(parsed));
  if (!only_function.empty()) request.function.name = only_function;
  auto result = co_await service.invoke(request);
  co_return result_reply(request, std::move(result));
}

namespace {

// Not a coroutine: it picks the route and returns that route's awaitable, which the server
// awaits (one coroutine fewer per request, and nothing for clang's analyzer to misread).
boost::asio::awaitable<Response> route(InvokeService& service, const InvokeApiOptions& options,
                                       Request& req) {
  if (options.auth) {
    if (auto refusal = refusal_of(*options.auth, req, options.only_function)) {
      return answer_now(*std::move(refusal));
    }
  }
  if (options.status != nullptr && is_status_request(req)) {
    return status_answer(*options.status, options.add_to_status);
  }
  if (options.status != nullptr && options.status_page && is_status_page_request(req)) {
    return status_page_answer(*options.status, options.add_to_status, options.status_page);
  }
  if (options.control != nullptr && is_control_request(req)) {
    return handle_control_request(*options.control, req);
  }
  if (options.reload != nullptr && is_reload_request(req)) {
    return reload_answer(*options.reload);
  }
  if (options.metrics != nullptr && req.method() == http::verb::get && req.target() == "/metrics") {
    return metrics_answer(*options.metrics);
  }
  return handle_invoke_request(service, req, options.only_function);
}

}  // namespace

HttpApi make_invoke_api(InvokeService& service, InvokeApiOptions options) {
  HttpApi api;
  api.streams_response = [logs = options.logs](const Request& req) {
    return is_stream_request(req) || (logs != nullptr && is_logs_request(req));
  };
  api.handle_response_stream = [&service, only = options.only_function, auth = options.auth,
                                logs = options.logs](Request& req, const Peer& /*peer*/,
                                                     ResponseWriter& writer) {
    if (logs != nullptr && is_logs_request(req)) return handle_logs(*logs, req, writer, auth.get());
    return handle_stream_request(service, req, writer, only, auth.get());
  };
  if (options.control != nullptr) {
    // Deployment packages are larger than the Invoke API's bodies: read by the control plane.
    api.streams_request = is_control_upload;
    ControlAdmission admit;
    if (options.auth) {
      admit = [auth = options.auth, only = options.only_function](const Request& req) {
        return refusal_of(*auth, req, only);
      };
    }
    api.handle_request_stream = [control = options.control, admit = std::move(admit)](
                                    Request& head, BodyReader& body, const Peer& /*peer*/) {
      return handle_control_upload(*control, head, body, admit);
    };
  }
  api.handle = [&service, options = std::move(options)](Request& req, const Peer& /*peer*/) {
    return route(service, options, req);
  };
  api.too_large = [](const Request& req) {
    std::string length(req[http::field::content_length]);
    return service_error_reply(
        new_request_id(), ServiceError::kRequestTooLarge,
        "Request must be smaller than " + std::to_string(kMaxPayloadBytes) +
            " bytes for the InvokeFunction operation" +
            (length.empty() ? std::string() : " (got " + length + " bytes)"));
  };
  api.malformed = [](std::string_view what) {
    return service_error_reply(new_request_id(), ServiceError::kInvalidRequestContent,
                               "Malformed HTTP request: " + std::string(what));
  };
  return api;
}

ServerLimits invoke_api_limits() {
  ServerLimits limits;
  limits.body_bytes = kMaxPayloadBytes;
  limits.idle = std::chrono::seconds(120);
  // Bounds reading one request and writing one answer; the wait for the function in between
  // is not limited here (the function's own timeout ends it).
  limits.transfer = std::chrono::seconds(60);
  limits.max_connections = 1024;
  return limits;
}

}  // namespace ember::runtime_api
