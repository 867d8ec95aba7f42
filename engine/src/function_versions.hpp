// A function's published versions and aliases (Lambda's PublishVersion, CreateAlias, ...):
// each version a frozen copy of the function's code and settings, numbered 1, 2, ...; each
// alias a name for one version, or for two with a share of the invocations going to the second
// (AliasRoutingConfiguration, for canaries).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "function_store.hpp"

namespace ember::engine {

struct AliasRecord {
  std::string name;
  std::string function_version;  // "$LATEST" or "N"
  // AdditionalVersionWeights: the second version and its share (0..1) of the invocations.
  std::optional<std::uint32_t> second;
  double second_weight = 0;
  std::string description;
  std::string revision_id;
};

struct FunctionVersions {
  // The last number given; numbers are never reused, even after their version is deleted.
  std::uint32_t last_number = 0;
  std::map<std::uint32_t, StoredFunction> versions;
  std::map<std::string, AliasRecord, std::less<>> aliases;

  // The newest version when it has $LATEST's code and settings (publishing again returns it).
  [[nodiscard]] std::optional<std::uint32_t> same_as_newest(const StoredFunction& latest) const;
  // Names of the aliases that route to version `n` (as theirs or as the second).
  [[nodiscard]] std::vector<std::string> aliases_of(std::uint32_t n) const;
  // The version `alias` sends one invocation to, given `draw` uniform in [0, 1).
  [[nodiscard]] static std::string pick(const AliasRecord& alias, double draw);
  // The code packages (SHA-256 hex) the versions use.
  [[nodiscard]] std::vector<std::string> code() const;
};

boost::json::object to_json(const FunctionVersions& v);
// Throws (std::exception) on a file that does not read.
FunctionVersions function_versions_from_json(const boost::json::object& o);

// "N" (1..4294967295, no sign, no leading zero) as a number; nothing for anything else.
std::optional<std::uint32_t> version_number(std::string_view text);
// Why `name` is not an alias name (Lambda's (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128), or nothing.
std::optional<std::string> alias_name_error(std::string_view name);

// RoutingConfig of CreateAlias or UpdateAlias, checked against the function's versions for an
// alias of `function_version`: the second version and its weight (none: one version), or why
// it is refused.
struct AliasRouting {
  std::optional<std::uint32_t> second;
  double weight = 0;
};
std::variant<AliasRouting, std::string> parse_routing(const boost::json::value& routing_config,
                                                      std::string_view function_version,
                                                      const FunctionVersions& versions);

// Lambda's AliasConfiguration.
boost::json::object alias_configuration(const AliasRecord& alias, const std::string& alias_arn);

}  // namespace ember::engine
