#include "values.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ember::config::detail {
namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_alpha(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
constexpr bool is_word(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

bool is_identifier(std::string_view s) {
  return !s.empty() && !is_digit(s.front()) && std::all_of(s.begin(), s.end(), is_word);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

constexpr std::array<std::string_view, 15> kReservedEnvironmentNames = {
    "AWS_LAMBDA_RUNTIME_API",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    // Set from the function's `logging`.
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
};

// Python runtimes run on the host's own interpreters, looked up where Debian installs them.
constexpr std::string_view kInterpreterDir = "/usr/bin/";

constexpr std::array<std::string_view, 5> kS3EventNames = {
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Copy", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete"};

constexpr std::string_view kMountRoot = "/mnt/";

bool is_ipv4_literal(std::string_view text) {
  in_addr address{};
  return ::inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
}

}  // namespace

bool is_bucket_name(std::string_view name) {
  const auto bucket_char = [](char c) {
    return is_lower(c) || is_digit(c) || c == '.' || c == '-';
  };
  const auto edge = [](char c) { return is_lower(c) || is_digit(c); };
  return name.size() >= 3 && name.size() <= 63 &&
         std::all_of(name.begin(), name.end(), bucket_char) && edge(name.front()) &&
         edge(name.back()) && name.find("..") == std::string_view::npos && !is_ipv4_literal(name) &&
         !name.starts_with("xn--") && !name.starts_with("sthree-") && !name.ends_with("-s3alias") &&
         !name.ends_with("--ol-s3");
}

bool is_s3_event_name(std::string_view name) {
  return std::find(kS3EventNames.begin(), kS3EventNames.end(), name) != kS3EventNames.end();
}

bool is_mount_target(std::string_view target) {
  if (!target.starts_with(kMountRoot)) return false;
  std::string_view rest = target.substr(kMountRoot.size());
  if (rest.empty() || rest.back() == '/') return false;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    const bool ok = !part.empty() && part != "." && part != ".." &&
                    std::all_of(part.begin(), part.end(),
                                [](char c) { return is_word(c) || c == '-' || c == '.'; });
    if (!ok) return false;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  return true;
}

bool is_rule_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return is_word(c) || c == '-' || c == '.';
  });
}

bool is_python_handler(std::string_view handler) {
  const auto last_dot = handler.rfind('.');
  if (last_dot == std::string_view::npos) {
    return false;
  }
  if (!is_identifier(handler.substr(last_dot + 1))) {
    return false;
  }
  std::string_view module = handler.substr(0, last_dot);
  while (true) {
    const auto dot = module.find('.');
    if (!is_identifier(module.substr(0, dot))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    module.remove_prefix(dot + 1);
  }
}

bool is_environment_name(std::string_view name) { return is_identifier(name); }

bool is_syscall_name(std::string_view name) { return is_identifier(name); }

bool is_reserved_environment_name(std::string_view name) {
  return std::find(kReservedEnvironmentNames.begin(), kReservedEnvironmentNames.end(), name) !=
         kReservedEnvironmentNames.end();
}

bool is_region(std::string_view region) {
  return !region.empty() && region.size() <= 64 &&
         std::all_of(region.begin(), region.end(),
                     [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_account_id(std::string_view account_id) {
  return account_id.size() == 12 && all_digits(account_id);
}

bool is_absolute_path_or_empty(std::string_view path) {
  return path.empty() || path.starts_with('/');
}

bool is_non_empty(std::string_view text) { return !text.empty(); }

bool is_oci_runtime(std::string_view runtime) {
  return runtime == "auto" || runtime == "crun" || runtime == "runc" || runtime.starts_with('/');
}

namespace {

// RFC 3986 pchar without percent-escapes: unreserved, sub-delims, ':' and '@'.
bool is_path_character(char c) {
  constexpr std::string_view kOthers = "-._~!$&'()*+,;=:@";
  return is_alpha(c) || is_digit(c) || kOthers.find(c) != std::string_view::npos;
}

}  // namespace

bool is_route_path(std::string_view path) {
  if (path == "/") return true;
  if (!path.starts_with('/') || path.ends_with('/')) return false;
  std::string_view rest = path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == ".." ||
        !std::all_of(segment.begin(), segment.end(), is_path_character)) {
      return false;
    }
    if (slash == std::string_view::npos) return true;
    rest = rest.substr(slash + 1);
  }
}

bool is_http_method(std::string_view method) {
  constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                        "PATCH", "DELETE", "OPTIONS"};
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

std::optional<RuntimeInfo> parse_runtime(std::string_view runtime) {
  if (runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023") {
    return RuntimeInfo{RuntimeKind::kProvided, {}};
  }
  constexpr std::string_view kPythonPrefix = "python3.";
  if (runtime == "python3" ||
      (runtime.starts_with(kPythonPrefix) && runtime.size() <= kPythonPrefix.size() + 3 &&
       all_digits(runtime.substr(kPythonPrefix.size())) && runtime[kPythonPrefix.size()] != '0')) {
    return RuntimeInfo{RuntimeKind::kPython, std::string(kInterpreterDir) + std::string(runtime)};
  }
  return std::nullopt;
}

}  // namespace ember::config::detail

namespace ember::config {

using detail::all_digits;
using detail::is_word;

std::optional<std::string> set_runtime(FunctionConfig& function, std::string_view runtime) {
  function.runtime = runtime;
  const auto info = detail::parse_runtime(runtime);
  if (!info) {
    return "unsupported runtime `" + std::string(runtime) +
           "`; expected provided, provided.al2, provided.al2023, python3 or python3.N";
  }
  function.runtime_kind = info->kind;
  function.interpreter = info->interpreter;
  if (function.runtime_kind == RuntimeKind::kPython &&
      ::access(function.interpreter.c_str(), X_OK) != 0) {
    return "interpreter " + function.interpreter.string() + " is not installed or not executable";
  }
  return std::nullopt;
}

std::optional<std::string> environment_error(
    const std::vector<std::pair<std::string, std::string>>& environment) {
  std::size_t total_bytes = 0;
  for (const auto& [name, value] : environment) {
    if (!detail::is_environment_name(name)) {
      return "variable name '" + name + "' must match [A-Za-z_][A-Za-z0-9_]*";
    }
    if (detail::is_reserved_environment_name(name)) {
      return "variable name '" + name + "' is reserved: Lambda sets this variable itself";
    }
    total_bytes += name.size() + value.size();
  }
  if (total_bytes > detail::kMaxEnvironmentBytes) {
    return "variables add up to " + std::to_string(total_bytes) + " bytes; Lambda allows at most " +
           std::to_string(detail::kMaxEnvironmentBytes);
  }
  return std::nullopt;
}

bool is_function_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_word(c) || c == '-'; });
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  for (const std::string_view prefix : {"", "::ffff:"}) {
    if (!host.starts_with(prefix)) continue;
    const std::string v4(host.substr(prefix.size()));
    in_addr address{};
    if (inet_pton(AF_INET, v4.c_str(), &address) == 1) {
      return (ntohl(address.s_addr) >> 24U) == 127U;
    }
  }
  return false;
}

std::optional<ListenAddress> parse_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);

  bool bracketed = false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  const std::string host_string(host);
  bool valid_host = false;
  if (bracketed) {
    in6_addr v6{};
    valid_host = inet_pton(AF_INET6, host_string.c_str(), &v6) == 1;
  } else if (host == "localhost") {
    valid_host = true;
  } else {
    in_addr v4{};
    valid_host = inet_pton(AF_INET, host_string.c_str(), &v4) == 1;
  }
  if (!valid_host) {
    return std::nullopt;
  }

  // from_chars alone would accept a prefix like "80x"; the digit check rules that out.
  if (!all_digits(port_text) || port_text.size() > 5) {
    return std::nullopt;
  }
  unsigned port = 0;
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port > 65535) {
    return std::nullopt;
  }
  return ListenAddress{host_string, static_cast<std::uint16_t>(port)};
}

}  // namespace ember::config
