// How a problem in ember.yaml becomes its one-line message: "FILE:LINE:COL: KEY: problem".
#pragma once

#include <yaml-cpp/yaml.h>

#include <span>
#include <string>
#include <string_view>

namespace ember::config::detail {

// Stands in for KEY in messages about the document as a whole (syntax errors, wrong root).
inline constexpr std::string_view kDocumentKey = "<document>";

struct Position {
  int line = 1;  // 1-based
  int column = 1;
};

// yaml-cpp marks are 0-based, and -1 when it has no position (an empty document).
Position position_of(const YAML::Mark& mark);

// Messages must stay one line even when they quote multi-line YAML scalars.
std::string one_line(std::string_view text);

// Quotes a user's value in a message, cut short so one bad value cannot flood the log.
std::string in_backticks(std::string_view text);

// What a node is, for "expected X, got ..." messages: "a map", "a list", "null" or its text.
std::string describe(const YAML::Node& node);

// "a, b, c"
std::string join(std::span<const std::string_view> words);

// "parent.key", or "key" at the top level.
std::string child_key(std::string_view parent, std::string_view key);

// Throws ConfigError("FILE:LINE:COL: KEY: problem").
[[noreturn]] void throw_error(std::string_view file, Position at, std::string_view key,
                              std::string_view problem);

}  // namespace ember::config::detail
