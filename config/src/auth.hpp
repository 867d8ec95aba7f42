// Readers and rules of `node.auth`: SigV4 credentials for the Invoke API, and the refusal of a
// node reachable from other machines that says nothing about who may call it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "ember/config/config.hpp"
#include "walker.hpp"

namespace ember::config::detail {

// 1 to 128 of A-Z a-z 0-9 _ . - : it sits between '/'s in a SigV4 credential scope.
bool is_access_key_id(std::string_view id);

// A function name, or `*` for every function.
bool is_allowed_function(std::string_view name);

// A secret: any text of 1 to 128 characters without blanks or control characters. Problems
// are reported without the value.
void read_secret_access_key(const Walker& walker, const Entry& entry,
                            AuthCredentialConfig& credential);

// `node.auth.credentials`: each read with kAuthCredentialKeys; access key ids unique.
void read_credentials(const Walker& walker, const Entry& entry, AuthConfig& auth);

// Once the file is read (`root` its top level): `mode: sigv4` has credentials, and a
// `node.listen` other machines can reach comes with a `node.auth` section.
void check_auth(const Walker& walker, const YAML::Node& root, const Config& config);

}  // namespace ember::config::detail
