#include "messages.hpp"

#include "ember/config/config.hpp"

namespace ember::config::detail {

Position position_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

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

std::string join(std::span<const std::string_view> words) {
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

void throw_error(std::string_view file, Position at, std::string_view key,
                 std::string_view problem) {
  std::string message(file);
  message += ':' + std::to_string(at.line) + ':' + std::to_string(at.column) + ": ";
  message += key;
  message += ": ";
  message += problem;
  throw ConfigError(one_line(message));
}

}  // namespace ember::config::detail
