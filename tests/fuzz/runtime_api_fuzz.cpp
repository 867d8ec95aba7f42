// The Runtime API a function's runtime and extensions call (runtime-api/src/runtime_api.cpp,
// extensions_api.cpp, telemetry_api.cpp): one HTTP request in, one answer out. The handler
// below accepts everything, so the request checks are all that can refuse.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "ember/runtime_api/extensions_api.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "http_input.hpp"

namespace {

using namespace ember::runtime_api;

NextEvent event() {
  NextEvent e;
  e.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  e.deadline_epoch_ms = 1'700'000'000'000;
  e.invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
  e.payload = "{}";
  return e;
}

class AcceptingExtensions : public ExtensionsApiHandler {
 public:
  std::variant<ExtensionRegistration, ExtensionRefusal> register_extension(
      const std::string& name, unsigned /*events*/) override {
    return ExtensionRegistration{.identifier = "id-" + name, .function_name = "f"};
  }
  boost::asio::awaitable<std::optional<NextEvent>> next_extension_event(
      const std::string& /*identifier*/, ExtensionRefusal& /*refusal*/) override {
    co_return event();
  }
  std::optional<ExtensionRefusal> extension_error(const std::string& /*identifier*/,
                                                  bool /*at_init*/, std::string /*error_type*/,
                                                  std::string /*body*/) override {
    return std::nullopt;
  }
  std::optional<ExtensionRefusal> subscribe_telemetry(
      const std::string& /*identifier*/, const TelemetrySubscription& /*subscription*/) override {
    return std::nullopt;
  }
};

class AcceptingRuntime : public RuntimeApiHandler {
 public:
  boost::asio::awaitable<std::optional<NextEvent>> next(RuntimeRefusal& /*refusal*/) override {
    co_return event();
  }
  std::optional<RuntimeRefusal> response(const std::string& /*request_id*/,
                                         std::string /*content_type*/,
                                         std::string /*body*/) override {
    return std::nullopt;
  }
  std::optional<RuntimeRefusal> error(const std::string& /*request_id*/, std::string /*error_type*/,
                                      std::string /*body*/) override {
    return std::nullopt;
  }
  void response_too_large(const std::string& /*request_id*/) override {}
  std::optional<RuntimeRefusal> init_error(std::string /*error_type*/,
                                           std::string /*body*/) override {
    return std::nullopt;
  }
  ExtensionsApiHandler* extensions() override { return &extensions_; }

 private:
  AcceptingExtensions extensions_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto handler = std::make_shared<AcceptingRuntime>();
  static const HttpApi api = make_runtime_api(handler);
  auto req = ember::fuzz::http_request(data, size);
  if (!req) return 0;
  // A streamed response's body is read by another path (streamed_response.cpp).
  if (api.streams_request && api.streams_request(*req)) return 0;
  boost::asio::io_context io;
  std::optional<Response> answer;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { answer = co_await api.handle(*req, Peer{}); },
      [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  if (!answer || answer->result_int() < 200 || answer->result_int() > 599) __builtin_trap();
  return 0;
}
