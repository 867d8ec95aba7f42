// The Lambda Telemetry API (2022-07-01): an extension's subscription (`PUT /2022-07-01/telemetry`)
// checked here against Lambda's rules; where its events go and how they are batched is the
// engine's (docs/runtimes.md, "Telemetry API").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ember/runtime_api/extensions_api.hpp"
#include "ember/runtime_api/http_server.hpp"

namespace ember::runtime_api {

inline constexpr std::string_view kTelemetryPath = "/2022-07-01/telemetry";

// The telemetry streams an extension subscribes to, as bits.
enum TelemetryTypes : unsigned {
  kNoTelemetry = 0,
  kPlatformTelemetry = 1U << 0U,
  kFunctionTelemetry = 1U << 1U,
  kExtensionTelemetry = 1U << 2U,
};

// Lambda's buffering limits: a batch goes out when any of them is reached.
struct TelemetryBuffering {
  static constexpr std::uint32_t kMinItems = 1000;
  static constexpr std::uint32_t kMaxItems = 10000;
  static constexpr std::uint32_t kMinBytes = 262144;
  static constexpr std::uint32_t kMaxBytes = 1048576;
  static constexpr std::uint32_t kMinTimeoutMs = 25;
  static constexpr std::uint32_t kMaxTimeoutMs = 30000;

  std::uint32_t max_items = kMaxItems;  // the telemetry-api page's default
  std::uint32_t max_bytes = kMinBytes;
  std::uint32_t timeout_ms = 1000;
};

// A subscription that passed Lambda's checks. The destination is an HTTP server on the
// sandbox's own loopback (`http://sandbox.localdomain:PORT/PATH`).
struct TelemetrySubscription {
  std::string schema_version;  // "2022-07-01", "2022-12-13" or "2025-01-29"
  unsigned types = kNoTelemetry;
  std::string uri;           // as given
  std::uint16_t port = 0;    // of the destination
  std::string target = "/";  // path and query of the destination
  TelemetryBuffering buffering;
};

// Checks a subscribe body; the subscription, or Lambda's 400 ValidationError naming the field.
std::variant<TelemetrySubscription, ExtensionRefusal> parse_telemetry_subscription(
    std::string_view body);

// The names of `types` in Lambda's order: ["platform","function","extension"].
std::vector<std::string> telemetry_type_names(unsigned types);

// Serves one request whose path is kTelemetryPath (with or without a trailing '/').
Response serve_telemetry_api(ExtensionsApiHandler& handler, Request& req);

}  // namespace ember::runtime_api
