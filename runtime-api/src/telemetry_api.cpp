#include "ember/runtime_api/telemetry_api.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::runtime_api {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kIdentifierHeader = "Lambda-Extension-Identifier";
constexpr std::uint16_t kReservedPort = 9001;  // the platform's own (Runtime API) port

ExtensionRefusal invalid(std::string message) {
  auto refusal = extension_forbidden("ValidationError", std::move(message));
  refusal.status = http::status::bad_request;
  return refusal;
}

// "http://sandbox.localdomain:PORT[/path]" (RIE also takes the host "sandbox"): the port and
// the request target, or why not.
std::variant<std::pair<std::uint16_t, std::string>, std::string> parse_destination_uri(
    std::string_view uri) {
  constexpr std::string_view kScheme = "http://";
  if (!uri.starts_with(kScheme)) {
    return "destination.URI must start with http:// (Lambda delivers over plain HTTP)";
  }
  auto rest = uri.substr(kScheme.size());
  const auto slash = rest.find_first_of("/?");
  const auto authority = rest.substr(0, slash);
  std::string target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (target.front() == '?') target.insert(0, "/");
  const auto colon = authority.rfind(':');
  const auto host = authority.substr(0, colon);
  if (host != "sandbox.localdomain" && host != "sandbox") {
    return "destination.URI's host must be sandbox.localdomain, not '" + std::string(host) + "'";
  }
  if (colon == std::string_view::npos) return std::string("destination.URI must name a port");
  const auto port_text = authority.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return "destination.URI's port '" + std::string(port_text) + "' is not a number in 1..65535";
  }
  if (port == kReservedPort) {
    return std::string("destination.URI's port 9001 is reserved for the Runtime API");
  }
  return std::pair{static_cast<std::uint16_t>(port), std::move(target)};
}

// buffering.NAME: absent keeps `value`; else an integer in [low, high].
std::optional<std::string> read_limit(const json::object& buffering, std::string_view name,
                                      std::uint32_t low, std::uint32_t high, std::uint32_t& value) {
  const auto* field = buffering.if_contains(name);
  if (field == nullptr) return std::nullopt;
  const auto out_of_range = "buffering." + std::string(name) + " must be an integer from " +
                            std::to_string(low) + " to " + std::to_string(high) + ", not " +
                            json::serialize(*field);
  if (!field->is_int64() && !field->is_uint64()) return out_of_range;
  const auto number = field->is_int64() ? field->as_int64() : 0;
  if (field->is_uint64() || number < low || number > high) return out_of_range;
  value = static_cast<std::uint32_t>(number);
  return std::nullopt;
}

std::optional<std::string> parse_types(const json::value* types, unsigned& out) {
  if (types == nullptr) return std::string("types is required");
  if (!types->is_array() || types->as_array().empty()) {
    return std::string("types must be a non-empty list of platform, function, extension");
  }
  for (const auto& type : types->as_array()) {
    const auto* name = type.if_string();
    if (name != nullptr && *name == "platform") {
      out |= kPlatformTelemetry;
    } else if (name != nullptr && *name == "function") {
      out |= kFunctionTelemetry;
    } else if (name != nullptr && *name == "extension") {
      out |= kExtensionTelemetry;
    } else {
      return "types: unknown type " + json::serialize(type) +
             " (platform, function and extension are the types)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> parse_destination(const json::value* destination,
                                             TelemetrySubscription& out) {
  if (destination == nullptr) return std::string("destination is required");
  if (!destination->is_object()) return std::string("destination must be an object");
  const auto& object = destination->as_object();
  const auto* protocol = object.if_contains("protocol");
  if (protocol == nullptr || !protocol->is_string()) {
    return std::string("destination.protocol is required: HTTP");
  }
  if (protocol->as_string() == "TCP") {
    return std::string("destination.protocol TCP is not supported by ember; use HTTP");
  }
  if (protocol->as_string() != "HTTP") {
    return "destination.protocol must be HTTP, not " + json::serialize(*protocol);
  }
  const auto* uri = object.if_contains("URI");
  if (uri == nullptr || !uri->is_string()) return std::string("destination.URI is required");
  auto parsed = parse_destination_uri(uri->as_string());
  if (auto* why = std::get_if<std::string>(&parsed)) return std::move(*why);
  auto& [port, target] = std::get<std::pair<std::uint16_t, std::string>>(parsed);
  out.uri = std::string(uri->as_string());
  out.port = port;
  out.target = std::move(target);
  return std::nullopt;
}

std::optional<std::string> parse_buffering(const json::value* buffering, TelemetryBuffering& out) {
  if (buffering == nullptr) return std::nullopt;
  if (!buffering->is_object()) return std::string("buffering must be an object");
  const auto& object = buffering->as_object();
  using B = TelemetryBuffering;
  if (auto why = read_limit(object, "maxItems", B::kMinItems, B::kMaxItems, out.max_items)) {
    return why;
  }
  if (auto why = read_limit(object, "maxBytes", B::kMinBytes, B::kMaxBytes, out.max_bytes)) {
    return why;
  }
  return read_limit(object, "timeoutMs", B::kMinTimeoutMs, B::kMaxTimeoutMs, out.timeout_ms);
}

Response reply(http::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

}  // namespace

std::variant<TelemetrySubscription, ExtensionRefusal> parse_telemetry_subscription(
    std::string_view body) {
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return invalid("The subscription body is not a JSON object");
  const auto& object = parsed.as_object();
  TelemetrySubscription out;
  const auto* version = object.if_contains("schemaVersion");
  if (version == nullptr || !version->is_string()) {
    return invalid("schemaVersion is required: 2022-07-01, 2022-12-13 or 2025-01-29");
  }
  const auto& version_text = version->as_string();
  if (version_text != "2022-07-01" && version_text != "2022-12-13" &&
      version_text != "2025-01-29") {
    return invalid("schemaVersion " + json::serialize(*version) +
                   " is not one of 2022-07-01, 2022-12-13, 2025-01-29");
  }
  out.schema_version = std::string(version_text);
  if (auto why = parse_types(object.if_contains("types"), out.types)) return invalid(*why);
  if (auto why = parse_destination(object.if_contains("destination"), out)) return invalid(*why);
  if (auto why = parse_buffering(object.if_contains("buffering"), out.buffering)) {
    return invalid(*why);
  }
  return out;
}

std::vector<std::string> telemetry_type_names(unsigned types) {
  std::vector<std::string> out;
  if ((types & kPlatformTelemetry) != 0) out.emplace_back("platform");
  if ((types & kFunctionTelemetry) != 0) out.emplace_back("function");
  if ((types & kExtensionTelemetry) != 0) out.emplace_back("extension");
  return out;
}

Response serve_telemetry_api(ExtensionsApiHandler& handler, Request& req) {
  const auto refused = [](const ExtensionRefusal& refusal) {
    return reply(refusal.status, "application/json",
                 error_body(refusal.error_type, refusal.message));
  };
  if (req.method() != http::verb::put) {
    return reply(
        http::status::not_found, "application/json",
        error_body("InvalidURI", "The Telemetry API takes PUT " + std::string(kTelemetryPath) +
                                     ", not " + std::string(req.method_string())));
  }
  const std::string identifier(req[kIdentifierHeader]);
  if (identifier.empty()) {
    return refused(extension_forbidden("Extension.MissingExtensionIdentifier",
                                       "Lambda-Extension-Identifier is missing"));
  }
  auto parsed = parse_telemetry_subscription(req.body());
  if (const auto* refusal = std::get_if<ExtensionRefusal>(&parsed)) return refused(*refusal);
  if (auto refusal =
          handler.subscribe_telemetry(identifier, std::get<TelemetrySubscription>(parsed))) {
    return refused(*refusal);
  }
  return reply(http::status::ok, "text/plain", "OK");
}

}  // namespace ember::runtime_api
