// The shapes single values of ember.yaml must have, as plain string checks; the schema
// (schema.hpp) applies them and reports failures with file positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"

namespace ember::config::detail {

// Lambda's limit on the summed size of a function's environment variable names and values.
inline constexpr std::size_t kMaxEnvironmentBytes = 4096;

using config::is_function_name;
using config::ListenAddress;
using config::parse_listen;

// module.function, where module may be a dotted package path (a.b.c.function).
bool is_python_handler(std::string_view handler);

// An EventBridge rule name: 1 to 64 of A-Z a-z 0-9 . _ -
bool is_rule_name(std::string_view name);

// [A-Za-z_][A-Za-z0-9_]*, the names a POSIX shell can export.
bool is_environment_name(std::string_view name);

// Shaped like a system call name ([A-Za-z_][A-Za-z0-9_]*); libseccomp checks it exists.
bool is_syscall_name(std::string_view name);

// Names ember sets itself for every worker, so a function may not override them.
bool is_reserved_environment_name(std::string_view name);

// Lowercase letters, digits and hyphens, like "us-east-1"; it ends up inside ARNs.
bool is_region(std::string_view region);

// Exactly 12 decimal digits, like every AWS account id.
bool is_account_id(std::string_view account_id);

// An absolute path ("/var/task"), or empty for "the image's own".
bool is_absolute_path_or_empty(std::string_view path);

// Any string but the empty one (an entrypoint's or command's elements).
bool is_non_empty(std::string_view text);

// `auto`, `crun`, `runc` or an absolute path to an OCI runtime's executable.
bool is_oci_runtime(std::string_view runtime);

// An HTTP route's path prefix: "/" or "/seg/seg" with no empty, "." or ".." segment, no
// trailing '/', and only characters a URL path may hold unescaped (RFC 3986 pchar).
bool is_route_path(std::string_view path);

// GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS: the methods an HTTP route can answer.
bool is_http_method(std::string_view method);

// S3's bucket naming rules: 3 to 63 of a-z 0-9 . -, starting and ending with a letter or
// digit, no "..", not shaped like an IPv4 address, none of S3's reserved prefixes and suffixes.
bool is_bucket_name(std::string_view name);

// The S3 event types a subscription may name (s3:ObjectCreated:*, ...; kS3EventNames).
bool is_s3_event_name(std::string_view name);

// `/mnt/NAME`: /mnt and one or more components of A-Z a-z 0-9 . _ -, none of them `.` or `..`.
bool is_mount_target(std::string_view target);

struct RuntimeInfo {
  RuntimeKind kind = RuntimeKind::kProvided;
  std::filesystem::path interpreter;  // empty for provided runtimes
};

// provided | provided.al2 | provided.al2023 | python3 | python3.N; nullopt for anything else.
std::optional<RuntimeInfo> parse_runtime(std::string_view runtime);

}  // namespace ember::config::detail
