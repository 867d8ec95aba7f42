#include "auth.hpp"

#include <algorithm>

#include "messages.hpp"
#include "schema.hpp"

namespace ember::config::detail {
namespace {

constexpr std::string_view kAuth = key_for<kNodeKeys, &NodeConfig::auth>().name;
constexpr std::string_view kListen = key_for<kNodeKeys, &NodeConfig::listen_host>().name;
constexpr std::string_view kCredentials = key_for<kAuthKeys, &AuthConfig::credentials>().name;
constexpr std::string_view kKeyId =
    key_for<kAuthCredentialKeys, &AuthCredentialConfig::access_key_id>().name;

bool is_secret_char(char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; }

}  // namespace

bool is_access_key_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool is_allowed_function(std::string_view name) { return name == "*" || is_function_name(name); }

void read_secret_access_key(const Walker& walker, const Entry& entry,
                            AuthCredentialConfig& credential) {
  if (!entry.value.IsScalar()) {
    walker.fail(entry, "expected a string, got " + describe(entry.value));
  }
  const std::string& secret = entry.value.Scalar();
  if (secret.empty() || secret.size() > 128 ||
      !std::all_of(secret.begin(), secret.end(), is_secret_char)) {
    walker.fail(entry, "expected 1 to 128 characters without blanks or control characters, got " +
                           std::to_string(secret.size()) +
                           " character(s) that are not (the value is "
                           "not shown)");
  }
  credential.secret_access_key = secret;
}

void read_credentials(const Walker& walker, const Entry& entry, AuthConfig& auth) {
  const std::vector<Entries> items =
      read_list<kAuthCredentialKeys>(walker, entry, auth.credentials);
  for (std::size_t i = 0; i < auth.credentials.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (auth.credentials[j].access_key_id != auth.credentials[i].access_key_id) continue;
      const Entry& id = items[i].find(kKeyId)->second;
      walker.fail(id, "duplicate access key id " + in_backticks(auth.credentials[i].access_key_id) +
                          " (first defined at line " +
                          Walker::line_of(items[j].find(kKeyId)->second.value) + ")");
    }
  }
}

void check_auth(const Walker& walker, const YAML::Node& root, const Config& config) {
  const YAML::Node node = root[std::string(kNodeSection)];
  // A missing key's node is invalid: only IsDefined() may be asked of it.
  const YAML::Node auth =
      node.IsDefined() && node.IsMap() ? node[std::string(kAuth)] : YAML::Node();
  if (auth.IsDefined()) {
    if (config.node.auth.mode == AuthMode::kSigV4 && config.node.auth.credentials.empty()) {
      walker.fail(
          auth,
          std::string(kNodeSection) + "." + std::string(kAuth) + "." + std::string(kCredentials),
          "`mode: sigv4` needs at least one credential; without one no request could "
          "be served");
    }
    return;
  }
  if (is_loopback_host(config.node.listen_host)) return;
  walker.fail(node[std::string(kListen)], std::string(kNodeSection) + "." + std::string(kListen),
              in_backticks(config.node.listen_host) +
                  " is not a loopback address, so other machines could invoke every function, "
                  "and there is no `node.auth` section: add one with `mode: sigv4` and "
                  "credentials, or `mode: none` to serve unsigned requests from anyone on "
                  "purpose");
}

}  // namespace ember::config::detail
