#include "function_versions.hpp"

#include <algorithm>
#include <boost/json/value_to.hpp>
#include <charconv>

namespace ember::engine {

namespace {

// What publishing freezes: equal means nothing changed since that version.
bool same_code_and_settings(const StoredFunction& a, const StoredFunction& b) {
  return a.code_sha256_hex == b.code_sha256_hex && a.runtime == b.runtime &&
         a.handler == b.handler && a.role == b.role && a.memory_mb == b.memory_mb &&
         a.timeout_s == b.timeout_s && a.environment == b.environment &&
         a.image_uri == b.image_uri && a.image_config == b.image_config;
}

}  // namespace

std::optional<std::uint32_t> FunctionVersions::same_as_newest(const StoredFunction& latest) const {
  if (versions.empty()) return std::nullopt;
  const auto& [number, newest] = *versions.rbegin();
  if (number != last_number || !same_code_and_settings(newest, latest)) return std::nullopt;
  return number;
}

std::vector<std::string> FunctionVersions::aliases_of(std::uint32_t n) const {
  std::vector<std::string> out;
  const auto text = std::to_string(n);
  for (const auto& [name, alias] : aliases) {
    if (alias.function_version == text || alias.second == n) out.push_back(name);
  }
  return out;
}

std::string FunctionVersions::pick(const AliasRecord& alias, double draw) {
  if (alias.second && draw < alias.second_weight) return std::to_string(*alias.second);
  return alias.function_version;
}

std::vector<std::string> FunctionVersions::code() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : versions) out.push_back(f.code_sha256_hex);
  return out;
}

boost::json::object to_json(const FunctionVersions& v) {
  boost::json::array versions;
  for (const auto& [n, f] : v.versions) {
    auto o = to_json(f);
    o["Version"] = n;
    versions.push_back(std::move(o));
  }
  boost::json::array aliases;
  for (const auto& [name, a] : v.aliases) {
    boost::json::object o{{"Name", a.name},
                          {"FunctionVersion", a.function_version},
                          {"Description", a.description},
                          {"RevisionId", a.revision_id}};
    if (a.second) {
      o["AdditionalVersion"] = *a.second;
      o["AdditionalWeight"] = a.second_weight;
    }
    aliases.push_back(std::move(o));
  }
  return {{"LastVersion", v.last_number},
          {"Versions", std::move(versions)},
          {"Aliases", std::move(aliases)}};
}

FunctionVersions function_versions_from_json(const boost::json::object& o) {
  FunctionVersions v;
  v.last_number = boost::json::value_to<std::uint32_t>(o.at("LastVersion"));
  for (const auto& item : o.at("Versions").as_array()) {
    const auto& object = item.as_object();
    v.versions.emplace(boost::json::value_to<std::uint32_t>(object.at("Version")),
                       stored_function_from_json(object));
  }
  for (const auto& item : o.at("Aliases").as_array()) {
    const auto& object = item.as_object();
    AliasRecord a;
    a.name = object.at("Name").as_string();
    a.function_version = object.at("FunctionVersion").as_string();
    a.description = object.at("Description").as_string();
    a.revision_id = object.at("RevisionId").as_string();
    if (const auto* second = object.if_contains("AdditionalVersion")) {
      a.second = boost::json::value_to<std::uint32_t>(*second);
      a.second_weight = object.at("AdditionalWeight").to_number<double>();
    }
    std::string name = a.name;
    v.aliases.emplace(std::move(name), std::move(a));
  }
  return v;
}

std::optional<std::uint32_t> version_number(std::string_view text) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

std::optional<std::string> alias_name_error(std::string_view name) {
  const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
  const bool digits = std::all_of(
      name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!name.empty() && name.size() <= 128 && allowed && !digits) return std::nullopt;
  // Lambda's own text for its model's constraint.
  return "1 validation error detected: Value '" + std::string(name) +
         "' at 'name' failed to satisfy constraint: Member must satisfy regular expression "
         "pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+) and have length 1..128 (an alias name may not be "
         "a number: numbers name versions)";
}

std::variant<AliasRouting, std::string> parse_routing(const boost::json::value& routing_config,
                                                      std::string_view function_version,
                                                      const FunctionVersions& versions) {
  if (routing_config.is_null()) return AliasRouting{};
  const auto* config = routing_config.if_object();
  const auto* weights =
      config != nullptr ? config->if_contains("AdditionalVersionWeights") : nullptr;
  if (config == nullptr || (weights != nullptr && !weights->is_object() && !weights->is_null())) {
    return std::string(
        R"(RoutingConfig must be {"AdditionalVersionWeights": {"VERSION": WEIGHT}})");
  }
  if (weights == nullptr || weights->is_null() || weights->as_object().empty()) {
    return AliasRouting{};
  }
  const auto& map = weights->as_object();
  if (map.size() > 1) {
    return "RoutingConfig.AdditionalVersionWeights names " + std::to_string(map.size()) +
           " versions; an alias routes to at most one version besides its own";
  }
  const auto& [key, value] = *map.begin();
  const auto n = version_number(key);
  if (!n) {
    return "RoutingConfig.AdditionalVersionWeights: '" + std::string(key) +
           "' is not a published version number (only numbered versions take a weight, never "
           "$LATEST)";
  }
  if (!versions.versions.contains(*n)) {
    return "RoutingConfig.AdditionalVersionWeights: version " + std::string(key) +
           " does not exist";
  }
  if (function_version == "$LATEST") {
    return std::string(
        "RoutingConfig is not supported for an alias of $LATEST: point the alias at a published "
        "version to give another version a weight");
  }
  if (key == function_version) {
    return "RoutingConfig.AdditionalVersionWeights: version " + std::string(key) +
           " is the alias's own FunctionVersion; name a different version";
  }
  if (!value.is_number()) {
    return "RoutingConfig.AdditionalVersionWeights: the weight of version " + std::string(key) +
           " must be a number from 0.0 to 1.0";
  }
  const double weight = value.to_number<double>();
  if (!(weight >= 0.0 && weight <= 1.0)) {
    return "RoutingConfig.AdditionalVersionWeights: the weight of version " + std::string(key) +
           " is " + std::to_string(weight) + "; it must be from 0.0 to 1.0";
  }
  return AliasRouting{*n, weight};
}

boost::json::object alias_configuration(const AliasRecord& alias, const std::string& alias_arn) {
  boost::json::object o{{"AliasArn", alias_arn},
                        {"Name", alias.name},
                        {"FunctionVersion", alias.function_version},
                        {"Description", alias.description},
                        {"RevisionId", alias.revision_id}};
  if (alias.second) {
    o["RoutingConfig"] = boost::json::object{
        {"AdditionalVersionWeights",
         boost::json::object{{std::to_string(*alias.second), alias.second_weight}}}};
  }
  return o;
}

}  // namespace ember::engine
