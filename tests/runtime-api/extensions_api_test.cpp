// The Extensions API (2020-01-01) over real HTTP, on the Runtime API's address, against a
// small extension registry written here to the ExtensionsApiHandler interface: the routes,
// headers and Lambda's refusals of malformed calls.
#include "ember/runtime_api/extensions_api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "ember/runtime_api/runtime_api.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "loopback.hpp"

namespace ember::runtime_api::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Registers anyone once (identifier "id-NAME"); `next` answers at once with a fixed INVOKE.
class FakeExtensions : public ExtensionsApiHandler {
 public:
  std::variant<ExtensionRegistration, ExtensionRefusal> register_extension(
      const std::string& name, unsigned events) override {
    if (registered.count(name) > 0) {
      return extension_forbidden("Extension.InvalidExtensionState", "registered already");
    }
    registered[name] = events;
    ExtensionRegistration out;
    out.identifier = "id-" + name;
    out.function_name = "echo";
    out.handler = "lambda_function.handler";
    return out;
  }
  asio::awaitable<std::optional<NextEvent>> next_extension_event(
      const std::string& identifier, ExtensionRefusal& refusal) override {
    if (!identifier.starts_with("id-") || registered.count(identifier.substr(3)) == 0) {
      refusal = extension_forbidden("Extension.UnknownExtensionIdentifier", "unknown");
      co_return std::nullopt;
    }
    NextEvent event;
    event.payload = R"({"eventType":"INVOKE","requestId":"r1"})";
    co_return event;
  }
  std::optional<ExtensionRefusal> extension_error(const std::string& identifier, bool at_init,
                                                  std::string error_type,
                                                  std::string /*body*/) override {
    errors.push_back(identifier + (at_init ? " init " : " exit ") + error_type);
    return std::nullopt;
  }
  std::optional<ExtensionRefusal> subscribe_telemetry(
      const std::string& identifier, const TelemetrySubscription& subscription) override {
    if (!identifier.starts_with("id-") || registered.count(identifier.substr(3)) == 0) {
      return extension_forbidden("Extension.UnknownExtensionIdentifier", "unknown");
    }
    subscriptions[identifier] = subscription;
    return std::nullopt;
  }

  std::map<std::string, unsigned> registered;
  std::vector<std::string> errors;
  std::map<std::string, TelemetrySubscription> subscriptions;
};

// The runtime's side is not called here; only its extensions() matters.
class FakeRuntime : public RuntimeApiHandler {
 public:
  asio::awaitable<std::optional<NextEvent>> next(RuntimeRefusal& refusal) override {
    refusal = RuntimeRefusal::kWorkerGone;
    co_return std::nullopt;
  }
  std::optional<RuntimeRefusal> response(const std::string& /*id*/, std::string /*type*/,
                                         std::string /*body*/) override {
    return RuntimeRefusal::kWorkerGone;
  }
  std::optional<RuntimeRefusal> error(const std::string& /*id*/, std::string /*type*/,
                                      std::string /*body*/) override {
    return RuntimeRefusal::kWorkerGone;
  }
  void response_too_large(const std::string& /*id*/) override {}
  std::optional<RuntimeRefusal> init_error(std::string /*type*/, std::string /*body*/) override {
    return RuntimeRefusal::kWorkerGone;
  }
  ExtensionsApiHandler* extensions() override { return with_extensions ? &fake : nullptr; }

  FakeExtensions fake;
  bool with_extensions = true;
};

constexpr std::string_view kBase = "/2020-01-01/extension";

class ExtensionsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(loop_, make_runtime_api(runtime_), runtime_api_limits());
    client_ = std::make_unique<RawClient>(loop_, server_->endpoint());
  }

  std::optional<Response> call(http::verb method, const std::string& path,
                               const std::map<std::string, std::string>& headers,
                               std::string body = {}) {
    // Paths of the Telemetry API are whole; the Extensions API's are below kBase.
    const auto target = path.starts_with("/2022-07-01") ? path : std::string(kBase) + path;
    auto req = request(method, target, std::move(body));
    for (const auto& [name, value] : headers) req.set(name, value);
    client_->send(wire(std::move(req)));
    return client_->receive();
  }

  std::optional<Response> register_as(const std::string& name, std::string body) {
    return call(http::verb::post, "/register", {{"Lambda-Extension-Name", name}}, std::move(body));
  }

  static void expect_refusal(const std::optional<Response>& res, http::status status,
                             std::string_view error_type) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), status) << res->body();
    EXPECT_EQ(boost::json::parse(res->body()).at("errorType").as_string(), error_type)
        << res->body();
  }

  Loop loop_;
  std::shared_ptr<FakeRuntime> runtime_ = std::make_shared<FakeRuntime>();
  std::optional<LoopbackServer> server_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(ExtensionsApi, RegisterAnswersTheIdentifierAndTheFunctionFields) {
  const auto res = register_as("logger", R"({"events":["INVOKE","SHUTDOWN"]})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result(), http::status::ok) << res->body();
  EXPECT_EQ((*res)["Lambda-Extension-Identifier"], "id-logger");
  const auto body = boost::json::parse(res->body());
  EXPECT_EQ(body.at("functionName"), "echo");
  EXPECT_EQ(body.at("functionVersion"), "$LATEST");
  EXPECT_EQ(body.at("handler"), "lambda_function.handler");
  EXPECT_EQ(runtime_->fake.registered.at("logger"), kInvokeEvent | kShutdownEvent);
}

TEST_F(ExtensionsApi, NextAnswersTheEventWithAnEventIdentifier) {
  ASSERT_TRUE(register_as("logger", R"({"events":["INVOKE"]})"));
  const auto res =
      call(http::verb::get, "/event/next", {{"Lambda-Extension-Identifier", "id-logger"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result(), http::status::ok) << res->body();
  EXPECT_EQ(res->at(http::field::content_type), "application/json");
  EXPECT_EQ(boost::json::parse(res->body()).at("requestId"), "r1");
  EXPECT_EQ((*res)["Lambda-Extension-Event-Identifier"].size(), 36U);  // a UUID
}

TEST_F(ExtensionsApi, RefusesMalformedRegistrations) {
  expect_refusal(register_as("", "{}"), http::status::forbidden, "Extension.InvalidExtensionName");
  expect_refusal(register_as("x", R"({"events":["INVOKE","BOOT"]})"), http::status::bad_request,
                 "Extension.InvalidEventType");
  expect_refusal(register_as("x", "not json"), http::status::bad_request, "InvalidRequestFormat");
  expect_refusal(register_as("x", R"({"events":"INVOKE"})"), http::status::bad_request,
                 "InvalidRequestFormat");
  EXPECT_TRUE(runtime_->fake.registered.empty());
  // The handler's own refusal comes through as it is.
  ASSERT_TRUE(register_as("x", ""));
  expect_refusal(register_as("x", ""), http::status::forbidden, "Extension.InvalidExtensionState");
}

TEST_F(ExtensionsApi, RefusesCallsWithoutOrWithAnUnknownIdentifier) {
  expect_refusal(call(http::verb::get, "/event/next", {}), http::status::forbidden,
                 "Extension.MissingExtensionIdentifier");
  expect_refusal(call(http::verb::get, "/event/next", {{"Lambda-Extension-Identifier", "nope"}}),
                 http::status::forbidden, "Extension.UnknownExtensionIdentifier");
  expect_refusal(call(http::verb::post, "/init/error", {{"Lambda-Extension-Identifier", "id-x"}}),
                 http::status::forbidden, "Extension.MissingHeader");
}

TEST_F(ExtensionsApi, InitAndExitErrorsReachTheHandlerWithTheirType) {
  for (const char* path : {"/init/error", "/exit/error"}) {
    const auto res = call(http::verb::post, path,
                          {{"Lambda-Extension-Identifier", "id-x"},
                           {"Lambda-Extension-Function-Error-Type", "Extension.Broken"}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::accepted) << res->body();
    EXPECT_EQ(res->body(), R"({"status":"OK"})");
  }
  EXPECT_EQ(runtime_->fake.errors,
            (std::vector<std::string>{"id-x init Extension.Broken", "id-x exit Extension.Broken"}));
}

TEST_F(ExtensionsApi, UnknownRoutesAndAWorkerWithoutExtensionsAnswer404) {
  expect_refusal(call(http::verb::get, "/register", {}), http::status::not_found, "InvalidURI");
  runtime_->with_extensions = false;
  expect_refusal(register_as("x", ""), http::status::not_found, "InvalidURI");
}

constexpr std::string_view kSubscription =
    R"({"schemaVersion":"2022-07-01","types":["platform"],)"
    R"("destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/t"}})";

TEST_F(ExtensionsApi, TelemetrySubscribeReachesTheHandlerAndAnswersOk) {
  ASSERT_TRUE(register_as("watcher", R"({"events":["INVOKE"]})"));
  for (const char* path : {"/2022-07-01/telemetry", "/2022-07-01/telemetry/"}) {
    const auto res = call(http::verb::put, path, {{"Lambda-Extension-Identifier", "id-watcher"}},
                          std::string(kSubscription));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok) << path << ": " << res->body();
    EXPECT_EQ(res->body(), "OK");
  }
  const auto& subscription = runtime_->fake.subscriptions.at("id-watcher");
  EXPECT_EQ(subscription.port, 4243);
  EXPECT_EQ(subscription.types, kPlatformTelemetry);
}

TEST_F(ExtensionsApi, TelemetrySubscribeRefusesBadBodiesAndUnknownIdentifiers) {
  ASSERT_TRUE(register_as("watcher", R"({"events":["INVOKE"]})"));
  const std::map<std::string, std::string> known{{"Lambda-Extension-Identifier", "id-watcher"}};
  expect_refusal(call(http::verb::put, "/2022-07-01/telemetry", known, "{}"),
                 http::status::bad_request, "ValidationError");
  expect_refusal(call(http::verb::put, "/2022-07-01/telemetry", {}, std::string(kSubscription)),
                 http::status::forbidden, "Extension.MissingExtensionIdentifier");
  expect_refusal(call(http::verb::put, "/2022-07-01/telemetry",
                      {{"Lambda-Extension-Identifier", "id-stranger"}}, std::string(kSubscription)),
                 http::status::forbidden, "Extension.UnknownExtensionIdentifier");
  expect_refusal(call(http::verb::post, "/2022-07-01/telemetry", known, std::string(kSubscription)),
                 http::status::not_found, "InvalidURI");
  EXPECT_TRUE(runtime_->fake.subscriptions.empty());
}

}  // namespace
}  // namespace ember::runtime_api::test
