// Reads the values of ember.yaml as checked C++ values and reports each problem at its
// position; the schema tables (schema.hpp) say which check applies to which key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::config::detail {

// One key: value pair of a map, kept with its key node so errors can point at either.
struct Entry {
  std::string key_path;  // dotted, e.g. "functions[0].memory_mb"
  YAML::Node key;
  YAML::Node value;
};

// The entries of one map by key, as read_map found them.
using Entries = std::map<std::string, Entry, std::less<>>;

struct IntegerRange {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  // Non-empty: 0 is also allowed and means this (like "80 % of the machine's memory").
  std::string_view zero_means;
};

class Walker {
 public:
  // `file` names the configuration in messages; relative paths resolve against `base_dir`.
  Walker(std::string file, std::filesystem::path base_dir);

  [[nodiscard]] const std::string& file() const { return file_; }

  [[noreturn]] void fail(const YAML::Node& at, std::string_view key,
                         std::string_view problem) const;
  // An empty value's mark points at whatever token follows it, often on the next line, so
  // problems with missing values are reported at the key instead.
  [[noreturn]] void fail(const Entry& entry, std::string_view problem) const;
  [[nodiscard]] static std::string line_of(const YAML::Node& node);

  // Rejects non-string keys, keys outside `allowed` and repeated keys (which yaml-cpp keeps).
  [[nodiscard]] Entries read_map(const YAML::Node& map, std::string_view path,
                                 std::span<const std::string_view> allowed) const;

  void expect_map(const Entry& entry) const;
  // Any scalar is accepted, so `name: 123` or `GREETING: yes` keep their text.
  [[nodiscard]] std::string string(const Entry& entry) const;
  [[nodiscard]] std::uint64_t integer(const Entry& entry, const IntegerRange& range) const;
  // The index of the value in `choices`.
  [[nodiscard]] std::size_t choice(const Entry& entry,
                                   std::span<const std::string_view> choices) const;
  // Each item a string that `accepts`; else "expected `expected`, got ...".
  [[nodiscard]] std::vector<std::string> string_list(const Entry& entry,
                                                     bool (*accepts)(std::string_view),
                                                     std::string_view expected) const;
  // A list of `size` items (its min..max), each an integer in `range`.
  [[nodiscard]] std::vector<std::uint64_t> integer_list(const Entry& entry,
                                                        const IntegerRange& range,
                                                        const IntegerRange& size) const;
  // A non-empty path, made absolute against the base directory.
  [[nodiscard]] std::filesystem::path path(const Entry& entry) const;
  // Absolute and lexically normal, without a trailing slash, so paths compare equal.
  [[nodiscard]] std::filesystem::path resolve(const std::filesystem::path& path) const;

 private:
  std::string file_;
  std::filesystem::path base_dir_;
};

}  // namespace ember::config::detail
