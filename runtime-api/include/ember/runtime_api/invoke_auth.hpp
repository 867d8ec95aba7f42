// Who may call the Invoke API: the SigV4 credentials the node knows, the functions each may
// invoke, and the check of one request against them (docs/configuration.md, `node.auth`).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/sigv4.hpp"

namespace ember::runtime_api {

struct Credential {
  std::string access_key_id;
  std::string secret_access_key;
  std::vector<std::string> allow;  // function names; "*" is every function
};

struct AuthSettings {
  std::vector<Credential> credentials;
  std::string region = "us-east-1";         // the credential scope's region must be this one
  std::string account_id = "000000000000";  // for ARNs in messages
  std::string service = "lambda";
  // How far X-Amz-Date may be from the node's clock either way (Lambda: 5 minutes).
  std::chrono::seconds max_skew{300};
  // The clock requests are checked against; the system clock when empty (tests set one).
  std::function<std::chrono::system_clock::time_point()> now;
};

// Why a request is refused, with Lambda's error names.
enum class AuthError {
  kMissingAuthenticationToken,  // 403: no Authorization header
  kIncompleteSignature,         // 400: an Authorization header that is not SigV4's
  kUnrecognizedClient,          // 403: unknown access key id, or a session token
  kInvalidSignature,            // 403: wrong signature, scope or time
  kAccessDenied,                // 403: the key may not invoke this function
};

struct AuthRefusal {
  AuthError error;
  std::string message;
};

class Authenticator {
 public:
  explicit Authenticator(AuthSettings settings);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;
  Authenticator(Authenticator&&) = delete;
  Authenticator& operator=(Authenticator&&) = delete;
  ~Authenticator();

  // The credential whose signature `req` carries, or why it carries none that holds.
  [[nodiscard]] std::variant<const Credential*, AuthRefusal> authenticate(const Request& req) const;

  // Whether `credential` may invoke `function` (a bare name); the refusal when not.
  [[nodiscard]] std::optional<AuthRefusal> authorize_invoke(const Credential& credential,
                                                            std::string_view function) const;
  // Whether `credential` may read the node's status (a key with "*" only).
  [[nodiscard]] static std::optional<AuthRefusal> authorize_status(const Credential& credential);

 private:
  struct CachedKey;
  // The signing key of credential `index` for `date`: it changes once a day, so it is derived
  // once a day rather than with four HMACs per request.
  [[nodiscard]] sigv4::Key key_for(std::size_t index, std::string_view date) const;

  AuthSettings settings_;
  std::unordered_map<std::string, std::size_t> by_key_id_;
  std::vector<std::unique_ptr<CachedKey>> cache_;
};

}  // namespace ember::runtime_api
