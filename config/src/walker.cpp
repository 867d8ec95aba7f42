#include "walker.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>

#include "messages.hpp"

namespace ember::config::detail {
namespace {

namespace fs = std::filesystem;

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string range_text(const IntegerRange& range) {
  std::string out = std::to_string(range.min) + ".." + std::to_string(range.max);
  if (!range.zero_means.empty()) {
    out = "0 (" + std::string(range.zero_means) + ") or " + out;
  }
  return out;
}

}  // namespace

Walker::Walker(std::string file, fs::path base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

void Walker::fail(const YAML::Node& at, std::string_view key, std::string_view problem) const {
  throw_error(file_, position_of(at.Mark()), key, problem);
}

void Walker::fail(const Entry& entry, std::string_view problem) const {
  fail(entry.value.IsNull() ? entry.key : entry.value, entry.key_path, problem);
}

std::string Walker::line_of(const YAML::Node& node) {
  return std::to_string(position_of(node.Mark()).line);
}

Entries Walker::read_map(const YAML::Node& map, std::string_view path,
                         std::span<const std::string_view> allowed) const {
  Entries entries;
  for (const auto& pair : map) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      fail(key, path.empty() ? kDocumentKey : path, "keys must be strings, got " + describe(key));
    }
    const std::string& key_text = key.Scalar();
    const std::string key_path = child_key(path, key_text);
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

void Walker::expect_map(const Entry& entry) const {
  if (!entry.value.IsMap()) {
    fail(entry, "expected a map, got " + describe(entry.value));
  }
}

std::string Walker::string(const Entry& entry) const {
  if (!entry.value.IsScalar()) {
    fail(entry, "expected a string, got " + describe(entry.value));
  }
  return entry.value.Scalar();
}

std::uint64_t Walker::integer(const Entry& entry, const IntegerRange& range) const {
  const YAML::Node& value = entry.value;
  if (!value.IsScalar()) {
    fail(entry, "expected an integer, got " + describe(value));
  }
  // The non-specific tag "!" marks a quoted or block scalar, which YAML types as a string.
  if (value.Tag() == "!") {
    fail(entry, "expected an integer, got the string " + in_backticks(value.Scalar()));
  }
  const std::string& text = value.Scalar();
  const std::string out_of_range = "out of range: must be " + range_text(range) + ", got " + text;
  if (!all_digits(text)) {
    if (text.size() > 1 && text.front() == '-' && all_digits(text.substr(1))) {
      fail(entry, out_of_range);
    }
    fail(entry, "expected an integer, got " + in_backticks(text));
  }
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const bool zero_allowed = number == 0 && !range.zero_means.empty();
  if (ec != std::errc() || (!zero_allowed && (number < range.min || number > range.max))) {
    fail(entry, out_of_range);
  }
  return number;
}

std::size_t Walker::choice(const Entry& entry, std::span<const std::string_view> choices) const {
  const std::string text = string(entry);
  const auto it = std::find(choices.begin(), choices.end(), text);
  if (it == choices.end()) {
    fail(entry, "expected one of " + join(choices) + ", got " + in_backticks(text));
  }
  return static_cast<std::size_t>(it - choices.begin());
}

std::vector<std::string> Walker::string_list(const Entry& entry, bool (*accepts)(std::string_view),
                                             std::string_view expected) const {
  if (!entry.value.IsSequence()) {
    fail(entry, "expected a list, got " + describe(entry.value));
  }
  std::vector<std::string> out;
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    const YAML::Node& node = item;
    const Entry element{entry.key_path + "[" + std::to_string(index++) + "]", node, node};
    out.push_back(string(element));
    if (!accepts(out.back())) {
      fail(element, "expected " + std::string(expected) + ", got " + in_backticks(out.back()));
    }
  }
  return out;
}

std::vector<std::uint64_t> Walker::integer_list(const Entry& entry, const IntegerRange& range,
                                                const IntegerRange& size) const {
  if (!entry.value.IsSequence()) {
    fail(entry, "expected a list, got " + describe(entry.value));
  }
  if (entry.value.size() < size.min || entry.value.size() > size.max) {
    fail(entry, "expected " + std::to_string(size.min) + ".." + std::to_string(size.max) +
                    " items, got " + std::to_string(entry.value.size()));
  }
  std::vector<std::uint64_t> out;
  std::size_t index = 0;
  for (const auto& item : entry.value) {
    const YAML::Node& node = item;
    out.push_back(
        integer({entry.key_path + "[" + std::to_string(index++) + "]", node, node}, range));
  }
  return out;
}

fs::path Walker::path(const Entry& entry) const {
  const std::string text = string(entry);
  if (text.empty()) {
    fail(entry, "must not be empty");
  }
  return resolve(text);
}

fs::path Walker::resolve(const fs::path& path) const {
  fs::path out = (path.is_absolute() ? path : base_dir_ / path).lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) {
    out = out.parent_path();
  }
  return out;
}

}  // namespace ember::config::detail
