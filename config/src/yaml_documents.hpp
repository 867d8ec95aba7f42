// The first document of a YAML text, and how many there are up to a bound: yaml-cpp 0.7's LoadAll
// never returns on some malformed text (a lone ",": each round yields a null document without
// consuming a token, and the vector grows until memory runs out; jbeder/yaml-cpp#1040, fixed
// upstream after 0.7). Found by tests/fuzz/config_fuzz.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>

namespace ember::config::detail {

// Documents are counted up to one past this; a config has one.
inline constexpr std::size_t kMaxCountedDocuments = 16;

struct YamlDocuments {
  YAML::Node first;                  // null when the text has no document
  std::optional<YAML::Mark> second;  // where a second document starts, when there is one
  std::size_t count = 0;             // documents seen, at most kMaxCountedDocuments + 1
};

// Throws YAML::ParserException on a syntax error, as YAML::Load does.
YamlDocuments load_documents(const std::string& text);

}  // namespace ember::config::detail
