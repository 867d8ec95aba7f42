// Node::reconfigure: a reloaded file's functions taking the place of the old file's.
#include <boost/json/array.hpp>
#include <numeric>

#include "async_dispatcher.hpp"
#include "control_plane.hpp"
#include "ember/engine/node.hpp"
#include "engine_context.hpp"
#include "function_registry.hpp"
#include "object_notifier.hpp"
#include "python_zygote.hpp"
#include "schedule_runner.hpp"

namespace ember::engine {

namespace {

boost::json::array names_json(const std::vector<std::string>& names) {
  boost::json::array out;
  for (const auto& name : names) out.emplace_back(name);
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  return std::accumulate(names.begin(), names.end(), std::string(),
                         [](std::string all, const std::string& name) {
                           return all.empty() ? name : std::move(all) + ", " + name;
                         });
}

// The node settings that differ, each as "node.KEY"; they apply at the next start.
std::vector<std::string> changed_node_keys(const config::NodeConfig& was,
                                           const config::NodeConfig& now) {
  std::vector<std::string> keys;
  const auto note = [&keys](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  note(was.listen_host == now.listen_host && was.listen_port == now.listen_port, "node.listen");
  note(was.state_dir == now.state_dir, "node.state_dir");
  note(was.region == now.region, "node.region");
  note(was.account_id == now.account_id, "node.account_id");
  note(was.sandbox_uid == now.sandbox_uid && was.sandbox_gid == now.sandbox_gid,
       "node.sandbox_user");
  note(was.sandbox_uid_range == now.sandbox_uid_range, "node.sandbox_uid_range");
  note(was.memory_budget_mb == now.memory_budget_mb, "node.memory_budget_mb");
  note(was.max_workers == now.max_workers, "node.max_workers");
  note(was.freeze_idle == now.freeze_idle && was.freeze_idle_after == now.freeze_idle_after,
       "node.freeze_idle");
  note(was.shutdown_grace == now.shutdown_grace, "node.shutdown_grace");
  note(was.init_cpu_burst == now.init_cpu_burst, "node.init_cpu_burst");
  note(was.oci_runtime == now.oci_runtime, "node.oci_runtime");
  note(was.max_image_mb == now.max_image_mb, "node.max_image_mb");
  note(was.http == now.http, "node.http");
  note(was.buckets == now.buckets, "node.buckets");
  note(was.metrics == now.metrics, "node.metrics");
  note(was.cost == now.cost, "node.cost");
  note(was.auth == now.auth, "node.auth");
  note(was.log_format == now.log_format, "node.log_format");
  // Defaults for functions (keep_alive, isolation, log_*) reach them through their own
  // settings, which are compared function by function: not a node change.
  config::NodeConfig rest = now;
  rest.keep_alive = was.keep_alive;
  rest.isolation = was.isolation;
  rest.log_bytes_per_invocation = was.log_bytes_per_invocation;
  rest.log_bytes_per_second = was.log_bytes_per_second;
  rest.log_file_bytes = was.log_file_bytes;
  rest.log_files = was.log_files;
  if (keys.empty() && !(was == rest)) keys.emplace_back("node");
  return keys;
}

// Sorts the functions of the next file into outcome's lists; returns those to (re)start.
std::vector<const config::FunctionConfig*> plan(
    const std::vector<config::FunctionConfig>& served,
    const std::vector<config::FunctionConfig>& next,
    const std::set<std::string, std::less<>>& code_changed, ReloadOutcome& outcome) {
  std::map<std::string, const config::FunctionConfig*, std::less<>> old_by_name;
  for (const auto& f : served) old_by_name.emplace(f.name, &f);
  std::vector<const config::FunctionConfig*> to_put;
  for (const auto& f : next) {
    const auto it = old_by_name.find(f.name);
    if (it == old_by_name.end()) {
      outcome.added.push_back(f.name);
      to_put.push_back(&f);
      continue;
    }
    const config::FunctionConfig& was = *it->second;
    old_by_name.erase(it);
    if (!(was.http == f.http)) {
      outcome.not_applied.push_back("functions." + f.name + ".http");
    }
    if (config::same_settings(was, f) && !code_changed.contains(f.name)) {
      ++outcome.unchanged;
      continue;
    }
    outcome.replaced.push_back(f.name);
    to_put.push_back(&f);
  }
  for (const auto& [name, was] : old_by_name) outcome.removed.push_back(name);
  return to_put;
}

}  // namespace

boost::json::object ReloadOutcome::to_json() const {
  if (refused) return {{"refused", *refused}};
  return {{"added", names_json(added)},
          {"replaced", names_json(replaced)},
          {"removed", names_json(removed)},
          {"unchanged", unchanged},
          {"not_applied", names_json(not_applied)}};
}

std::string ReloadOutcome::summary() const {
  if (refused) return "refused, still serving the previous configuration: " + *refused;
  std::string line = std::to_string(added.size()) + " added";
  if (!added.empty()) line += " (" + joined(added) + ")";
  line += ", " + std::to_string(replaced.size()) + " replaced";
  if (!replaced.empty()) line += " (" + joined(replaced) + ")";
  line += ", " + std::to_string(removed.size()) + " removed";
  if (!removed.empty()) line += " (" + joined(removed) + ")";
  line += ", " + std::to_string(unchanged) + " unchanged";
  if (!not_applied.empty()) line += "; at the next start only: " + joined(not_applied);
  return line;
}

ReloadOutcome Node::reconfigure(config::Config next,
                                std::map<std::string, image::StoredImage> images,
                                const std::set<std::string, std::less<>>& code_changed) {
  ReloadOutcome outcome;
  if (shutting_down_ || draining_) {
    outcome.refused = "the node is stopping";
    return outcome;
  }
  for (const auto& f : next.functions) {
    if (control_->made(f.name)) {
      outcome.refused = f.source + ": function " + f.name +
                        " was made through the control plane (aws lambda create-function); "
                        "delete it there before the file defines it";
      return outcome;
    }
  }
  outcome.not_applied = changed_node_keys(config_.node, next.node);

  const auto to_put = plan(config_.functions, next.functions, code_changed, outcome);

  // What points into config_.functions goes before it changes, and is made again after.
  if (notifier_) notifier_->stop();
  notifier_.reset();
  schedules_.reset();
  for (const auto& name : outcome.removed) functions_->remove(name);
  for (const auto* f : to_put) {
    if (auto it = images.find(f->name); it != images.end()) {
      context_->images.insert_or_assign(f->name, it->second);
    }
    // A zygote holds an interpreter, not the function's code: kept unless that changed.
    if (auto zygote = zygotes_.find(f->name);
        zygote != zygotes_.end() &&
        !(f->zygote && zygote->second->interpreter() == f->interpreter)) {
      retired_zygotes_.push_back(std::move(zygote->second));
      zygotes_.erase(zygote);
    }
    if (!zygotes_.contains(f->name)) start_zygote(*f);
    functions_->put(*f);
    if (context_->async_room_opened) context_->async_room_opened(f->name);
  }
  config_.functions = std::move(next.functions);
  make_event_sources();
  if (notifier_) notifier_->start();
  if (async_) async_->make_destination_directories();
  return outcome;
}

}  // namespace ember::engine
