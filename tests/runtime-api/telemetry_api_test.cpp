// The Telemetry API's subscription body, checked as Lambda checks it: what passes, its
// defaults, and the 400 ValidationError naming the field of what does not.
#include "ember/runtime_api/telemetry_api.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ember::runtime_api::test {
namespace {

std::string body(const std::string& buffering = {},
                 const std::string& uri = "http://sandbox.localdomain:4243/telemetry",
                 const std::string& types = R"(["platform","function"])",
                 const std::string& version = "2022-12-13") {
  std::string out = R"({"schemaVersion":")" + version + R"(","types":)" + types +
                    R"(,"destination":{"protocol":"HTTP","URI":")" + uri + R"("})";
  if (!buffering.empty()) out += R"(,"buffering":)" + buffering;
  return out + "}";
}

TelemetrySubscription accepted(const std::string& text) {
  auto parsed = parse_telemetry_subscription(text);
  if (const auto* refused = std::get_if<ExtensionRefusal>(&parsed)) {
    ADD_FAILURE() << text << " refused: " << refused->message;
    return {};
  }
  return std::get<TelemetrySubscription>(parsed);
}

// The refusal's message, after checking it is Lambda's 400 ValidationError.
std::string refused(const std::string& text) {
  auto parsed = parse_telemetry_subscription(text);
  const auto* refusal = std::get_if<ExtensionRefusal>(&parsed);
  if (refusal == nullptr) {
    ADD_FAILURE() << text << " was accepted";
    return {};
  }
  EXPECT_EQ(refusal->status, boost::beast::http::status::bad_request) << text;
  EXPECT_EQ(refusal->error_type, "ValidationError") << text;
  return refusal->message;
}

TEST(TelemetrySubscription, AcceptsLambdasBodyAndFillsTheBufferingDefaults) {
  const auto s = accepted(body());
  EXPECT_EQ(s.schema_version, "2022-12-13");
  EXPECT_EQ(s.types, kPlatformTelemetry | kFunctionTelemetry);
  EXPECT_EQ(s.uri, "http://sandbox.localdomain:4243/telemetry");
  EXPECT_EQ(s.port, 4243);
  EXPECT_EQ(s.target, "/telemetry");
  EXPECT_EQ(s.buffering.max_items, 10000U);
  EXPECT_EQ(s.buffering.max_bytes, 262144U);
  EXPECT_EQ(s.buffering.timeout_ms, 1000U);
}

TEST(TelemetrySubscription, TakesEveryVersionTypeAndBufferingInRange) {
  for (const char* version : {"2022-07-01", "2022-12-13", "2025-01-29"}) {
    EXPECT_EQ(accepted(body({}, "http://sandbox.localdomain:8080", R"(["extension"])", version))
                  .schema_version,
              version);
  }
  const auto s = accepted(body(R"({"maxItems":1000,"maxBytes":1048576,"timeoutMs":25})",
                               "http://sandbox:1234", R"(["platform","function","extension"])"));
  EXPECT_EQ(s.types, kPlatformTelemetry | kFunctionTelemetry | kExtensionTelemetry);
  EXPECT_EQ(s.target, "/");  // no path: the root
  EXPECT_EQ(s.buffering.max_items, 1000U);
  EXPECT_EQ(s.buffering.max_bytes, 1048576U);
  EXPECT_EQ(s.buffering.timeout_ms, 25U);
  EXPECT_EQ(accepted(body(R"({"timeoutMs":30000,"maxItems":10000})")).buffering.timeout_ms, 30000U);
}

TEST(TelemetrySubscription, RefusesBufferingOutOfLambdasRanges) {
  EXPECT_EQ(refused(body(R"({"maxItems":999})")),
            "buffering.maxItems must be an integer from 1000 to 10000, not 999");
  EXPECT_EQ(refused(body(R"({"maxItems":10001})")),
            "buffering.maxItems must be an integer from 1000 to 10000, not 10001");
  EXPECT_EQ(refused(body(R"({"maxBytes":262143})")),
            "buffering.maxBytes must be an integer from 262144 to 1048576, not 262143");
  EXPECT_EQ(refused(body(R"({"timeoutMs":24})")),
            "buffering.timeoutMs must be an integer from 25 to 30000, not 24");
  EXPECT_TRUE(refused(body(R"({"timeoutMs":100.5})"))
                  .starts_with("buffering.timeoutMs must be an integer from 25 to 30000, not "));
  EXPECT_EQ(refused(body(R"({"timeoutMs":"100"})")),
            "buffering.timeoutMs must be an integer from 25 to 30000, not \"100\"");
  EXPECT_EQ(refused(body("[]")), "buffering must be an object");
}

TEST(TelemetrySubscription, RefusesDestinationsOutsideTheSandbox) {
  EXPECT_EQ(refused(body({}, "https://sandbox.localdomain:443/")),
            "destination.URI must start with http:// (Lambda delivers over plain HTTP)");
  EXPECT_EQ(refused(body({}, "http://example.com:80/")),
            "destination.URI's host must be sandbox.localdomain, not 'example.com'");
  EXPECT_EQ(refused(body({}, "http://sandbox.localdomain/")), "destination.URI must name a port");
  EXPECT_EQ(refused(body({}, "http://sandbox.localdomain:70000/")),
            "destination.URI's port '70000' is not a number in 1..65535");
  EXPECT_EQ(refused(body({}, "http://sandbox.localdomain:x/")),
            "destination.URI's port 'x' is not a number in 1..65535");
  EXPECT_EQ(refused(body({}, "http://sandbox.localdomain:9001/")),
            "destination.URI's port 9001 is reserved for the Runtime API");
  EXPECT_EQ(refused(R"({"schemaVersion":"2022-07-01","types":["platform"],)"
                    R"("destination":{"protocol":"TCP","port":4243}})"),
            "destination.protocol TCP is not supported by ember; use HTTP");
  EXPECT_EQ(refused(R"({"schemaVersion":"2022-07-01","types":["platform"]})"),
            "destination is required");
}

TEST(TelemetrySubscription, RefusesMissingOrUnknownVersionsAndTypes) {
  EXPECT_EQ(refused(body({}, "http://sandbox:1", R"(["platform"])", "2021-03-18")),
            "schemaVersion \"2021-03-18\" is not one of 2022-07-01, 2022-12-13, 2025-01-29");
  EXPECT_EQ(refused(R"({"types":["platform"]})"),
            "schemaVersion is required: 2022-07-01, 2022-12-13 or 2025-01-29");
  EXPECT_EQ(refused(body({}, "http://sandbox:1", "[]")),
            "types must be a non-empty list of platform, function, extension");
  EXPECT_EQ(refused(body({}, "http://sandbox:1", R"(["platform","logs"])")),
            "types: unknown type \"logs\" (platform, function and extension are the types)");
  EXPECT_EQ(refused("not json"), "The subscription body is not a JSON object");
}

TEST(TelemetrySubscription, TypeNamesComeInLambdasOrder) {
  EXPECT_EQ(telemetry_type_names(kExtensionTelemetry | kPlatformTelemetry),
            (std::vector<std::string>{"platform", "extension"}));
}

}  // namespace
}  // namespace ember::runtime_api::test
