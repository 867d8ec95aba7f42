#include "ember/runtime_api/extensions_api.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "ember/runtime_api/invoke_api.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kIdentifierHeader = "Lambda-Extension-Identifier";

Response json_reply(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response refusal_reply(const ExtensionRefusal& refusal) {
  return json_reply(refusal.status, error_body(refusal.error_type, refusal.message));
}

// A register body Lambda cannot take: 400, as the AWS docs answer it (RIE says 403).
ExtensionRefusal bad_request(std::string error_type, std::string message) {
  auto refusal = extension_forbidden(std::move(error_type), std::move(message));
  refusal.status = http::status::bad_request;
  return refusal;
}

// The events of a register body: {"events":[...]} with INVOKE and SHUTDOWN only; an empty
// body or list subscribes to nothing.
std::variant<unsigned, ExtensionRefusal> parse_events(std::string_view body) {
  if (body.empty()) return unsigned{kNoEvents};
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return bad_request("InvalidRequestFormat", "The register body is not a JSON object");
  }
  const auto* events = parsed.as_object().if_contains("events");
  if (events == nullptr) return unsigned{kNoEvents};
  if (!events->is_array()) {
    return bad_request("InvalidRequestFormat", "`events` must be a list of strings");
  }
  unsigned out = kNoEvents;
  for (const auto& event : events->as_array()) {
    const auto* name = event.if_string();
    if (name != nullptr && *name == "INVOKE") {
      out |= kInvokeEvent;
    } else if (name != nullptr && *name == "SHUTDOWN") {
      out |= kShutdownEvent;
    } else {
      return bad_request("Extension.InvalidEventType",
                         "Unknown event " + boost::json::serialize(event) +
                             ": an extension registers for INVOKE and SHUTDOWN");
    }
  }
  return out;
}

Response serve_register(ExtensionsApiHandler& handler, const Request& req) {
  const std::string name(req["Lambda-Extension-Name"]);
  if (name.empty()) {
    return refusal_reply(extension_forbidden("Extension.InvalidExtensionName",
                                             "Lambda-Extension-Name is missing or empty"));
  }
  auto events = parse_events(req.body());
  if (const auto* refused = std::get_if<ExtensionRefusal>(&events)) return refusal_reply(*refused);
  auto result = handler.register_extension(name, std::get<unsigned>(events));
  if (const auto* refused = std::get_if<ExtensionRefusal>(&result)) return refusal_reply(*refused);
  const auto& registration = std::get<ExtensionRegistration>(result);
  boost::json::object body;
  body["functionName"] = registration.function_name;
  body["functionVersion"] = registration.function_version;
  body["handler"] = registration.handler;
  auto res = json_reply(http::status::ok, boost::json::serialize(body));
  res.set(kIdentifierHeader, registration.identifier);
  return res;
}

// The identifier header, present and non-empty, or the refusal for it.
std::optional<ExtensionRefusal> check_identifier(const Request& req) {
  if (req[kIdentifierHeader].empty()) {
    return extension_forbidden("Extension.MissingExtensionIdentifier",
                               "Lambda-Extension-Identifier is missing");
  }
  return std::nullopt;
}

boost::asio::awaitable<Response> serve_next(ExtensionsApiHandler& handler, const Request& req) {
  if (auto refused = check_identifier(req)) co_return refusal_reply(*refused);
  ExtensionRefusal refusal;
  auto event = co_await handler.next_extension_event(std::string(req[kIdentifierHeader]), refusal);
  if (!event) co_return refusal_reply(refusal);
  auto res = json_reply(http::status::ok, std::move(event->payload));
  res.set("Lambda-Extension-Event-Identifier", new_request_id());
  co_return res;
}

Response serve_error(ExtensionsApiHandler& handler, Request& req, bool at_init) {
  if (auto refused = check_identifier(req)) return refusal_reply(*refused);
  const std::string type(req["Lambda-Extension-Function-Error-Type"]);
  if (type.empty()) {
    return refusal_reply(extension_forbidden("Extension.MissingHeader",
                                             "Lambda-Extension-Function-Error-Type is missing"));
  }
  if (auto refused = handler.extension_error(std::string(req[kIdentifierHeader]), at_init, type,
                                             std::move(req.body()))) {
    return refusal_reply(*refused);
  }
  return json_reply(http::status::accepted, R"({"status":"OK"})");
}

Response not_found(const Request& req) {
  return json_reply(
      http::status::not_found,
      error_body("InvalidURI", "No Extensions API route for " + std::string(req.method_string()) +
                                   " " + std::string(req.target())));
}

}  // namespace

ExtensionRefusal extension_forbidden(std::string error_type, std::string message) {
  ExtensionRefusal refusal;
  refusal.error_type = std::move(error_type);
  refusal.message = std::move(message);
  return refusal;
}

boost::asio::awaitable<Response> serve_extensions_api(ExtensionsApiHandler& handler, Request& req) {
  auto target = std::string_view(req.target());
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto rest = target.substr(kExtensionsPrefix.size());
  const bool post = req.method() == http::verb::post;
  if (rest == "register" && post) co_return serve_register(handler, req);
  if (rest == "event/next" && req.method() == http::verb::get) {
    co_return co_await serve_next(handler, req);
  }
  if (rest == "init/error" && post) co_return serve_error(handler, req, /*at_init=*/true);
  if (rest == "exit/error" && post) co_return serve_error(handler, req, /*at_init=*/false);
  co_return not_found(req);
}

}  // namespace ember::runtime_api
