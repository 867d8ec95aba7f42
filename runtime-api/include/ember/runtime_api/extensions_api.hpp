// The Lambda Extensions API (2020-01-01), served on a worker's Runtime API address: what an
// extension may ask (register, event/next, init/error, exit/error) and Lambda's refusals. The
// requests are checked here; what they mean for the worker is its handler's to decide.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::runtime_api {

inline constexpr std::string_view kExtensionsPrefix = "/2020-01-01/extension/";

struct TelemetrySubscription;  // telemetry_api.hpp

// The events an extension subscribes to, as bits.
enum ExtensionEvents : unsigned {
  kNoEvents = 0,
  kInvokeEvent = 1U << 0U,
  kShutdownEvent = 1U << 1U,
};

// An answer other than success: the status and Lambda's errorType (e.g. 403
// Extension.UnknownExtensionIdentifier).
struct ExtensionRefusal {
  boost::beast::http::status status = boost::beast::http::status::forbidden;
  std::string error_type;
  std::string message;
};

// A registration accepted: the identifier and the body's function fields.
struct ExtensionRegistration {
  std::string identifier;
  std::string function_name;
  std::string function_version = "$LATEST";
  std::string handler;
};

// What the engine does with each call of one worker's extensions.
class ExtensionsApiHandler {
 public:
  ExtensionsApiHandler() = default;
  ExtensionsApiHandler(const ExtensionsApiHandler&) = delete;
  ExtensionsApiHandler& operator=(const ExtensionsApiHandler&) = delete;
  ExtensionsApiHandler(ExtensionsApiHandler&&) = delete;
  ExtensionsApiHandler& operator=(ExtensionsApiHandler&&) = delete;
  virtual ~ExtensionsApiHandler() = default;

  // `name` is non-empty; `events` a set of ExtensionEvents.
  virtual std::variant<ExtensionRegistration, ExtensionRefusal> register_extension(
      const std::string& name, unsigned events) = 0;
  // Waits for the extension's next event, whose JSON is the payload (the runtime's event
  // type carries it: one channel type for both); nullopt plus a refusal when refused.
  virtual boost::asio::awaitable<std::optional<NextEvent>> next_extension_event(
      const std::string& identifier, ExtensionRefusal& refusal) = 0;
  // init/error (`at_init`) or exit/error; error_type is Category.Reason.
  virtual std::optional<ExtensionRefusal> extension_error(const std::string& identifier,
                                                          bool at_init, std::string error_type,
                                                          std::string body) = 0;
  // PUT /2022-07-01/telemetry with a body that passed Lambda's checks (telemetry_api.hpp).
  virtual std::optional<ExtensionRefusal> subscribe_telemetry(
      const std::string& identifier, const TelemetrySubscription& subscription) = 0;
};

// Serves one request whose path starts with kExtensionsPrefix.
boost::asio::awaitable<Response> serve_extensions_api(ExtensionsApiHandler& handler, Request& req);

// A refusal with Lambda's 403 and `error_type`.
ExtensionRefusal extension_forbidden(std::string error_type, std::string message);

}  // namespace ember::runtime_api
