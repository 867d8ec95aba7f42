#include "ember/runtime_api/http_routes.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>

#include "ember/runtime_api/limits.hpp"
#include "ember/runtime_api/response_stream.hpp"
#include "http_formats.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;
namespace json = boost::json;
using http_event::Converted;

namespace {

struct RouteTable {
  std::vector<HttpRoute> routes;
  HttpSite site;
  std::shared_ptr<HttpRouteStats> stats;  // may be null
};

bool is_function_url(const HttpRoute& route) {
  return route.format == HttpEventFormat::kFunctionUrl;
}

// An error of the route itself, in the service's style: ALB's HTML pages, a Function URL's
// JSON. `why` goes into X-Ember-Error for whoever debugs it.
Response error_response(http::status status, const HttpRoute* route, std::string_view why) {
  Response response(status, 11);
  const std::string title =
      std::to_string(static_cast<int>(status)) + " " + std::string(http::obsolete_reason(status));
  if (route != nullptr && is_function_url(*route)) {
    response.set(http::field::content_type, "application/json");
    response.body() = json::serialize(json::object{{"Message", title}});
  } else {
    response.set(http::field::content_type, "text/html");
    response.body() = "<html>\r\n<head><title>" + title +
                      "</title></head>\r\n<body>\r\n<center><h1>" + title +
                      "</h1></center>\r\n</body>\r\n</html>\r\n";
  }
  if (!why.empty()) response.set("X-Ember-Error", why);
  return response;
}

// "Sandbox.Timedout" in the error document is the engine's timeout.
bool timed_out(const InvokeResult& result) {
  json::error_code ec;
  const json::value error = json::parse(result.payload, ec);
  if (ec || !error.is_object()) return false;
  const auto* type = error.get_object().if_contains("errorType");
  return type != nullptr && type->is_string() && type->get_string() == "Sandbox.Timedout";
}

Response service_error_response(const InvokeResult& result, const HttpRoute& route) {
  switch (*result.service_error) {
    case ServiceError::kTooManyRequests: {
      // ALB reports a throttled target as unavailable; a Function URL passes Lambda's 429 on.
      Response response = error_response(is_function_url(route) ? http::status::too_many_requests
                                                                : http::status::service_unavailable,
                                         &route, result.message);
      if (result.retry_after_seconds) {
        response.set(http::field::retry_after, std::to_string(*result.retry_after_seconds));
      }
      return response;
    }
    case ServiceError::kServiceUnavailable:
      return error_response(http::status::service_unavailable, &route, result.message);
    case ServiceError::kRequestTooLarge:
      return error_response(http::status::payload_too_large, &route, result.message);
    default:
      return error_response(
          is_function_url(route) ? http::status::internal_server_error : http::status::bad_gateway,
          &route, result.message);
  }
}

Response to_http(const InvokeResult& result, const HttpRoute& route) {
  if (result.service_error) return service_error_response(result, route);
  if (!result.function_error.empty()) {
    if (timed_out(result)) {
      return error_response(http::status::gateway_timeout, &route, "the function timed out");
    }
    return error_response(http::status::bad_gateway, &route,
                          "the function failed (" + result.function_error + ")");
  }
  Converted converted = is_function_url(route)
                            ? http_event::function_url_response(result.payload)
                            : http_event::alb_response(result.payload, route.multi_value_headers);
  if (auto* why = std::get_if<std::string>(&converted)) {
    return error_response(http::status::bad_gateway, &route, "invalid response document: " + *why);
  }
  return std::get<Response>(std::move(converted));
}

// Why the route does not take this request; empty when it does.
std::optional<Response> refusal(const Request& req, const HttpRoute& route) {
  if (!route.methods.empty() && std::find(route.methods.begin(), route.methods.end(),
                                          req.method_string()) == route.methods.end()) {
    Response response =
        error_response(http::status::method_not_allowed, &route,
                       "the route does not answer " + std::string(req.method_string()));
    std::string allow;
    for (const auto& method : route.methods) allow += (allow.empty() ? "" : ", ") + method;
    response.set(http::field::allow, allow);
    return response;
  }
  if (boost::beast::iequals(req[http::field::upgrade], "websocket")) {
    return error_response(http::status::bad_request, &route, "WebSocket is not supported");
  }
  if (!is_function_url(route) && req.body().size() > http_event::kAlbMaxBytes) {
    return error_response(http::status::payload_too_large, &route,
                          "an ALB route takes request bodies up to 1 MB");
  }
  return std::nullopt;
}

// Reads a streamed answer up to the end of its prelude (kHttpIntegrationResponse) or to its
// first bytes: the head of the HTTP answer, and the body bytes already read in `pending`.
// An error response when the stream failed first or its prelude is invalid.
boost::asio::awaitable<Response> streamed_head(ResponseStream& stream, const HttpRoute& route,
                                               std::string& pending) {
  constexpr std::size_t kMaxPrelude = 64 * 1024;
  const bool with_prelude = stream.content_type() == http_event::kHttpIntegrationResponse;
  auto separator = std::string::npos;
  const auto have_head = [&] {
    if (!with_prelude) return !pending.empty();
    separator = pending.find(http_event::kPreludeEnd);
    return separator != std::string::npos || pending.size() > kMaxPrelude;
  };
  while (!have_head()) {
    auto bytes = co_await stream.read();
    if (!bytes) break;
    pending += *bytes;
  }
  if (!stream.end().error_type.empty() && pending.empty()) {
    co_return error_response(http::status::bad_gateway, &route,
                             "the function failed (" + stream.end().error_type + ")");
  }
  if (!with_prelude) {
    Response head(http::status::ok, 11);
    head.set(http::field::content_type, stream.content_type());
    co_return head;
  }
  if (separator == std::string::npos) {
    co_return error_response(http::status::bad_gateway, &route,
                             "the streamed response has no prelude ending in 8 NUL bytes");
  }
  auto head = http_event::streaming_prelude_head(std::string_view(pending).substr(0, separator));
  pending.erase(0, separator + http_event::kPreludeEnd.size());
  if (auto* why = std::get_if<std::string>(&head)) {
    co_return error_response(http::status::bad_gateway, &route, "invalid prelude: " + *why);
  }
  co_return std::get<Response>(std::move(head));
}

// A Function URL whose function streams answers with chunks as they come. An error after
// the head ends the connection without the last chunk, so the client sees the body is cut.
boost::asio::awaitable<bool> answer_streamed(ResponseStream& stream, const RouteTable& table,
                                             const HttpRoute& route, const std::string& request_id,
                                             ResponseWriter& writer) {
  std::string pending;
  Response head = co_await streamed_head(stream, route, pending);
  head.set("X-Amzn-RequestId", request_id);
  if (table.stats) table.stats->count(route.function, head.result_int());
  if (head.result() == http::status::bad_gateway && head.count("X-Ember-Error") != 0) {
    stream.abandon();
    co_return co_await writer.send(std::move(head));
  }
  bool written = co_await writer.begin(std::move(head));
  if (written) {
    written = co_await writer.chunk(pending);
  }
  while (written) {
    auto bytes = co_await stream.read();
    if (!bytes) break;
    written = co_await writer.chunk(*bytes);
  }
  if (!written) {
    stream.abandon();
    co_return false;
  }
  if (!stream.end().error_type.empty()) co_return false;
  co_return co_await writer.end();
}

boost::asio::awaitable<bool> answer(InvokeService& service, const RouteTable& table, Request& req,
                                    const Peer& peer, ResponseWriter& writer) {
  const HttpRoute* route = match_route(table.routes, http_event::raw_path(req));
  if (route == nullptr) {
    co_return co_await writer.send(
        error_response(http::status::not_found, nullptr, "no route for this path"));
  }
  if (auto refused = refusal(req, *route)) {
    if (table.stats) table.stats->count(route->function, refused->result_int());
    co_return co_await writer.send(std::move(*refused));
  }

  InvokeRequest invoke;
  invoke.request_id = new_request_id();
  invoke.received = std::chrono::steady_clock::now();
  const http_event::Call call{req, peer, invoke.request_id, std::chrono::system_clock::now()};
  invoke.payload = is_function_url(*route)
                       ? http_event::function_url_request(call, *route, table.site)
                       : http_event::alb_request(call, *route, table.site);
  if (invoke.payload.size() > kMaxPayloadBytes) {
    co_return co_await writer.send(error_response(http::status::payload_too_large, route,
                                                  "the event is larger than Lambda's 6 MB"));
  }
  invoke.function.name = route->function;
  // A Function URL streams what its function streams (InvokeMode RESPONSE_STREAM); ALB buffers.
  invoke.stream = is_function_url(*route);
  const std::string request_id = invoke.request_id;
  const InvokeResult result = co_await service.invoke(std::move(invoke));
  if (result.stream) {
    co_return co_await answer_streamed(*result.stream, table, *route, request_id, writer);
  }
  Response response = to_http(result, *route);
  response.set("X-Amzn-RequestId", request_id);
  if (table.stats) table.stats->count(route->function, response.result_int());
  co_return co_await writer.send(std::move(response));
}

}  // namespace

const HttpRoute* match_route(const std::vector<HttpRoute>& routes, std::string_view path) {
  const HttpRoute* best = nullptr;
  for (const HttpRoute& route : routes) {
    const std::string_view prefix = route.path;
    const bool matches =
        prefix == "/" ||
        (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/'));
    if (matches && (best == nullptr || prefix.size() > best->path.size())) best = &route;
  }
  return best;
}

void HttpRouteStats::count(const std::string& function, unsigned status) {
  auto& counts = counts_[function];
  ++counts.requests;
  if (status >= 200 && status < 600) ++counts.by_class.at(status / 100 - 2);
}

void HttpRouteStats::describe(json::object& node_status,
                              const std::vector<HttpRoute>& routes) const {
  auto* functions = node_status.if_contains("functions");
  if (functions == nullptr || !functions->is_array()) return;
  for (auto& function : functions->as_array()) {
    auto& object = function.as_object();
    const auto route = std::find_if(routes.begin(), routes.end(), [&](const HttpRoute& r) {
      return object["name"].is_string() && r.function == object["name"].get_string();
    });
    if (route == routes.end()) continue;
    json::array methods;
    for (const auto& method : route->methods) methods.emplace_back(method);
    const auto it = counts_.find(route->function);
    const Counts counts = it == counts_.end() ? Counts{} : it->second;
    object["http"] = {{"path", route->path},
                      {"format", is_function_url(*route) ? "function_url" : "alb"},
                      {"methods", std::move(methods)},
                      {"requests", counts.requests},
                      {"2xx", counts.by_class[0]},
                      {"3xx", counts.by_class[1]},
                      {"4xx", counts.by_class[2]},
                      {"5xx", counts.by_class[3]}};
  }
}

HttpApi make_http_routes_api(InvokeService& service, std::vector<HttpRoute> routes, HttpSite site,
                             std::shared_ptr<HttpRouteStats> stats) {
  auto table = std::make_shared<const RouteTable>(
      RouteTable{std::move(routes), std::move(site), std::move(stats)});
  HttpApi api;
  // Every answer goes through a ResponseWriter, since a Function URL's may be streamed.
  api.handle = [](Request& /*req*/, const Peer& /*peer*/) -> boost::asio::awaitable<Response> {
    co_return error_response(http::status::internal_server_error, nullptr, "unreachable");
  };
  api.streams_response = [](const Request& /*req*/) { return true; };
  api.handle_response_stream = [&service, table](Request& req, const Peer& peer,
                                                 ResponseWriter& writer) {
    return answer(service, *table, req, peer, writer);
  };
  api.too_large = [](const Request& /*req*/) {
    return error_response(http::status::payload_too_large, nullptr,
                          "the request body is larger than 6 MB");
  };
  api.malformed = [](std::string_view what) {
    return error_response(http::status::bad_request, nullptr, what);
  };
  return api;
}

ServerLimits http_routes_limits() {
  ServerLimits limits;
  limits.header_bytes = 64 * 1024;
  limits.body_bytes = kMaxPayloadBytes;
  limits.idle = std::chrono::seconds(60);  // ALB's default idle timeout
  limits.max_connections = 1024;
  return limits;
}

}  // namespace ember::runtime_api
