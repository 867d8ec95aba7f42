#include "readers.hpp"

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>

#include "ember/config/host_ids.hpp"
#include "ember/image/image.hpp"
#include "ember/schedule/schedule.hpp"
#include "layers.hpp"
#include "messages.hpp"
#include "values.hpp"

namespace ember::config::detail {

namespace fs = std::filesystem;

std::string default_state_dir() { return std::string(kDefaultStateDir); }

namespace {

// HOST:PORT into a listener's listen_host and listen_port (the node's, or node.http's).
template <class Listener>
void read_address_into(const Walker& walker, const Entry& entry, Listener& listener) {
  auto address = parse_listen(walker.string(entry));
  if (!address) {
    walker.fail(entry,
                "expected HOST:PORT with HOST an IPv4 address, [IPv6 address] or localhost "
                "and PORT 0..65535, got " +
                    describe(entry.value));
  }
  listener.listen_host = std::move(address->host);
  listener.listen_port = address->port;
}

template <class Listener>
std::string default_address_of() {
  const Listener defaults;
  const bool ipv6 = defaults.listen_host.find(':') != std::string::npos;
  const std::string host = ipv6 ? '[' + defaults.listen_host + ']' : defaults.listen_host;
  return host + ':' + std::to_string(defaults.listen_port);
}

}  // namespace

void read_listen(const Walker& walker, const Entry& entry, NodeConfig& node) {
  read_address_into(walker, entry, node);
}

std::string default_listen() { return default_address_of<NodeConfig>(); }

void read_http_listen(const Walker& walker, const Entry& entry, HttpListenerConfig& http) {
  read_address_into(walker, entry, http);
}

std::string default_http_listen() { return default_address_of<HttpListenerConfig>(); }

double read_price(const Walker& walker, const Entry& entry) {
  const std::string text = walker.string(entry);
  if (entry.value.Tag() == "!") {
    walker.fail(entry, "expected a price in USD (a number like 0.20), got the string " +
                           in_backticks(text));
  }
  double price = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), price);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(price) || price < 0) {
    walker.fail(entry, "expected a price in USD: a non-negative decimal number like 0.20, got " +
                           in_backticks(text));
  }
  return price;
}

std::string default_request_price() { return "0.20"; }
std::string default_gb_second_price() { return "0.0000166667"; }

void read_sandbox_uid_range(const Walker& walker, const Entry& entry, NodeConfig& node) {
  const std::string text = walker.string(entry);
  if (text == "none") {
    node.sandbox_uid_range.reset();
    return;
  }
  constexpr std::uint64_t kLastId = 2147483646;  // tools that read ids as signed stay right
  const auto dash = text.find('-');
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  const char* end = text.data() + text.size();
  const char* middle = text.data() + (dash == std::string::npos ? text.size() : dash);
  if (dash == std::string::npos || std::from_chars(text.data(), middle, first).ptr != middle ||
      std::from_chars(middle + 1, end, last).ptr != end || first < 1 || first > last ||
      last > kLastId) {
    walker.fail(entry, "expected `FIRST-LAST` (ids 1.." + std::to_string(kLastId) +
                           ", FIRST <= LAST) or `none`, got " + in_backticks(text));
  }
  const UidRange range{static_cast<std::uint32_t>(first),
                       static_cast<std::uint32_t>(last - first + 1)};
  for (const auto& [id, what] :
       {std::pair{std::uint64_t{65534}, std::string("65534 (nobody)")},
        std::pair{std::uint64_t{node.sandbox_gid},
                  std::to_string(node.sandbox_gid) + " (node.sandbox_gid, the shared group)"}}) {
    if (id >= first && id <= last) walker.fail(entry, in_backticks(text) + " holds " + what);
  }
  if (auto used = host_use_of(range)) {
    walker.fail(entry, in_backticks(text) + " is not the node's own: " + *used +
                           "; pick ids no user, group or subordinate range of the host has");
  }
  node.sandbox_uid_range = range;
}

std::string default_sandbox_uid_range() {
  return std::to_string(kDefaultSandboxUids.first) + "-" +
         std::to_string(kDefaultSandboxUids.last());
}

void read_state_dir(const Walker& walker, const Entry& entry, NodeConfig& node) {
  node.state_dir = walker.path(entry);
  std::error_code ec;
  const auto status = fs::status(node.state_dir, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    walker.fail(entry, node.state_dir.string() + " exists but is not a directory");
  }
}

void read_runtime(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  if (auto why = set_runtime(function, walker.string(entry))) walker.fail(entry, *why);
}

void read_code(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  function.code_dir = walker.path(entry);
  const std::string dir = function.code_dir.string();
  std::error_code ec;
  const auto status = fs::status(function.code_dir, ec);
  if (status.type() == fs::file_type::not_found) {
    walker.fail(entry, "directory " + dir + " does not exist");
  }
  if (ec) {
    walker.fail(entry, "cannot access " + dir + ": " + ec.message());
  }
  if (!fs::is_directory(status)) {
    walker.fail(entry, dir + " is not a directory");
  }
  const auto real = fs::canonical(function.code_dir, ec);
  if (real == real.root_path()) {
    walker.fail(entry,
                "`/` cannot be a code directory: the function would see the host's root "
                "at /var/task");
  }
  if (auto point = mount_below(real)) {
    walker.fail(entry, dir + " holds the mount point " + point->string() +
                           ", which a code directory cannot carry into the sandbox; give the "
                           "function a directory without mounts below it");
  }
}

void read_image(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  image::ImageRef ref;
  try {
    ref = image::parse_image_ref(walker.string(entry), walker.resolve("."));
  } catch (const image::ImageError& e) {
    walker.fail(entry, e.what());
  }
  // The file, the tag and the contents are checked when the node unpacks it at start, so a
  // configuration can name an image that a build step makes later.
  function.image = ref.to_string();
  function.runtime_kind = RuntimeKind::kImage;
}

std::string no_image() { return "\"\""; }

void read_environment(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  walker.expect_map(entry);
  std::vector<std::pair<std::string, std::string>> environment;
  std::map<std::string, YAML::Node> seen;
  std::size_t total_bytes = 0;
  for (const auto& pair : entry.value) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      walker.fail(key, entry.key_path, "variable names must be strings, got " + describe(key));
    }
    const std::string& name = key.Scalar();
    const Entry variable{child_key(entry.key_path, name), key, pair.second};
    if (!is_environment_name(name)) {
      walker.fail(key, variable.key_path, "variable names must match [A-Za-z_][A-Za-z0-9_]*");
    }
    if (is_reserved_environment_name(name)) {
      const bool from_logging = name == "AWS_LAMBDA_LOG_FORMAT" || name == "AWS_LAMBDA_LOG_LEVEL";
      walker.fail(key, variable.key_path,
                  std::string("reserved: Lambda sets this variable itself") +
                      (from_logging ? " (from the function's `logging`)" : ""));
    }
    if (const auto [it, inserted] = seen.try_emplace(name, key); !inserted) {
      walker.fail(key, variable.key_path,
                  "duplicate key (first at line " + Walker::line_of(it->second) + ")");
    }
    if (!variable.value.IsScalar()) {
      walker.fail(variable,
                  "expected a string, got " + describe(variable.value) +
                      (variable.value.IsNull() ? " (write \"\" for an empty value)" : ""));
    }
    total_bytes += name.size() + variable.value.Scalar().size();
    environment.emplace_back(name, variable.value.Scalar());
  }
  if (total_bytes > kMaxEnvironmentBytes) {
    walker.fail(entry, "names and values add up to " + std::to_string(total_bytes) +
                           " bytes; Lambda allows at most " + std::to_string(kMaxEnvironmentBytes));
  }
  function.environment = std::move(environment);
}

std::string default_environment() { return "{}"; }

namespace {

constexpr std::string_view kFunctionPrefix = "function:";
constexpr std::string_view kDirectoryPrefix = "dir:";

// Why ember cannot make entries in `dir`, or "" if it can.
std::string not_writable_because(const fs::path& dir) {
  if (::access(dir.c_str(), W_OK | X_OK) == 0) {
    return {};
  }
  const int error = errno;
  return std::system_category().message(error);
}

}  // namespace

void check_makeable_directory(const Walker& walker, const Entry& entry, const fs::path& dir) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (ec && status.type() != fs::file_type::not_found) {
    walker.fail(entry, "cannot access " + dir.string() + ": " + ec.message());
  }
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      walker.fail(entry, dir.string() + " exists and is not a directory");
    }
    if (const std::string why = not_writable_because(dir); !why.empty()) {
      walker.fail(entry, "directory " + dir.string() + " is not writable: " + why);
    }
    return;
  }
  fs::path ancestor = dir.parent_path();
  auto ancestor_status = fs::status(ancestor, ec);
  while (ancestor_status.type() == fs::file_type::not_found && ancestor.has_relative_path()) {
    ancestor = ancestor.parent_path();
    ancestor_status = fs::status(ancestor, ec);
  }
  const std::string cannot_create = "cannot create directory " + dir.string() + ": ";
  if (ec) {
    walker.fail(entry, cannot_create + "cannot access " + ancestor.string() + ": " + ec.message());
  }
  if (!fs::is_directory(ancestor_status)) {
    walker.fail(entry, cannot_create + ancestor.string() + " is not a directory");
  }
  if (const std::string why = not_writable_because(ancestor); !why.empty()) {
    walker.fail(entry, cannot_create + ancestor.string() + " is not writable: " + why);
  }
}

Destination read_destination(const Walker& walker, const Entry& entry) {
  const std::string text = walker.string(entry);
  Destination destination;
  if (text.empty()) {
    return destination;
  }
  if (text.starts_with(kFunctionPrefix)) {
    destination.function = text.substr(kFunctionPrefix.size());
    if (!is_function_name(destination.function)) {
      walker.fail(entry, "expected `function:NAME` with NAME 1 to 64 of A-Z a-z 0-9 _ -, got " +
                             in_backticks(text));
    }
    destination.kind = Destination::Kind::kFunction;
    return destination;
  }
  if (text.starts_with(kDirectoryPrefix)) {
    if (text.size() == kDirectoryPrefix.size()) {
      walker.fail(entry, "expected `dir:PATH` with a non-empty PATH, got " + in_backticks(text));
    }
    destination.directory = walker.resolve(text.substr(kDirectoryPrefix.size()));
    check_makeable_directory(walker, entry, destination.directory);
    destination.kind = Destination::Kind::kDirectory;
    return destination;
  }
  walker.fail(entry, "expected `function:NAME` or `dir:PATH` (or \"\" for none), got " +
                         in_backticks(text));
}

std::string no_destination() { return "\"\""; }

void read_schedule_expression(const Walker& walker, const Entry& entry, ScheduleConfig& rule) {
  rule.expression = walker.string(entry);
  const auto parsed = schedule::parse(rule.expression);
  if (const auto* error = std::get_if<schedule::ParseError>(&parsed)) {
    walker.fail(entry, "at character " + std::to_string(error->position + 1) + " of " +
                           in_backticks(rule.expression) + ": " + error->message);
  }
}

void read_schedule_input(const Walker& walker, const Entry& entry, ScheduleConfig& rule) {
  rule.input = walker.string(entry);
  if (rule.input.empty()) return;
  boost::system::error_code ec;
  boost::json::parse(rule.input, ec);
  if (ec) {
    walker.fail(entry, R"(expected JSON text (like '{"key": "value"}'), got )" +
                           in_backticks(rule.input) + ": " + ec.message());
  }
}

}  // namespace ember::config::detail
