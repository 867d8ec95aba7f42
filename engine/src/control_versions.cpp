// The control plane's versions and aliases: PublishVersion, ListVersionsByFunction, the alias
// operations, DeleteFunction of one version, GetFunction of a version or alias, and where an
// invocation of NAME:QUALIFIER goes.
#include <random>

#include "control_fields.hpp"
#include "control_plane.hpp"
#include "ember/engine/node.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "function_registry.hpp"

namespace ember::engine {

using runtime_api::ControlResult;

namespace {

// Uniform in [0, 1): which version of a weighted alias an invocation runs. Per thread, as the
// design keeps every generator on the invoke path (docs/design.md#threading).
double draw() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

ControlResult alias_not_found(const std::string& alias_arn) {
  return ControlResult::fail(404, "ResourceNotFoundException", "Alias not found: " + alias_arn);
}

// One page of `items` (in order, each with its key) after `marker`, as {KEY: [...], NextMarker}.
ControlResult page(std::vector<std::pair<std::string, boost::json::object>> items,
                   const std::string& key, const std::string& marker,
                   const std::optional<int>& max_items) {
  const std::size_t size = max_items ? static_cast<std::size_t>(*max_items) : 50;
  auto it = items.begin();
  if (!marker.empty()) {
    it = std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == marker; });
    if (it != items.end()) ++it;
  }
  boost::json::array out;
  for (; it != items.end() && out.size() < size; ++it) out.push_back(std::move(it->second));
  boost::json::object body;
  body[key] = std::move(out);
  if (it != items.end()) body["NextMarker"] = std::prev(it)->first;
  return ok(std::move(body));
}

}  // namespace

std::optional<InvokeTarget> ControlPlane::route(std::string_view name,
                                                const std::optional<std::string>& qualifier) {
  if (!qualifier || *qualifier == "$LATEST") return InvokeTarget{std::string(name), "$LATEST"};
  const auto it = versions_.find(name);
  if (it == versions_.end()) return std::nullopt;
  const auto& versions = it->second;
  std::string version;
  if (const auto n = version_number(*qualifier)) {
    if (!versions.versions.contains(*n)) return std::nullopt;
    version = *qualifier;
  } else {
    const auto alias = versions.aliases.find(*qualifier);
    if (alias == versions.aliases.end()) return std::nullopt;
    version = FunctionVersions::pick(alias->second, draw());
  }
  return InvokeTarget{pool_key(name, version), version};
}

void ControlPlane::load_versions(const std::string& name, std::set<std::string>& used,
                                 std::vector<std::string>& problems) {
  std::string problem;
  auto json = store_.load_versions(name, problem);
  if (!problem.empty()) problems.push_back(problem);
  if (!json) return;
  FunctionVersions versions;
  try {
    versions = function_versions_from_json(*json);
  } catch (const std::exception& e) {
    problems.push_back("versions of function " + name + ": " + e.what());
    return;
  }
  for (const auto& [n, f] : versions.versions) {
    used.insert(f.code_sha256_hex);
    if (auto why = load_image(f)) {
      // Kept (its number is not given again); invoking it answers 404 until it is deleted.
      problems.push_back("function " + name + " version " + std::to_string(n) + ": " + *why);
      continue;
    }
    auto made = to_config(f, n);
    if (auto* why = std::get_if<std::string>(&made)) {
      problems.push_back("function " + name + " version " + std::to_string(n) + ": " + *why);
      continue;
    }
    auto& runnable = std::get<Runnable>(made);
    node_.put_function(std::move(runnable.config), std::move(runnable.image));
  }
  versions_.insert_or_assign(name, std::move(versions));
}

std::optional<ControlResult> ControlPlane::save_versions(const std::string& name) {
  if (auto failed = store_.save_versions(name, to_json(versions_.at(name)))) {
    return ControlResult::fail(500, "ServiceException",
                               "Storing the versions of " + name + " failed: " + *failed);
  }
  return std::nullopt;
}

void ControlPlane::remove_versions(const std::string& name) {
  const auto it = versions_.find(name);
  if (it == versions_.end()) return;
  for (const auto& [n, f] : it->second.versions) {
    node_.remove_function(pool_key(name, std::to_string(n)));
  }
  versions_.erase(it);
  store_.erase_versions(name);
}

ControlResult ControlPlane::publish_version(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  const auto& latest = *std::get<const StoredFunction*>(found);
  if (auto refused = check_revision(request.body, latest.revision_id)) return *refused;
  Fields fields(request.body);
  const auto sha = fields.string("CodeSha256");
  const auto description = fields.string("Description");
  if (fields.problem()) return invalid(*fields.problem());
  if (description && description->size() > 256) {
    return invalid("Description is longer than 256 characters");
  }
  if (sha) {
    const auto current = configuration(latest).at("CodeSha256").as_string();
    if (*sha != current) {
      return invalid("CodeSHA256 (" + *sha + ") is different from current CodeSHA256 in $LATEST (" +
                     std::string(current) + "). Please try again with the current CodeSHA256.");
    }
  }
  return publish_latest(latest.name, description);
}

ControlResult ControlPlane::publish_latest(const std::string& name,
                                           const std::optional<std::string>& description) {
  const auto& latest = functions_.at(name);
  auto& versions = versions_[name];
  if (const auto same = versions.same_as_newest(latest)) {
    // Lambda publishes nothing when neither code nor settings changed since the newest version.
    const auto text = std::to_string(*same);
    return ok(configuration(versions.versions.at(*same), text, text), 201);
  }
  StoredFunction frozen = latest;
  if (description) frozen.description = *description;
  frozen.last_modified = now_text();
  frozen.revision_id = runtime_api::new_request_id();
  const std::uint32_t n = versions.last_number + 1;
  auto made = to_config(frozen, n);
  if (auto* why = std::get_if<std::string>(&made)) return invalid(*why);
  versions.last_number = n;
  versions.versions.emplace(n, frozen);
  if (auto failed = save_versions(name)) {
    versions.versions.erase(n);
    versions.last_number = n - 1;
    return *failed;
  }
  auto& runnable = std::get<Runnable>(made);
  node_.put_function(std::move(runnable.config), std::move(runnable.image));
  const auto text = std::to_string(n);
  return ok(configuration(frozen, text, text), 201);
}

ControlResult ControlPlane::list_versions(const Request& request) const {
  auto found = find_api_function(request, false);
  std::vector<std::pair<std::string, boost::json::object>> items;
  if (auto* answer = std::get_if<ControlResult>(&found)) {
    if (answer->error) return *answer;
    items.emplace_back("$LATEST", configuration(*file_function(request.function.name)));
  } else {
    const auto& latest = *std::get<const StoredFunction*>(found);
    items.emplace_back("$LATEST", configuration(latest));
    if (const auto it = versions_.find(latest.name); it != versions_.end()) {
      for (const auto& [n, f] : it->second.versions) {
        const auto text = std::to_string(n);
        items.emplace_back(text, configuration(f, text, text));
      }
    }
  }
  return page(std::move(items), "Versions", request.marker, request.max_items);
}

std::variant<boost::json::object, ControlResult> ControlPlane::qualified_configuration(
    const StoredFunction*& f, const Request& request) const {
  const auto& qualifier = request.function.qualifier;
  if (!qualifier || *qualifier == "$LATEST") return configuration(*f);
  const auto it = versions_.find(f->name);
  if (it == versions_.end()) return not_found(f->name, *qualifier);
  std::string version = *qualifier;
  if (!version_number(*qualifier)) {
    const auto alias = it->second.aliases.find(*qualifier);
    if (alias == it->second.aliases.end()) return not_found(f->name, *qualifier);
    version = alias->second.function_version;
    if (version == "$LATEST") return configuration(*f, version, *qualifier);
  }
  const auto n = version_number(version);
  const auto v = n ? it->second.versions.find(*n) : it->second.versions.end();
  if (v == it->second.versions.end()) return not_found(f->name, *qualifier);
  f = &v->second;
  return configuration(v->second, version, *qualifier);
}

ControlResult ControlPlane::delete_version(const std::string& name, const std::string& qualifier) {
  const auto n = version_number(qualifier);
  const auto it = versions_.find(name);
  if (!n) {
    if (it != versions_.end() && it->second.aliases.contains(qualifier)) {
      return invalid("Qualifier " + qualifier +
                     " is an alias; delete it with DeleteAlias (aws lambda delete-alias)");
    }
    return not_found(name, qualifier);
  }
  if (it == versions_.end() || !it->second.versions.contains(*n)) {
    return not_found(name, qualifier);
  }
  const auto aliases = it->second.aliases_of(*n);
  if (!aliases.empty()) {
    std::string names;
    for (const auto& a : aliases) names += (names.empty() ? "" : ", ") + a;
    return ControlResult::fail(409, "ResourceConflictException",
                               "Unable to delete version " + qualifier + " of " + name +
                                   " because the following aliases reference it: [" + names +
                                   "]; point them at another version or delete them first");
  }
  auto kept = it->second.versions.extract(*n);
  if (auto failed = save_versions(name)) {
    it->second.versions.insert(std::move(kept));
    return *failed;
  }
  node_.remove_function(pool_key(name, qualifier));
  return no_content();
}

ControlResult ControlPlane::create_alias(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  const std::string name = std::get<const StoredFunction*>(found)->name;
  Fields fields(request.body);
  const auto alias = fields.string("Name");
  const auto version = fields.string("FunctionVersion");
  const auto description = fields.string("Description");
  if (fields.problem()) return invalid(*fields.problem());
  if (!alias) return invalid("Name is required");
  if (!version) return invalid("FunctionVersion is required ($LATEST or a version number)");
  if (auto why = alias_name_error(*alias)) {
    return ControlResult::fail(400, "ValidationException", *why);
  }
  if (description && description->size() > 256) {
    return invalid("Description is longer than 256 characters");
  }
  auto& versions = versions_[name];
  if (versions.aliases.contains(*alias)) {
    return ControlResult::fail(409, "ResourceConflictException",
                               "Alias already exists: " + arn(name, *alias));
  }
  const auto n = version_number(*version);
  if (*version != "$LATEST" && !n) {
    return invalid("FunctionVersion '" + *version + "' must be $LATEST or a version number");
  }
  if (n && !versions.versions.contains(*n)) return not_found(name, *version);
  const auto* routing_config = request.body.if_contains("RoutingConfig");
  auto routing = parse_routing(routing_config != nullptr ? *routing_config : boost::json::value(),
                               *version, versions);
  if (auto* why = std::get_if<std::string>(&routing)) return invalid(*why);
  const auto& weights = std::get<AliasRouting>(routing);
  AliasRecord record{.name = *alias,
                     .function_version = *version,
                     .second = weights.second,
                     .second_weight = weights.weight,
                     .description = description.value_or(""),
                     .revision_id = runtime_api::new_request_id()};
  versions.aliases.emplace(*alias, record);
  if (auto failed = save_versions(name)) {
    versions.aliases.erase(*alias);
    return *failed;
  }
  return ok(alias_configuration(record, arn(name, *alias)), 201);
}

ControlResult ControlPlane::update_alias(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  const std::string name = std::get<const StoredFunction*>(found)->name;
  const auto it = versions_.find(name);
  if (it == versions_.end() || !it->second.aliases.contains(request.alias)) {
    return alias_not_found(arn(name, request.alias));
  }
  auto& versions = it->second;
  AliasRecord record = versions.aliases.at(request.alias);
  if (auto refused = check_revision(request.body, record.revision_id)) return *refused;
  Fields fields(request.body);
  const auto version = fields.string("FunctionVersion");
  const auto description = fields.string("Description");
  if (fields.problem()) return invalid(*fields.problem());
  if (description && description->size() > 256) {
    return invalid("Description is longer than 256 characters");
  }
  if (version) {
    const auto n = version_number(*version);
    if (*version != "$LATEST" && !n) {
      return invalid("FunctionVersion '" + *version + "' must be $LATEST or a version number");
    }
    if (n && !versions.versions.contains(*n)) return not_found(name, *version);
    record.function_version = *version;
  }
  if (description) record.description = *description;
  // A RoutingConfig given replaces the weights; without one the alias keeps its own, checked
  // again against its (maybe new) version.
  const auto* given = request.body.if_contains("RoutingConfig");
  const auto kept = alias_configuration(record, "");
  const auto* own = kept.if_contains("RoutingConfig");
  const boost::json::value routing_config = given != nullptr ? *given
                                            : own != nullptr ? *own
                                                             : boost::json::value();
  auto routing = parse_routing(routing_config, record.function_version, versions);
  if (auto* why = std::get_if<std::string>(&routing)) return invalid(*why);
  record.second = std::get<AliasRouting>(routing).second;
  record.second_weight = std::get<AliasRouting>(routing).weight;
  record.revision_id = runtime_api::new_request_id();
  auto previous = std::exchange(versions.aliases.at(request.alias), record);
  if (auto failed = save_versions(name)) {
    versions.aliases.at(request.alias) = std::move(previous);
    return *failed;
  }
  return ok(alias_configuration(record, arn(name, request.alias)));
}

ControlResult ControlPlane::get_alias(const Request& request) const {
  auto found = find_api_function(request, false);
  if (auto* answer = std::get_if<ControlResult>(&found); answer != nullptr && answer->error) {
    return *answer;
  }
  const auto& name = request.function.name;
  const auto it = versions_.find(name);
  if (it == versions_.end() || !it->second.aliases.contains(request.alias)) {
    return alias_not_found(arn(name, request.alias));
  }
  return ok(alias_configuration(it->second.aliases.find(request.alias)->second,
                                arn(name, request.alias)));
}

ControlResult ControlPlane::list_aliases(const Request& request) const {
  auto found = find_api_function(request, false);
  if (auto* answer = std::get_if<ControlResult>(&found); answer != nullptr && answer->error) {
    return *answer;
  }
  const auto& name = request.function.name;
  std::vector<std::pair<std::string, boost::json::object>> items;
  if (const auto it = versions_.find(name); it != versions_.end()) {
    for (const auto& [alias, record] : it->second.aliases) {
      const bool routes_to =
          request.function_version.empty() || record.function_version == request.function_version ||
          (record.second && std::to_string(*record.second) == request.function_version);
      if (routes_to) items.emplace_back(alias, alias_configuration(record, arn(name, alias)));
    }
  }
  return page(std::move(items), "Aliases", request.marker, request.max_items);
}

ControlResult ControlPlane::delete_alias(const Request& request) {
  auto found = find_api_function(request, true);
  if (auto* answer = std::get_if<ControlResult>(&found)) return *answer;
  const std::string name = std::get<const StoredFunction*>(found)->name;
  const auto it = versions_.find(name);
  if (it == versions_.end() || !it->second.aliases.contains(request.alias)) {
    return alias_not_found(arn(name, request.alias));
  }
  auto kept = it->second.aliases.extract(request.alias);
  if (auto failed = save_versions(name)) {
    it->second.aliases.insert(std::move(kept));
    return *failed;
  }
  return no_content();
}

}  // namespace ember::engine
