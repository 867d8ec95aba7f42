// SigV4 on the Invoke API (runtime-api/src/sigv4.cpp, invoke_auth.cpp): the Authorization
// header, X-Amz-Date and the canonical request of whatever a client sends. One credential is
// known; the clock is the seeds' signing time, so a seed's signature holds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "ember/runtime_api/invoke_auth.hpp"
#include "ember/runtime_api/sigv4.hpp"
#include "http_input.hpp"

namespace {

using namespace ember::runtime_api;

const Authenticator& authenticator() {
  static const Authenticator auth([] {
    AuthSettings s;
    s.credentials.push_back(
        {.access_key_id = "AKIDFUZZ", .secret_access_key = "fuzz-secret", .allow = {"echo"}});
    // 2026-01-01T00:00:00Z, the X-Amz-Date of the seeds.
    s.now = [] { return std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}}; };
    return s;
  }());
  return auth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto req = ember::fuzz::http_request(data, size);
  if (!req) {
    // Not a request: the bytes as one Authorization header value.
    (void)sigv4::parse_authorization(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
  }
  const auto& auth = authenticator();
  auto result = auth.authenticate(*req);
  if (auto* credential = std::get_if<const Credential*>(&result)) {
    if (*credential == nullptr) __builtin_trap();
    (void)auth.authorize_invoke(**credential, "echo");
  } else if (std::get<AuthRefusal>(result).message.empty()) {
    __builtin_trap();
  }
  const std::string_view target = req->target();
  const auto q = target.find('?');
  (void)sigv4::canonical_uri(target.substr(0, q));
  if (q != std::string_view::npos) (void)sigv4::canonical_query(target.substr(q + 1));
  return 0;
}
