#include "rules.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "messages.hpp"
#include "schema.hpp"
#include "values.hpp"

namespace ember::config::detail {
namespace {

namespace fs = std::filesystem;

constexpr const auto& kName = key_for<kFunctionKeys, &FunctionConfig::name>();
constexpr const auto& kHandler = key_for<kFunctionKeys, &FunctionConfig::handler>();
constexpr const auto& kCode = key_for<kFunctionKeys, &FunctionConfig::code_dir>();
constexpr const auto& kReservedConcurrency =
    key_for<kFunctionKeys, &FunctionConfig::reserved_concurrency>();
constexpr const auto& kProvisioned = key_for<kFunctionKeys, &FunctionConfig::provisioned>();
constexpr const auto& kZygote = key_for<kFunctionKeys, &FunctionConfig::zygote>();
constexpr const auto& kRuntime = key_for<kFunctionKeys, &FunctionConfig::runtime>();
constexpr const auto& kImage = key_for<kFunctionKeys, &FunctionConfig::image>();
constexpr const auto& kImageConfig = key_for<kFunctionKeys, &FunctionConfig::image_config>();
constexpr const auto& kAsync = key_for<kFunctionKeys, &FunctionConfig::async>();
constexpr const auto& kHttp = key_for<kFunctionKeys, &FunctionConfig::http>();
constexpr const auto& kLayers = key_for<kFunctionKeys, &FunctionConfig::layers>();
constexpr const auto& kRoutePath = key_for<kHttpRouteKeys, &HttpRouteConfig::path>();
constexpr const auto& kMultiValueHeaders =
    key_for<kHttpRouteKeys, &HttpRouteConfig::multi_value_headers>();
constexpr const auto& kLogging = key_for<kFunctionKeys, &FunctionConfig::logging>();

// Up to this many function names are listed when a destination names an unknown one.
constexpr std::size_t kMaxNamesListed = 10;

void check_unique_name(const Walker& walker, const Entries& entries, const YAML::Node& item,
                       const FunctionConfig& function, FunctionNames& names) {
  if (const auto [it, inserted] = names.try_emplace(function.name, item); !inserted) {
    walker.fail(*entry_for(entries, kName),
                "duplicate function name " + in_backticks(function.name) +
                    " (first defined at line " + Walker::line_of(it->second) + ")");
  }
}

// A function is code (`code` and `runtime`) or an image (`image`, whose entrypoint and command
// say what runs), never both.
void check_package(const Walker& walker, const YAML::Node& item, std::string_view path,
                   const Entries& entries, const FunctionConfig& function) {
  if (const Entry* image = entry_for(entries, kImage)) {
    if (function.isolation == Isolation::kNone) {
      walker.fail(*image,
                  "needs `isolation: native` or `oci`: the image is the sandbox's root, "
                  "which a plain process (`isolation: none`) does not have");
    }
    for (const auto* key : {&kCode, &kRuntime, &kHandler, &kZygote}) {
      if (const Entry* entry = entry_for(entries, *key)) {
        walker.fail(*entry,
                    "not with `image`: an image function runs its image's entrypoint "
                    "and command (override them in `image_config`)");
      }
    }
    return;
  }
  if (const Entry* entry = entry_for(entries, kImageConfig)) {
    walker.fail(*entry, "only with `image`");
  }
  for (const auto* key : {&kRuntime, &kCode}) {
    if (entry_for(entries, *key) == nullptr) {
      walker.fail(item, child_key(path, key->name), "missing (required unless `image`)");
    }
  }
}

// Python needs a handler it can import and call; provided runtimes may pass free text.
void check_handler(const Walker& walker, const YAML::Node& item, std::string_view path,
                   const Entries& entries, const FunctionConfig& function) {
  if (function.runtime_kind != RuntimeKind::kPython) {
    return;
  }
  const Entry* handler = entry_for(entries, kHandler);
  if (handler == nullptr) {
    walker.fail(item, child_key(path, kHandler.name), "missing (required)");
  }
  if (!is_python_handler(function.handler)) {
    walker.fail(*handler, "expected module.function (like lambda_function.lambda_handler), got " +
                              in_backticks(function.handler));
  }
}

// The provided runtimes start `bootstrap` directly, so a broken one would only show up as a
// failed cold start much later.
void check_bootstrap(const Walker& walker, const Entries& entries, const FunctionConfig& function) {
  if (function.runtime_kind != RuntimeKind::kProvided) {
    return;
  }
  const Entry& code = *entry_for(entries, kCode);
  const fs::path bootstrap = function.code_dir / "bootstrap";
  std::error_code ec;
  const auto status = fs::status(bootstrap, ec);
  if (ec && status.type() != fs::file_type::not_found) {
    walker.fail(code, "cannot access " + bootstrap.string() + ": " + ec.message());
  }
  if (!fs::exists(status)) {
    walker.fail(code, "runtime " + function.runtime + " needs an executable " + bootstrap.string() +
                          ", which does not exist");
  }
  if (!fs::is_regular_file(status)) {
    walker.fail(code, bootstrap.string() + " is not a regular file");
  }
  if (::access(bootstrap.c_str(), X_OK) != 0) {
    walker.fail(code, bootstrap.string() + " is not executable");
  }
}

void check_provisioned(const Walker& walker, const Entries& entries,
                       const FunctionConfig& function) {
  if (function.provisioned > function.reserved_concurrency) {
    walker.fail(*entry_for(entries, kProvisioned),
                std::string(kProvisioned.name) + " (" + std::to_string(function.provisioned) +
                    ") cannot exceed " + std::string(kReservedConcurrency.name) + " (" +
                    std::to_string(function.reserved_concurrency) + ")");
  }
}

void check_zygote(const Walker& walker, const Entries& entries, const FunctionConfig& function) {
  if (function.zygote && function.runtime_kind != RuntimeKind::kPython) {
    walker.fail(*entry_for(entries, kZygote),
                "only python runtimes have a zygote; runtime is " + function.runtime);
  }
}

// Layers are merged at /opt inside a sandbox; a plain process has no /opt of its own, an image
// brings its own /opt (Lambda does not take layers for images either), and a zygote's worker
// is forked past the point where extensions start.
void check_layers(const Walker& walker, const Entries& entries, const FunctionConfig& function) {
  const Entry* layers = entry_for(entries, kLayers);
  if (layers == nullptr || function.layers.empty()) return;
  if (function.isolation == Isolation::kNone) {
    walker.fail(*layers,
                "needs `isolation: native` or `oci`: layers are merged at the sandbox's /opt, "
                "which a plain process (`isolation: none`) does not have");
  }
  if (function.runtime_kind == RuntimeKind::kImage) {
    walker.fail(*layers, "not with `image`: put the layers' files in the image's /opt");
  }
  if (function.zygote) {
    walker.fail(*layers,
                "not with `zygote: true`: extensions start before the runtime, and a zygote's "
                "worker is forked already running");
  }
}

std::string names_if_few(const std::vector<FunctionConfig>& functions) {
  if (functions.size() > kMaxNamesListed) {
    return {};
  }
  std::string out;
  for (const FunctionConfig& function : functions) {
    out += (out.empty() ? "" : ", ") + function.name;
  }
  return "; functions in this file: " + out;
}

// A function that is its own destination would invoke itself with every outcome, forever.
void check_destination_function(const Walker& walker, const Entry& entry,
                                const Destination& destination, const FunctionConfig& function,
                                const std::vector<FunctionConfig>& functions) {
  if (destination.kind != Destination::Kind::kFunction) {
    return;
  }
  if (destination.function == function.name) {
    walker.fail(entry, in_backticks(destination.function) +
                           " is this function itself; its outcome would invoke it again, in a "
                           "loop");
  }
  const bool known = std::any_of(functions.begin(), functions.end(), [&](const auto& other) {
    return other.name == destination.function;
  });
  if (!known) {
    walker.fail(entry,
                "unknown function " + in_backticks(destination.function) + names_if_few(functions));
  }
}

template <auto Member>
void check_destination_key(const Walker& walker, const Entries& async_entries,
                           const FunctionConfig& function,
                           const std::vector<FunctionConfig>& functions) {
  if (const Entry* entry = entry_for(async_entries, key_for<kAsyncKeys, Member>())) {
    check_destination_function(walker, *entry, function.async.*Member, function, functions);
  }
}

// A function's `http` entries, read again for the positions of its keys; empty without one.
Entries http_entries(const Walker& walker, const Entries& entries) {
  static constexpr auto kNames = names_of(kHttpRouteKeys);
  const Entry* http = entry_for(entries, kHttp);
  return http == nullptr ? Entries() : walker.read_map(http->value, http->key_path, kNames);
}

// Function URLs have no multi-value mode: their events always join repeated values.
void check_http_route(const Walker& walker, const Entries& entries,
                      const FunctionConfig& function) {
  if (function.http.format == HttpEventFormat::kAlb) return;
  const Entries route = http_entries(walker, entries);
  if (const Entry* multi = entry_for(route, kMultiValueHeaders);
      multi != nullptr && function.http.multi_value_headers) {
    walker.fail(*multi,
                "only with `format: alb`; a Function URL event joins repeated values with commas");
  }
}

// Lambda filters records by level only in JSON logs, and refuses a level with text ones.
void check_logging(const Walker& walker, const Entries& entries, const FunctionConfig& function) {
  static constexpr auto kNames = names_of(kLoggingKeys);
  if (function.logging.format == LogFormat::kJson) return;
  const Entry* logging = entry_for(entries, kLogging);
  if (logging == nullptr) return;
  const Entries keys = walker.read_map(logging->value, logging->key_path, kNames);
  for (const auto* key : {&key_for<kLoggingKeys, &LoggingConfig::application_log_level>(),
                          &key_for<kLoggingKeys, &LoggingConfig::system_log_level>()}) {
    if (const Entry* level = entry_for(keys, *key)) {
      walker.fail(*level, "only with `format: json`: log levels filter JSON records, as on Lambda");
    }
  }
}

}  // namespace

void check_route_paths(const Walker& walker, const std::vector<Entries>& entries,
                       const std::vector<FunctionConfig>& functions) {
  std::map<std::string, std::pair<const FunctionConfig*, YAML::Node>, std::less<>> seen;
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const FunctionConfig& function = functions.at(i);
    if (function.http.empty()) continue;
    const Entries route = http_entries(walker, entries.at(i));
    const Entry* path = entry_for(route, kRoutePath);
    const auto [it, inserted] = seen.try_emplace(function.http.path, &function, path->value);
    if (!inserted) {
      walker.fail(*path, "path " + in_backticks(function.http.path) + " is already the route of " +
                             in_backticks(it->second.first->name) + " (line " +
                             Walker::line_of(it->second.second) + ")");
    }
  }
}

void check_destinations(const Walker& walker, const std::vector<Entries>& entries,
                        const std::vector<FunctionConfig>& functions) {
  static constexpr auto kNames = names_of(kAsyncKeys);
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const Entry* async = entry_for(entries.at(i), kAsync);
    if (async == nullptr) {
      continue;
    }
    // Read (and checked) before; read again for the positions of its keys.
    const Entries async_entries = walker.read_map(async->value, async->key_path, kNames);
    const FunctionConfig& function = functions.at(i);
    check_destination_key<&AsyncConfig::on_success>(walker, async_entries, function, functions);
    check_destination_key<&AsyncConfig::on_failure>(walker, async_entries, function, functions);
    check_destination_key<&AsyncConfig::dead_letter>(walker, async_entries, function, functions);
  }
}

void check_function(const Walker& walker, const YAML::Node& item, std::string_view path,
                    const Entries& entries, const FunctionConfig& function, FunctionNames& names) {
  check_unique_name(walker, entries, item, function, names);
  check_package(walker, item, path, entries, function);
  check_handler(walker, item, path, entries, function);
  check_bootstrap(walker, entries, function);
  check_provisioned(walker, entries, function);
  check_zygote(walker, entries, function);
  check_layers(walker, entries, function);
  check_http_route(walker, entries, function);
  check_logging(walker, entries, function);
}

}  // namespace ember::config::detail
