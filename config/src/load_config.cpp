// The loader: the file, its one YAML document, and the walk of the schema tables over it.
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <map>
#include <system_error>

#include "auth.hpp"
#include "ember/config/config.hpp"
#include "messages.hpp"
#include "readers.hpp"
#include "rules.hpp"
#include "schema.hpp"
#include "yaml_documents.hpp"

namespace ember::config {
namespace {

namespace fs = std::filesystem;
using detail::Entries;
using detail::Walker;

[[noreturn]] void throw_read_error(const fs::path& file, int error) {
  throw ConfigError(
      detail::one_line(file.string() + ": cannot read: " + std::system_category().message(error)));
}

// "a map with keys node, functions"
std::string expected_document() {
  return "a map with keys " + detail::join(detail::names_of(detail::kTopKeys));
}

Config load_document(const Walker& walker, const YAML::Node& root) {
  if (!root.IsMap()) {
    walker.fail(root, detail::kDocumentKey,
                "expected " + expected_document() + ", got " + detail::describe(root));
  }
  Config config;
  config.node.state_dir = walker.resolve(detail::kDefaultStateDir);
  detail::walk(walker, detail::kTopKeys, root, "", config);
  detail::check_auth(walker, root, config);
  return config;
}

}  // namespace

namespace detail {

void read_schedules(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  if (!entry.value.IsSequence()) {
    walker.fail(entry, "expected a list, got " + describe(entry.value));
  }
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    const std::string path = entry.key_path + "[" + std::to_string(index++) + "]";
    if (!item.IsMap()) {
      walker.fail(item, path, "expected a map, got " + describe(item));
    }
    ScheduleConfig rule;
    walk(walker, kScheduleKeys, item, path, rule);
    function.schedules.push_back(std::move(rule));
  }
}

// Rule names are unique on the node (EventBridge's are per account and region), since the
// rule's ARN is built from the name alone.
void check_rule_names(const Walker& walker, const std::vector<Entries>& function_entries) {
  std::map<std::string, YAML::Node> seen;
  for (const Entries& entries : function_entries) {
    const auto schedules = entries.find("schedules");
    if (schedules == entries.end()) continue;
    std::size_t index = 0;
    for (const auto& item : schedules->second.value) {
      const std::string path = schedules->second.key_path + "[" + std::to_string(index++) + "]";
      const YAML::Node name = item["name"];
      if (const auto [it, inserted] = seen.try_emplace(name.Scalar(), name); !inserted) {
        walker.fail(name, path + ".name",
                    "duplicate schedule name " + in_backticks(name.Scalar()) +
                        " (first defined at line " + Walker::line_of(it->second) + ")");
      }
    }
  }
}

void read_functions(const Walker& walker, const Entry& entry, Config& config) {
  if (!entry.value.IsSequence()) {
    walker.fail(entry, "expected a list, got " + describe(entry.value));
  }
  FunctionNames names;
  std::vector<Entries> function_entries;
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    const std::string path = entry.key_path + "[" + std::to_string(index++) + "]";
    if (!item.IsMap()) {
      walker.fail(item, path, "expected a map, got " + describe(item));
    }
    FunctionConfig function;
    const Position at = position_of(item.Mark());
    function.source =
        walker.file() + ':' + std::to_string(at.line) + ':' + std::to_string(at.column);
    for (const auto& key : kFunctionKeys) {
      if (key.inherit.apply != nullptr) {
        key.inherit.apply(config.node, function);
      }
    }
    Entries entries = walk(walker, kFunctionKeys, item, path, function);
    check_function(walker, item, path, entries, function, names);
    config.functions.push_back(std::move(function));
    function_entries.push_back(std::move(entries));
  }
  check_destinations(walker, function_entries, config.functions);
  check_rule_names(walker, function_entries);
  check_route_paths(walker, function_entries, config.functions);
  check_object_notifications(walker, function_entries, config);
}

}  // namespace detail

Config parse_config(const std::string& yaml_text, const fs::path& file) {
  const std::string label = file.string();
  std::error_code ec;
  fs::path absolute_file = fs::absolute(file, ec);
  if (ec) {
    throw ConfigError(detail::one_line(label + ": cannot resolve path: " + ec.message()));
  }
  absolute_file = absolute_file.lexically_normal();

  try {
    const detail::YamlDocuments documents = [&] {
      try {
        return detail::load_documents(yaml_text);
      } catch (const YAML::ParserException& e) {
        detail::throw_error(label, detail::position_of(e.mark), detail::kDocumentKey,
                            "YAML syntax error: " + e.msg);
      }
    }();
    if (!documents.first || documents.first.IsNull()) {
      detail::throw_error(label, {}, detail::kDocumentKey,
                          "empty configuration; expected " + expected_document());
    }
    if (documents.second) {
      detail::throw_error(label, detail::position_of(*documents.second), detail::kDocumentKey,
                          "expected a single YAML document, found " +
                              (documents.count > detail::kMaxCountedDocuments
                                   ? "more than " + std::to_string(detail::kMaxCountedDocuments)
                                   : std::to_string(documents.count)));
    }
    Config config = load_document(Walker(label, absolute_file.parent_path()), documents.first);
    config.file = absolute_file;
    return config;
  } catch (const YAML::Exception& e) {
    // Only reached if yaml-cpp throws somewhere the checks above did not foresee.
    detail::throw_error(label, detail::position_of(e.mark), detail::kDocumentKey, e.msg);
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
