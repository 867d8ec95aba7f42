// The Invoke API's request checks (path, qualifier, headers, client context, JSON payload):
// an HTTP request in, an InvokeRequest or a rejection out, never a crash.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "ember/runtime_api/invoke_request.hpp"
#include "http_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::runtime_api;
  auto req = ember::fuzz::http_request(data, size);
  if (!req) return 0;
  auto parsed = parse_invoke_request(*req, "fuzz-request-id");
  if (auto* request = std::get_if<InvokeRequest>(&parsed)) {
    // What the service may rely on: a named function and a non-empty payload.
    if (request->function.name.empty() || request->payload.empty()) __builtin_trap();
  } else if (std::get<InvokeRejection>(parsed).message.empty()) {
    __builtin_trap();  // every rejection names its problem
  }
  return 0;
}
