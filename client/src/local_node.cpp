#include "ember/client/local_node.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ember::client {

namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds kReadyTimeout{30'000};

template <typename T>
void emit_if(YAML::Emitter& out, const char* key, const std::optional<T>& value) {
  if (value) out << YAML::Key << key << YAML::Value << *value;
}

void emit_async(YAML::Emitter& out, const NodeFunction::Async& async) {
  if (!async.max_retries && !async.max_event_age_s && async.retry_delays_s.empty() &&
      async.on_success.empty() && async.on_failure.empty() && async.dead_letter.empty()) {
    return;
  }
  out << YAML::Key << "async" << YAML::Value << YAML::BeginMap;
  emit_if(out, "max_retries", async.max_retries);
  emit_if(out, "max_event_age_s", async.max_event_age_s);
  if (!async.retry_delays_s.empty()) {
    out << YAML::Key << "retry_delays_s" << YAML::Value << YAML::Flow << async.retry_delays_s;
  }
  for (const auto& [key, destination] :
       {std::pair{"on_success", &async.on_success}, std::pair{"on_failure", &async.on_failure},
        std::pair{"dead_letter", &async.dead_letter}}) {
    if (!destination->empty()) {
      out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << *destination;
    }
  }
  out << YAML::EndMap;
}

void emit_schedules(YAML::Emitter& out, const std::vector<NodeFunction::Schedule>& schedules) {
  if (schedules.empty()) return;
  out << YAML::Key << "schedules" << YAML::Value << YAML::BeginSeq;
  for (const auto& rule : schedules) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << rule.name << YAML::Key
        << "expression" << YAML::Value << YAML::DoubleQuoted << rule.expression;
    if (!rule.input.empty()) {
      out << YAML::Key << "input" << YAML::Value << YAML::SingleQuoted << rule.input;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void emit_http(YAML::Emitter& out, const NodeFunction::Http& http) {
  if (http.path.empty()) return;
  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << http.path;
  if (!http.methods.empty()) {
    out << YAML::Key << "methods" << YAML::Value << YAML::Flow << http.methods;
  }
  if (!http.format.empty()) out << YAML::Key << "format" << YAML::Value << http.format;
  if (http.multi_value_headers) out << YAML::Key << "multi_value_headers" << YAML::Value << true;
  out << YAML::EndMap;
}

void emit_logging(YAML::Emitter& out, const NodeFunction::Logging& logging) {
  if (logging.format.empty() && logging.application_log_level.empty() &&
      logging.system_log_level.empty()) {
    return;
  }
  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  for (const auto& [key, value] :
       {std::pair{"format", &logging.format},
        std::pair{"application_log_level", &logging.application_log_level},
        std::pair{"system_log_level", &logging.system_log_level}}) {
    if (!value->empty()) out << YAML::Key << key << YAML::Value << *value;
  }
  out << YAML::EndMap;
}

void emit_object_notifications(YAML::Emitter& out, const NodeFunction& f) {
  if (!f.s3_events.empty()) {
    out << YAML::Key << "s3_events" << YAML::Value << YAML::BeginSeq;
    for (const auto& rule : f.s3_events) {
      out << YAML::BeginMap << YAML::Key << "bucket" << YAML::Value << rule.bucket;
      if (!rule.events.empty()) {
        out << YAML::Key << "events" << YAML::Value << YAML::Flow << rule.events;
      }
      if (!rule.prefix.empty()) {
        out << YAML::Key << "prefix" << YAML::Value << YAML::DoubleQuoted << rule.prefix;
      }
      if (!rule.suffix.empty()) {
        out << YAML::Key << "suffix" << YAML::Value << YAML::DoubleQuoted << rule.suffix;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!f.mounts.empty()) {
    out << YAML::Key << "mounts" << YAML::Value << YAML::BeginSeq;
    for (const auto& mount : f.mounts) {
      out << YAML::BeginMap << YAML::Key << "source" << YAML::Value << YAML::DoubleQuoted
          << mount.source << YAML::Key << "target" << YAML::Value << mount.target << YAML::Key
          << "read_only" << YAML::Value << mount.read_only << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
}

void emit_function(YAML::Emitter& out, const NodeFunction& f) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << f.name;
  if (f.image.empty()) {
    out << YAML::Key << "runtime" << YAML::Value << f.runtime;
    if (!f.handler.empty()) out << YAML::Key << "handler" << YAML::Value << f.handler;
    out << YAML::Key << "code" << YAML::Value << YAML::DoubleQuoted << f.code.string();
  } else {
    out << YAML::Key << "image" << YAML::Value << YAML::DoubleQuoted << f.image;
    const auto& overrides = f.image_config;
    if (!overrides.entrypoint.empty() || !overrides.command.empty() ||
        !overrides.working_directory.empty()) {
      out << YAML::Key << "image_config" << YAML::Value << YAML::BeginMap;
      if (!overrides.entrypoint.empty()) {
        out << YAML::Key << "entrypoint" << YAML::Value << YAML::Flow << overrides.entrypoint;
      }
      if (!overrides.command.empty()) {
        out << YAML::Key << "command" << YAML::Value << YAML::Flow << overrides.command;
      }
      if (!overrides.working_directory.empty()) {
        out << YAML::Key << "working_directory" << YAML::Value << overrides.working_directory;
      }
      out << YAML::EndMap;
    }
  }
  emit_if(out, "timeout_s", f.timeout_s);
  emit_if(out, "memory_mb", f.memory_mb);
  emit_if(out, "ephemeral_storage_mb", f.ephemeral_storage_mb);
  emit_if(out, "reserved_concurrency", f.reserved_concurrency);
  emit_if(out, "max_reuse", f.max_reuse);
  emit_if(out, "provisioned", f.provisioned);
  emit_if(out, "keep_alive", f.keep_alive);
  emit_if(out, "keep_alive_s", f.keep_alive_s);
  emit_if(out, "isolation", f.isolation);
  emit_if(out, "network", f.network);
  if (f.zygote) out << YAML::Key << "zygote" << YAML::Value << true;
  if (!f.environment.empty()) {
    out << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
    // Quoted, so a value such as 1e5 or true stays the string it is.
    for (const auto& [key, value] : f.environment) {
      out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
    }
    out << YAML::EndMap;
  }
  if (!f.layers.empty()) {
    out << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
    for (const auto& layer : f.layers) out << layer.string();
    out << YAML::EndSeq;
  }
  emit_async(out, f.async);
  emit_schedules(out, f.schedules);
  emit_http(out, f.http);
  emit_logging(out, f.logging);
  emit_object_notifications(out, f);
  for (const auto& [key, value] : f.keys) out << YAML::Key << key << YAML::Value << value;
  out << YAML::EndMap;
}

void emit_auth(YAML::Emitter& out, const NodeAuth& auth) {
  if (auth.mode.empty()) return;
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << auth.mode;
  emit_if(out, "max_clock_skew_s", auth.max_clock_skew_s);
  if (!auth.credentials.empty()) {
    out << YAML::Key << "credentials" << YAML::Value << YAML::BeginSeq;
    for (const auto& credential : auth.credentials) {
      out << YAML::BeginMap << YAML::Key << "access_key_id" << YAML::Value
          << credential.access_key_id << YAML::Key << "secret_access_key" << YAML::Value
          << YAML::DoubleQuoted << credential.secret_access_key << YAML::Key << "allow"
          << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& name : credential.allow) out << YAML::DoubleQuoted << name;
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

}  // namespace

std::string node_yaml(const std::vector<NodeFunction>& functions, const fs::path& state_dir,
                      const NodeSettings& settings) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "node" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << settings.listen.value_or("127.0.0.1:0");
  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap << YAML::Key << "listen"
      << YAML::Value << "127.0.0.1:0" << YAML::EndMap;
  out << YAML::Key << "state_dir" << YAML::Value << YAML::DoubleQuoted << state_dir.string();
  emit_if(out, "memory_budget_mb", settings.memory_budget_mb);
  emit_if(out, "max_workers", settings.max_workers);
  emit_if(out, "freeze_idle_after_ms", settings.freeze_idle_after_ms);
  emit_if(out, "shutdown_grace_s", settings.shutdown_grace_s);
  emit_if(out, "isolation", settings.isolation);
  emit_if(out, "oci_runtime", settings.oci_runtime);
  emit_if(out, "max_image_mb", settings.max_image_mb);
  emit_if(out, "metrics", settings.metrics);
  if (!settings.cost.empty()) {
    out << YAML::Key << "cost" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : settings.cost) out << YAML::Key << key << YAML::Value << value;
    out << YAML::EndMap;
  }
  emit_if(out, "region", settings.region);
  emit_auth(out, settings.auth);
  for (const auto& [key, value] : settings.keys) out << YAML::Key << key << YAML::Value << value;
  if (!settings.buckets.empty()) {
    out << YAML::Key << "buckets" << YAML::Value << YAML::BeginSeq;
    for (const auto& bucket : settings.buckets) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << bucket.name << YAML::Key
          << "path" << YAML::Value << YAML::DoubleQuoted << bucket.path.string() << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  out << YAML::Key << "functions" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : functions) emit_function(out, f);
  out << YAML::EndSeq;
  out << YAML::EndMap;
  if (!out.good()) throw std::logic_error("node YAML: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

LocalNode::LocalNode(const LocalNodeSpec& spec)
    : dir_(spec.dir_prefix), state_dir_(spec.state_dir.value_or(dir_.path() / "state")) {
  const auto config = dir() / "ember.yaml";
  std::ofstream(config) << node_yaml(spec.functions, state_dir_, spec.settings);

  ChildOptions options;
  options.argv = {spec.ember.string(), "serve", "--config", config.string(), "--ready-fd", "3"};
  if (spec.time_scale) {
    std::ostringstream scale;
    scale << *spec.time_scale;
    options.argv.insert(options.argv.end(), {"--time-scale", scale.str()});
  }
  options.argv.insert(options.argv.end(), spec.settings.serve_args.begin(),
                      spec.settings.serve_args.end());
  options.output = spec.output.value_or(dir() / "stdout");
  options.errors = dir() / "stderr";
  auto started = start_until_ready(std::move(options), kReadyTimeout);
  child_ = std::move(started.child);
  address_ = std::move(started.ready_text);
  // The Invoke API's address, then `http HOST:PORT` when functions have routes.
  if (const auto newline = address_.find('\n'); newline != std::string::npos) {
    std::string rest = address_.substr(newline + 1);
    address_.resize(newline);
    constexpr std::string_view kHttp = "http ";
    if (rest.starts_with(kHttp)) {
      http_address_ = rest.substr(kHttp.size(), rest.find('\n') - kHttp.size());
    }
  }
  if (address_.empty()) {
    child_.stop(std::chrono::seconds(5));
    throw std::runtime_error("ember serve did not become ready: " + stderr_text() + stdout_text());
  }
}

LocalNode::~LocalNode() { stop(); }

std::string LocalNode::stdout_text() const { return read_file(dir() / "stdout"); }

std::string LocalNode::stderr_text() const { return read_file(dir() / "stderr"); }

int LocalNode::stop(std::chrono::milliseconds grace) { return child_.stop(grace); }

}  // namespace ember::client
