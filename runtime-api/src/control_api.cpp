#include "ember/runtime_api/control_api.hpp"

#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>
#include <variant>
#include <vector>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;

namespace {

std::vector<std::string> path_segments(const boost::urls::url_view& url) {
  std::vector<std::string> segments;
  for (auto segment : url.segments()) {
    if (!segment.empty()) segments.emplace_back(segment);  // ListFunctions ends in '/'
  }
  return segments;
}

bool control_path(const std::vector<std::string>& s) {
  if (s.size() < 2 || s[1] != "functions") return false;
  if (s[0] == "2015-03-31") return !(s.size() == 4 && s[3] == "invocations");
  return (s[0] == "2017-10-31" || s[0] == "2019-09-30") && s.size() == 4 && s[3] == "concurrency";
}

struct RouteRule {
  http::verb method;
  std::string_view version;  // the path's first segment
  std::string_view suffix;   // the segment after {FunctionName}; "" for none
  bool names_function;       // the path has {FunctionName}
  ControlOp op;
  bool names_alias = false;  // the path ends in the alias's {Name}, after `suffix`
};

constexpr std::array<RouteRule, 17> kRoutes = {{
    {http::verb::post, "2015-03-31", "", false, ControlOp::kCreateFunction},
    {http::verb::get, "2015-03-31", "", false, ControlOp::kListFunctions},
    {http::verb::get, "2015-03-31", "", true, ControlOp::kGetFunction},
    {http::verb::delete_, "2015-03-31", "", true, ControlOp::kDeleteFunction},
    {http::verb::get, "2015-03-31", "configuration", true, ControlOp::kGetFunctionConfiguration},
    {http::verb::put, "2015-03-31", "configuration", true, ControlOp::kUpdateFunctionConfiguration},
    {http::verb::put, "2015-03-31", "code", true, ControlOp::kUpdateFunctionCode},
    {http::verb::put, "2017-10-31", "concurrency", true, ControlOp::kPutFunctionConcurrency},
    {http::verb::delete_, "2017-10-31", "concurrency", true, ControlOp::kDeleteFunctionConcurrency},
    {http::verb::get, "2019-09-30", "concurrency", true, ControlOp::kGetFunctionConcurrency},
    {http::verb::post, "2015-03-31", "versions", true, ControlOp::kPublishVersion},
    {http::verb::get, "2015-03-31", "versions", true, ControlOp::kListVersionsByFunction},
    {http::verb::post, "2015-03-31", "aliases", true, ControlOp::kCreateAlias},
    {http::verb::get, "2015-03-31", "aliases", true, ControlOp::kListAliases},
    {http::verb::get, "2015-03-31", "aliases", true, ControlOp::kGetAlias, true},
    {http::verb::put, "2015-03-31", "aliases", true, ControlOp::kUpdateAlias, true},
    {http::verb::delete_, "2015-03-31", "aliases", true, ControlOp::kDeleteAlias, true},
}};

// The rule of a method and path; null: no such route.
const RouteRule* route_of(http::verb method, const std::vector<std::string>& s) {
  for (const auto& rule : kRoutes) {
    const std::size_t size = !rule.names_function  ? 2
                             : rule.suffix.empty() ? 3
                             : rule.names_alias    ? 5
                                                   : 4;
    if (rule.method == method && s.size() == size && s[0] == rule.version &&
        (size < 4 || s[3] == rule.suffix)) {
      return &rule;
    }
  }
  return nullptr;
}

Response reply_of(const std::string& id, ControlResult result) {
  if (result.error) {
    return lambda_error_reply(id, result.error->status, result.error->type, result.error->message);
  }
  Response res{static_cast<http::status>(result.status), 11};
  res.set("x-amzn-RequestId", id);
  if (result.body) {
    res.set(http::field::content_type, "application/json");
    res.body() = boost::json::serialize(*result.body);
  }
  return res;
}

ControlResult bad_request(std::string message) {
  return ControlResult::fail(400, "InvalidParameterValueException", std::move(message));
}

// Each parse_* below fills its part of the request; the error answer when it cannot.
using ParseError = std::optional<ControlResult>;

// {FunctionName} of the path, and ?Qualifier=, which must agree with a qualifier in the name.
ParseError parse_function(const std::string& segment, const boost::urls::params_view& params,
                          FunctionRef& out) {
  auto parsed = parse_function_ref(segment);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return bad_request("Invalid FunctionName: " + *why);
  }
  out = std::get<FunctionRef>(std::move(parsed));
  const auto q = params.find("Qualifier");
  if (q == params.end() || (*q).value.empty()) return std::nullopt;
  if (auto why = qualifier_error((*q).value)) return bad_request("Invalid Qualifier: " + *why);
  if (out.qualifier && *out.qualifier != (*q).value) {
    return bad_request(
        "The derived qualifier from the function name does not match the specified qualifier.");
  }
  out.qualifier = (*q).value;
  return std::nullopt;
}

// The List routes' ?Marker= and ?MaxItems= (1 to 10000), and ListAliases' ?FunctionVersion=.
ParseError parse_listing(const boost::urls::params_view& params, ControlRequest& out) {
  if (out.op == ControlOp::kListAliases) {
    const auto version = params.find("FunctionVersion");
    if (version != params.end()) out.function_version = (*version).value;
  }
  if (out.op != ControlOp::kListFunctions && out.op != ControlOp::kListVersionsByFunction &&
      out.op != ControlOp::kListAliases) {
    return std::nullopt;
  }
  const auto marker = params.find("Marker");
  if (marker != params.end()) out.marker = (*marker).value;
  const auto max = params.find("MaxItems");
  if (max == params.end()) return std::nullopt;
  const std::string text((*max).value);
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > 10000) {
    return bad_request("MaxItems '" + text + "' must be an integer from 1 to 10000");
  }
  out.max_items = n;
  return std::nullopt;
}

// The body, a JSON object when there is one; moved out of `req` (a 70 MB upload is not kept
// twice).
ParseError parse_body(Request& req, ControlRequest& out) {
  if (req.body().empty()) return std::nullopt;
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body(), ec);
  if (ec || !body.is_object()) {
    return ControlResult::fail(400, "InvalidRequestContentException",
                               "Could not parse request body into json: " +
                                   (ec ? ec.message() : std::string("not an object")));
  }
  out.body = std::move(body.as_object());
  req.body().clear();
  return std::nullopt;
}

// Parses the target and body into a request; the error answer when they do not make one.
std::variant<ControlRequest, ControlResult> parse(Request& req, const std::string& id) {
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return bad_request("Malformed request target");
  const auto segments = path_segments(*url);
  const auto* route = route_of(req.method(), segments);
  if (route == nullptr) {
    return ControlResult::fail(404, "ResourceNotFoundException",
                               "No control-plane route for " + std::string(req.method_string()) +
                                   " " + std::string(url->path()));
  }
  ControlRequest out;
  out.request_id = id;
  out.op = route->op;
  const auto params = url->params();
  if (route->names_function) {
    if (auto error = parse_function(segments[2], params, out.function)) return std::move(*error);
  }
  if (route->names_alias) out.alias = segments[4];
  if (auto error = parse_listing(params, out)) return std::move(*error);
  if (auto error = parse_body(req, out)) return std::move(*error);
  return out;
}

}  // namespace

bool is_control_request(const Request& req) {
  const auto target = std::string_view(req.target());
  if (!target.starts_with("/2015-03-31/functions") && !target.starts_with("/2017-10-31/") &&
      !target.starts_with("/2019-09-30/")) {
    return false;
  }
  auto url = boost::urls::parse_origin_form(target);
  return url && control_path(path_segments(*url));
}

bool is_control_upload(const Request& head) {
  if (head.method() != http::verb::post && head.method() != http::verb::put) return false;
  const auto target = std::string_view(head.target());
  if (!target.starts_with("/2015-03-31/functions")) return false;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  const auto s = path_segments(*url);
  return (s.size() == 2 && head.method() == http::verb::post) ||
         (s.size() == 4 && s[3] == "code" && head.method() == http::verb::put);
}

boost::asio::awaitable<Response> handle_control_request(ControlService& service, Request& req) {
  const std::string id = new_request_id();
  auto parsed = parse(req, id);
  if (auto* refused = std::get_if<ControlResult>(&parsed)) co_return reply_of(id, *refused);
  auto result = co_await service.control(std::get<ControlRequest>(std::move(parsed)));
  co_return reply_of(id, std::move(result));
}

boost::asio::awaitable<Response> handle_control_upload(ControlService& service, Request& /*head*/,
                                                       BodyReader& body,
                                                       const ControlAdmission& admit) {
#ifdef __clang_analyzer__
  // clang-tidy's static analyzer (clang 14) does not model coroutine frames and takes the
  // frame of an awaited coroutine for uninitialised memory (see invoke_api.cpp's
  // write_event_stream): it sees no body here.
  (void)service;
  (void)body;
  (void)admit;
  co_return Response{};
#else
  std::string bytes;
  while (auto piece = co_await body.read()) {
    if (bytes.size() + piece->size() > kMaxControlBodyBytes) {
      co_return lambda_error_reply(new_request_id(), 413, "RequestEntityTooLargeException",
                                   "Request must be smaller than " +
                                       std::to_string(kMaxControlBodyBytes) +
                                       " bytes for the CreateFunction or UpdateFunctionCode "
                                       "operation");
    }
    bytes += *piece;
  }
  if (!body.complete()) {
    co_return lambda_error_reply(new_request_id(), 400, "InvalidRequestContentException",
                                 "The request body ended early or timed out");
  }
  Request req = body.head();
  req.body() = std::move(bytes);
  if (admit) {
    if (auto refusal = admit(req)) co_return *std::move(refusal);
  }
  co_return co_await handle_control_request(service, req);
#endif
}

Response lambda_error_reply(const std::string& request_id, unsigned status, std::string_view type,
                            std::string_view message) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.set("x-amzn-RequestId", request_id);
  res.set("x-amzn-ErrorType", type);
  boost::json::object body;
  body["Type"] = status >= 500 ? "Service" : "User";
  body["message"] = message;
  body["Message"] = message;
  res.body() = boost::json::serialize(body);
  return res;
}

}  // namespace ember::runtime_api
