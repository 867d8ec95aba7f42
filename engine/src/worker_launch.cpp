#include "worker_launch.hpp"

#include "ember/runtime_api/runtime_environment.hpp"
#include "extension_registry.hpp"
#include "python_zygote.hpp"

namespace ember::engine {
namespace {

// AWS_LAMBDA_LOG_LEVEL's words: Lambda's application log levels.
std::string_view level_name(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return "TRACE";
    case config::LogLevel::kDebug:
      return "DEBUG";
    case config::LogLevel::kInfo:
      return "INFO";
    case config::LogLevel::kWarn:
      return "WARN";
    case config::LogLevel::kError:
      return "ERROR";
    case config::LogLevel::kFatal:
      return "FATAL";
  }
  return "INFO";
}

// Lambda's advanced logging controls, as Lambda hands them to every runtime: the format always,
// the application log level only with JSON logs (the only ones it filters).
std::vector<std::string> logging_environment(const config::LoggingConfig& logging) {
  if (logging.format == config::LogFormat::kText) return {"AWS_LAMBDA_LOG_FORMAT=Text"};
  return {"AWS_LAMBDA_LOG_FORMAT=JSON",
          std::string("AWS_LAMBDA_LOG_LEVEL=").append(level_name(logging.application_log_level))};
}

}  // namespace

ImageLaunch image_launch(const image::StoredImage& image, const config::ImageOverrides& overrides) {
  const auto& own = image.config;
  ImageLaunch out;
  out.argv = overrides.entrypoint.empty() ? own.entrypoint : overrides.entrypoint;
  const auto& command = overrides.command.empty() ? own.cmd : overrides.command;
  out.argv.insert(out.argv.end(), command.begin(), command.end());
  if (!command.empty()) out.handler = command.front();
  out.working_dir = !overrides.working_directory.empty() ? overrides.working_directory
                    : !own.working_dir.empty()           ? own.working_dir
                                                         : "/";
  return out;
}

std::vector<std::string> extension_names(const EngineContext& context,
                                         const config::FunctionConfig& function) {
  if (const image::StoredImage* image = context.image_for(function)) {
    return external_extension_names({image->rootfs / "opt"});
  }
  return external_extension_names(function.layers);
}

isolation::SandboxSpec make_sandbox_spec(const EngineContext& context,
                                         const isolation::SandboxBackend& backend,
                                         const config::FunctionConfig& function,
                                         const LaunchNames& names, int output_fd) {
  isolation::SandboxSpec spec;
  spec.id = names.worker_id;
  spec.code_dir = function.code_dir;
  spec.runtime_dir = context.runtimes_dir;
  spec.output_fd = output_fd;
  spec.memory_mb = function.memory_mb;
  spec.tmp_mb = function.ephemeral_storage_mb;
  spec.network_host = function.network_host;
  spec.init_cpu_burst = context.node.init_cpu_burst;
  spec.opt_layers = function.layers;
  if (auto* zygote = context.zygote_for ? context.zygote_for(function) : nullptr) {
    // The sandbox's worker is forked from the zygote when the sandbox is prepared.
    spec.adopter = [zygote](isolation::SandboxEntry& entry) { return zygote->spawn(entry); };
  }
  spec.seccomp.extra_deny = function.seccomp_deny;
  spec.seccomp.allow = function.seccomp_allow;
  for (const auto& mount : function.mounts) {
    spec.mounts.push_back({mount.path, mount.target, mount.read_only});
  }

  const image::StoredImage* image = context.image_for(function);
  // Paths as the worker sees them: /var/task and /var/runtime in a native sandbox.
  std::string task_root = backend.task_root(spec).string();
  const auto runtime_root = backend.runtime_root(spec);
  spec.working_dir = task_root;
  runtime_api::RuntimeLaunch launch;
  if (image != nullptr) {
    spec.code_dir.clear();
    spec.runtime_dir.clear();
    spec.image_root = image->rootfs;
    const ImageLaunch what = image_launch(*image, function.image_config);
    task_root = kImageTaskRoot;
    spec.working_dir = what.working_dir;
    launch.image_command = what.argv;
    launch.image_env = image->config.env;
    launch.handler = what.handler;
  }

  launch.function_name = function.name;
  launch.function_version = function.version;
  launch.runtime = function.runtime;
  if (image == nullptr) launch.handler = function.handler;
  if (function.runtime_kind == config::RuntimeKind::kPython) {
    launch.interpreter = function.interpreter;
  }
  launch.memory_mb = function.memory_mb;
  launch.region = context.node.region;
  launch.log_stream = names.log_stream;
  launch.initialization_type = names.initialization_type;
  launch.task_root = task_root;
  launch.runtimes_root = runtime_root;
  auto command = runtime_api::runtime_command(launch);
  spec.argv = std::move(command.argv);
  if (!function.bootstrap_command.empty()) spec.argv = function.bootstrap_command;
  spec.env = std::move(command.env);
  runtime_api::set_environment(spec.env, logging_environment(function.logging));
  // The function's own variables replace the defaults of the same name (PATH, LANG, ...):
  // appended, a second PATH would be shadowed by the first.
  std::vector<std::string> own;
  own.reserve(function.environment.size());
  for (const auto& [key, value] : function.environment) {
    own.push_back(std::string(key).append("=").append(value));
  }
  runtime_api::set_environment(spec.env, own);
  // External extensions start beside the runtime, before it (docs/runtimes.md).
  if (!extension_names(context, function).empty()) {
    spec.argv = with_extensions(std::move(spec.argv), spec.env);
  }
  return spec;
}

}  // namespace ember::engine
