#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <initializer_list>
#include <map>
#include <string_view>
#include <system_error>

#include "ember/config/config.hpp"
#include "rules.hpp"

namespace ember::config {
namespace {

namespace fs = std::filesystem;

// Stands in for KEY in messages about the document as a whole (syntax errors, wrong root).
constexpr std::string_view kDocumentKey = "<document>";

constexpr std::uint64_t kMaxKeepAliveS = 86400;

struct Position {
  int line = 1;  // 1-based
  int column = 1;
};

// yaml-cpp marks are 0-based, and -1 when it has no position (an empty document).
Position position_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

// Messages must stay one line even when they quote multi-line YAML scalars.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

[[noreturn]] void throw_error(std::string_view file, Position at, std::string_view key,
                              std::string_view problem) {
  std::string message(file);
  message += ':' + std::to_string(at.line) + ':' + std::to_string(at.column) + ": ";
  message += key;
  message += ": ";
  message += problem;
  throw ConfigError(one_line(message));
}

// Quotes a user's value in a message, cut short so one bad value cannot flood the log.
std::string in_backticks(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  if (text.size() > kMaxShown) {
    return '`' + std::string(text.substr(0, kMaxShown)) + "...`";
  }
  return '`' + std::string(text) + '`';
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return in_backticks(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "null";
}

[[noreturn]] void throw_read_error(const fs::path& file, int error) {
  throw ConfigError(
      one_line(file.string() + ": cannot read: " + std::system_category().message(error)));
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) {
      out += ", ";
    }
    out += word;
  }
  return out;
}

std::string child_key(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) {
    out += '.';
  }
  out += key;
  return out;
}

// Absolute and lexically normal, without a trailing slash, so paths compare equal.
fs::path normalize(const fs::path& base_dir, const fs::path& path) {
  fs::path out = (path.is_absolute() ? path : base_dir / path).lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) {
    out = out.parent_path();
  }
  return out;
}

// One key: value pair of a map, kept with its key node so errors can point at either.
struct Entry {
  std::string key_path;  // dotted, e.g. "functions[0].memory_mb"
  YAML::Node key;
  YAML::Node value;
};

class Loader {
 public:
  Loader(std::string file, fs::path base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config load(const YAML::Node& root) {
    if (!root.IsMap()) {
      fail(root, kDocumentKey, "expected a map with keys node, functions, got " + describe(root));
    }
    const auto top = read_map(root, "", {"node", "functions"});

    Config config;
    config.node.state_dir = normalize(base_dir_, "ember-state");
    if (const auto it = top.find("node"); it != top.end()) {
      load_node(it->second, config.node);
    }
    if (const auto it = top.find("functions"); it != top.end()) {
      load_functions(it->second, config.node, config.functions);
    }
    return config;
  }

 private:
  [[noreturn]] void fail(const YAML::Node& node, std::string_view key,
                         std::string_view problem) const {
    throw_error(file_, position_of(node.Mark()), key, problem);
  }

  // An empty value's mark points at whatever token follows it, often on the next line, so
  // problems with missing values are reported at the key instead.
  [[noreturn]] void fail(const Entry& entry, std::string_view problem) const {
    fail(entry.value.IsNull() ? entry.key : entry.value, entry.key_path, problem);
  }

  [[nodiscard]] static std::string line_of(const YAML::Node& node) {
    return std::to_string(position_of(node.Mark()).line);
  }

  // Rejects non-string keys, keys outside `allowed` and repeated keys (which yaml-cpp keeps).
  [[nodiscard]] std::map<std::string, Entry> read_map(
      const YAML::Node& map, std::string_view path,
      std::initializer_list<std::string_view> allowed) const {
    std::map<std::string, Entry> entries;
    for (const auto& pair : map) {
      const YAML::Node& key = pair.first;
      const std::string key_text = key.IsScalar() ? key.Scalar() : std::string();
      const std::string key_path = child_key(path, key_text);
      if (!key.IsScalar()) {
        fail(key, path.empty() ? kDocumentKey : path, "keys must be strings, got " + describe(key));
      }
      if (std::find(allowed.begin(), allowed.end(), key_text) == allowed.end()) {
        fail(key, key_path, "unknown key; allowed keys: " + join(allowed));
      }
      const auto [it, inserted] = entries.try_emplace(key_text, Entry{key_path, key, pair.second});
      if (!inserted) {
        fail(key, key_path, "duplicate key (first at line " + line_of(it->second.key) + ")");
      }
    }
    return entries;
  }

  static const Entry* find(const std::map<std::string, Entry>& entries, std::string_view key) {
    const auto it = entries.find(std::string(key));
    return it == entries.end() ? nullptr : &it->second;
  }

  void expect_map(const Entry& entry) const {
    if (!entry.value.IsMap()) {
      fail(entry, "expected a map, got " + describe(entry.value));
    }
  }

  // Any scalar is accepted, so `name: 123` or `GREETING: yes` keep their text.
  [[nodiscard]] std::string get_string(const Entry& entry) const {
    if (!entry.value.IsScalar()) {
      fail(entry, "expected a string, got " + describe(entry.value));
    }
    return entry.value.Scalar();
  }

  [[nodiscard]] std::uint64_t get_integer(const Entry& entry, std::uint64_t min,
                                          std::uint64_t max) const {
    const YAML::Node& value = entry.value;
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    if (!value.IsScalar()) {
      fail(entry, "expected an integer, got " + describe(value));
    }
    // The non-specific tag "!" marks a quoted or block scalar, which YAML types as a string.
    if (value.Tag() == "!") {
      fail(entry, "expected an integer, got the string " + in_backticks(value.Scalar()));
    }
    const std::string& text = value.Scalar();
    const bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!digits_only) {
      const bool negative =
          text.size() > 1 && text.front() == '-' &&
          std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (negative) {
        fail(entry, "out of range: must be " + range + ", got " + text);
      }
      fail(entry, "expected an integer, got " + in_backticks(text));
    }
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || number < min || number > max) {
      fail(entry, "out of range: must be " + range + ", got " + text);
    }
    return number;
  }

  [[nodiscard]] std::uint32_t get_u32(const Entry& entry, std::uint64_t min,
                                      std::uint64_t max) const {
    return static_cast<std::uint32_t>(get_integer(entry, min, max));
  }

  void load_node(const Entry& section, NodeConfig& node) const {
    expect_map(section);
    const auto entries =
        read_map(section.value, section.key_path,
                 {"listen", "state_dir", "region", "account_id", "keep_alive_s", "isolation",
                  "sandbox_uid", "sandbox_gid", "memory_budget_mb", "max_workers", "freeze_idle",
                  "freeze_idle_after_ms", "shutdown_grace_s", "init_cpu_burst"});
    if (const Entry* e = find(entries, "listen")) {
      const auto address = detail::parse_listen(get_string(*e));
      if (!address) {
        fail(*e,
             "expected HOST:PORT with HOST an IPv4 address, [IPv6 address] or localhost "
             "and PORT 0..65535, got " +
                 describe(e->value));
      }
      node.listen_host = address->host;
      node.listen_port = address->port;
    }
    if (const Entry* e = find(entries, "state_dir")) {
      const std::string text = get_string(*e);
      if (text.empty()) {
        fail(*e, "must not be empty");
      }
      node.state_dir = normalize(base_dir_, text);
      std::error_code ec;
      const auto status = fs::status(node.state_dir, ec);
      if (fs::exists(status) && !fs::is_directory(status)) {
        fail(*e, node.state_dir.string() + " exists but is not a directory");
      }
    }
    if (const Entry* e = find(entries, "region")) {
      node.region = get_string(*e);
      if (!detail::is_region(node.region)) {
        fail(*e, "expected lowercase letters, digits and '-' (like us-east-1), got " +
                     in_backticks(node.region));
      }
    }
    if (const Entry* e = find(entries, "account_id")) {
      node.account_id = get_string(*e);
      if (!detail::is_account_id(node.account_id)) {
        fail(*e, "expected 12 digits, got " + in_backticks(node.account_id));
      }
    }
    if (const Entry* e = find(entries, "keep_alive_s")) {
      node.keep_alive = std::chrono::seconds(get_integer(*e, 1, kMaxKeepAliveS));
    }
    if (const Entry* e = find(entries, "isolation")) node.isolation = get_isolation(*e);
    if (const Entry* e = find(entries, "sandbox_uid")) node.sandbox_uid = get_u32(*e, 1, 65534);
    if (const Entry* e = find(entries, "sandbox_gid")) node.sandbox_gid = get_u32(*e, 1, 65534);
    if (const Entry* e = find(entries, "memory_budget_mb")) {
      node.memory_budget_mb = get_integer(*e, 0, 1ULL << 30U);
      if (node.memory_budget_mb != 0 && node.memory_budget_mb < 128) {
        fail(*e, "must be 0 (80 % of the machine's memory) or at least 128, got " +
                     std::to_string(node.memory_budget_mb));
      }
    }
    if (const Entry* e = find(entries, "max_workers")) node.max_workers = get_u32(*e, 1, 100000);
    if (const Entry* e = find(entries, "freeze_idle")) node.freeze_idle = get_bool(*e);
    if (const Entry* e = find(entries, "freeze_idle_after_ms")) {
      node.freeze_idle_after = std::chrono::milliseconds(get_integer(*e, 0, 3'600'000));
    }
    if (const Entry* e = find(entries, "shutdown_grace_s")) {
      node.shutdown_grace = std::chrono::seconds(get_integer(*e, 0, 900));
    }
    if (const Entry* e = find(entries, "init_cpu_burst")) node.init_cpu_burst = get_bool(*e);
  }

  [[nodiscard]] std::string get_choice(const Entry& entry,
                                       std::initializer_list<std::string_view> choices) const {
    const std::string text = get_string(entry);
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
      fail(entry, "expected one of " + join(choices) + ", got " + in_backticks(text));
    }
    return text;
  }

  [[nodiscard]] Isolation get_isolation(const Entry& entry) const {
    return get_choice(entry, {"native", "none"}) == "none" ? Isolation::kNone : Isolation::kNative;
  }

  [[nodiscard]] bool get_bool(const Entry& entry) const {
    return get_choice(entry, {"true", "false"}) == "true";
  }

  [[nodiscard]] std::vector<std::string> get_string_list(const Entry& entry) const {
    if (!entry.value.IsSequence()) fail(entry, "expected a list, got " + describe(entry.value));
    std::vector<std::string> out;
    std::size_t index = 0;
    for (const auto& item : entry.value) {
      const Entry element{entry.key_path + "[" + std::to_string(index++) + "]", item, item};
      out.push_back(get_string(element));
      if (!detail::is_environment_name(out.back())) {
        fail(element, "expected a system call name like ptrace, got " + in_backticks(out.back()));
      }
    }
    return out;
  }

  void load_functions(const Entry& section, const NodeConfig& node,
                      std::vector<FunctionConfig>& functions) const {
    if (!section.value.IsSequence()) {
      fail(section, "expected a list, got " + describe(section.value));
    }
    // Name -> its entry's node, to point at the first definition of a repeated name.
    std::map<std::string, YAML::Node> seen;
    std::size_t index = 0;
    for (const auto& item : section.value) {
      const std::string path = "functions[" + std::to_string(index++) + "]";
      if (!item.IsMap()) {
        fail(item, path, "expected a map, got " + describe(item));
      }
      functions.push_back(load_function(item, path, node, seen));
    }
  }

  FunctionConfig load_function(const YAML::Node& item, const std::string& path,
                               const NodeConfig& node,
                               std::map<std::string, YAML::Node>& seen_names) const {
    const auto entries =
        read_map(item, path,
                 {"name", "runtime", "handler", "code", "memory_mb", "timeout_s", "environment",
                  "reserved_concurrency", "keep_alive_s", "keep_alive", "provisioned", "max_reuse",
                  "prepared_sandboxes", "zygote", "isolation", "network", "ephemeral_storage_mb",
                  "seccomp"});
    const auto required = [&](std::string_view key) -> const Entry& {
      const Entry* e = find(entries, key);
      if (e == nullptr) {
        fail(item, child_key(path, key), "missing (required)");
      }
      return *e;
    };

    FunctionConfig function;
    const Position at = position_of(item.Mark());
    function.source = file_ + ':' + std::to_string(at.line) + ':' + std::to_string(at.column);
    function.keep_alive = node.keep_alive;
    function.isolation = node.isolation;

    const Entry& name = required("name");
    function.name = get_string(name);
    if (!detail::is_function_name(function.name)) {
      fail(name, "expected 1 to 64 of A-Z a-z 0-9 _ -, got " + in_backticks(function.name));
    }
    if (const auto [it, inserted] = seen_names.try_emplace(function.name, item); !inserted) {
      fail(name, "duplicate function name " + in_backticks(function.name) +
                     " (first defined at line " + line_of(it->second) + ")");
    }

    const Entry& runtime = required("runtime");
    function.runtime = get_string(runtime);
    const auto info = detail::parse_runtime(function.runtime);
    if (!info) {
      fail(runtime, "unsupported runtime " + in_backticks(function.runtime) +
                        "; expected provided, provided.al2, provided.al2023, python3 or python3.N");
    }
    function.runtime_kind = info->kind;
    function.interpreter = info->interpreter;
    if (function.runtime_kind == RuntimeKind::kPython) {
      std::error_code ec;
      if (!fs::is_regular_file(function.interpreter, ec) ||
          ::access(function.interpreter.c_str(), X_OK) != 0) {
        fail(runtime, "interpreter " + function.interpreter.string() +
                          " is not installed or not executable");
      }
    }

    if (function.runtime_kind == RuntimeKind::kPython) {
      const Entry& handler = required("handler");
      function.handler = get_string(handler);
      if (!detail::is_python_handler(function.handler)) {
        fail(handler, "expected module.function (like lambda_function.lambda_handler), got " +
                          in_backticks(function.handler));
      }
    } else if (const Entry* handler = find(entries, "handler")) {
      function.handler = get_string(*handler);
    }

    const Entry& code = required("code");
    const std::string code_text = get_string(code);
    if (code_text.empty()) {
      fail(code, "must not be empty");
    }
    function.code_dir = normalize(base_dir_, code_text);
    check_code_dir(code, function);

    if (const Entry* e = find(entries, "memory_mb")) {
      function.memory_mb = get_u32(*e, 128, 10240);
    }
    if (const Entry* e = find(entries, "timeout_s")) {
      function.timeout_s = get_u32(*e, 1, 900);
    }
    if (const Entry* e = find(entries, "environment")) {
      function.environment = load_environment(*e);
    }
    if (const Entry* e = find(entries, "reserved_concurrency")) {
      function.reserved_concurrency = get_u32(*e, 0, 1000);
    }
    if (const Entry* e = find(entries, "keep_alive_s")) {
      function.keep_alive = std::chrono::seconds(get_integer(*e, 1, kMaxKeepAliveS));
    }
    if (const Entry* e = find(entries, "keep_alive")) {
      function.keep_alive_policy = get_choice(*e, {"fixed", "adaptive"}) == "adaptive"
                                       ? KeepAlivePolicy::kAdaptive
                                       : KeepAlivePolicy::kFixed;
    }
    if (const Entry* e = find(entries, "provisioned")) {
      function.provisioned = get_u32(*e, 0, 1000);
      if (function.provisioned > function.reserved_concurrency) {
        fail(*e, "provisioned (" + std::to_string(function.provisioned) +
                     ") cannot exceed reserved_concurrency (" +
                     std::to_string(function.reserved_concurrency) + ")");
      }
    }
    if (const Entry* e = find(entries, "max_reuse")) function.max_reuse = get_u32(*e, 0, 1000000);
    if (const Entry* e = find(entries, "zygote")) {
      function.zygote = get_bool(*e);
      if (function.zygote && function.runtime_kind != RuntimeKind::kPython) {
        fail(*e, "only python runtimes have a zygote; runtime is " + function.runtime);
      }
    }
    if (const Entry* e = find(entries, "prepared_sandboxes")) {
      function.prepared_sandboxes = get_u32(*e, 0, 64);
    }
    if (const Entry* e = find(entries, "isolation")) function.isolation = get_isolation(*e);
    if (const Entry* e = find(entries, "network")) {
      function.network_host = get_choice(*e, {"none", "host"}) == "host";
    }
    if (const Entry* e = find(entries, "ephemeral_storage_mb")) {
      function.ephemeral_storage_mb = get_u32(*e, 512, 10240);
    }
    if (const Entry* e = find(entries, "seccomp")) {
      expect_map(*e);
      const auto policy = read_map(e->value, e->key_path, {"deny", "allow"});
      if (const Entry* deny = find(policy, "deny")) function.seccomp_deny = get_string_list(*deny);
      if (const Entry* allow = find(policy, "allow")) {
        function.seccomp_allow = get_string_list(*allow);
      }
    }
    return function;
  }

  void check_code_dir(const Entry& code, const FunctionConfig& function) const {
    const std::string dir = function.code_dir.string();
    std::error_code ec;
    const auto status = fs::status(function.code_dir, ec);
    if (status.type() == fs::file_type::not_found) {
      fail(code, "directory " + dir + " does not exist");
    }
    if (ec) {
      fail(code, "cannot access " + dir + ": " + ec.message());
    }
    if (!fs::is_directory(status)) {
      fail(code, dir + " is not a directory");
    }
    if (function.runtime_kind != RuntimeKind::kProvided) {
      return;
    }

    // The provided runtimes start `bootstrap` directly, so a broken one would only show up as
    // a failed cold start much later.
    const fs::path bootstrap = function.code_dir / "bootstrap";
    const auto bootstrap_status = fs::status(bootstrap, ec);
    if (ec && bootstrap_status.type() != fs::file_type::not_found) {
      fail(code, "cannot access " + bootstrap.string() + ": " + ec.message());
    }
    if (!fs::exists(bootstrap_status)) {
      fail(code, "runtime " + function.runtime + " needs an executable " + bootstrap.string() +
                     ", which does not exist");
    }
    if (!fs::is_regular_file(bootstrap_status)) {
      fail(code, bootstrap.string() + " is not a regular file");
    }
    if (::access(bootstrap.c_str(), X_OK) != 0) {
      fail(code, bootstrap.string() + " is not executable");
    }
  }

  [[nodiscard]] std::vector<std::pair<std::string, std::string>> load_environment(
      const Entry& section) const {
    expect_map(section);
    std::vector<std::pair<std::string, std::string>> environment;
    std::map<std::string, YAML::Node> seen;
    std::size_t total_bytes = 0;
    for (const auto& pair : section.value) {
      const YAML::Node& key = pair.first;
      if (!key.IsScalar()) {
        fail(key, section.key_path, "variable names must be strings, got " + describe(key));
      }
      const std::string& name = key.Scalar();
      const Entry entry{child_key(section.key_path, name), key, pair.second};
      if (!detail::is_environment_name(name)) {
        fail(key, entry.key_path, "variable names must match [A-Za-z_][A-Za-z0-9_]*");
      }
      if (detail::is_reserved_environment_name(name)) {
        fail(key, entry.key_path, "reserved: Lambda sets this variable itself");
      }
      if (const auto [it, inserted] = seen.try_emplace(name, key); !inserted) {
        fail(key, entry.key_path, "duplicate key (first at line " + line_of(it->second) + ")");
      }
      if (!entry.value.IsScalar()) {
        fail(entry, "expected a string, got " + describe(entry.value) +
                        (entry.value.IsNull() ? " (write \"\" for an empty value)" : ""));
      }
      total_bytes += name.size() + entry.value.Scalar().size();
      environment.emplace_back(name, entry.value.Scalar());
    }
    if (total_bytes > detail::kMaxEnvironmentBytes) {
      fail(section, "names and values add up to " + std::to_string(total_bytes) +
                        " bytes; Lambda allows at most " +
                        std::to_string(detail::kMaxEnvironmentBytes));
    }
    return environment;
  }

  std::string file_;
  fs::path base_dir_;
};

}  // namespace

Config parse_config(const std::string& yaml_text, const fs::path& file) {
  const std::string label = file.string();
  std::error_code ec;
  fs::path absolute_file = fs::absolute(file, ec);
  if (ec) {
    throw ConfigError(one_line(label + ": cannot resolve path: " + ec.message()));
  }
  absolute_file = absolute_file.lexically_normal();

  try {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(yaml_text);
    } catch (const YAML::ParserException& e) {
      throw_error(label, position_of(e.mark), kDocumentKey, "YAML syntax error: " + e.msg);
    }
    if (documents.empty() || documents.front().IsNull()) {
      throw_error(label, {}, kDocumentKey,
                  "empty configuration; expected a map with keys node, functions");
    }
    if (documents.size() > 1) {
      throw_error(label, position_of(documents[1].Mark()), kDocumentKey,
                  "expected a single YAML document, found " + std::to_string(documents.size()));
    }
    Config config = Loader(label, absolute_file.parent_path()).load(documents.front());
    config.file = absolute_file;
    return config;
  } catch (const YAML::Exception& e) {
    // Only reached if yaml-cpp throws somewhere the checks above did not foresee.
    throw_error(label, position_of(e.mark), kDocumentKey, e.msg);
  }
}

Config load_config(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw_read_error(file, errno);
  }
  std::string text;
  std::array<char, 16384> buffer{};
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw_read_error(file, error);
    }
    if (n == 0) {
      break;
    }
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_config(text, file);
}

}  // namespace ember::config
