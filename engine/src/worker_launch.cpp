#include "worker_launch.hpp"

#include "python_zygote.hpp"

namespace ember::engine {

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
  if (auto* zygote = context.zygote_for ? context.zygote_for(function) : nullptr) {
    // The sandbox's worker is forked from the zygote when the sandbox is prepared.
    spec.adopter = [zygote](isolation::SandboxEntry& entry) { return zygote->spawn(entry); };
  }
  spec.seccomp.extra_deny = function.seccomp_deny;
  spec.seccomp.allow = function.seccomp_allow;

  // Paths as the worker sees them: /var/task and /var/runtime in a native sandbox.
  const std::string task_root = backend.task_root(spec).string();
  const auto runtime_root = backend.runtime_root(spec);
  spec.working_dir = task_root;

  std::string runtime_dir = task_root;
  if (function.runtime_kind == config::RuntimeKind::kPython) {
    const auto python_dir = runtime_root / "python";
    runtime_dir = python_dir.string();
    // -s: no user site-packages (not part of a function's world); -u: unbuffered, so the
    // function's prints reach the log in order with the platform's lines even if it crashes.
    spec.argv = {function.interpreter.string(), "-s", "-u", (python_dir / "bootstrap.py").string()};
  } else {
    spec.argv = {task_root + "/bootstrap"};
  }
  const std::string execution_env = "AWS_Lambda_" + function.runtime;

  const auto& node = context.node;
  spec.env = {
      "_HANDLER=" + function.handler,
      "LAMBDA_TASK_ROOT=" + task_root,
      "LAMBDA_RUNTIME_DIR=" + runtime_dir,
      "AWS_EXECUTION_ENV=" + execution_env,
      "AWS_LAMBDA_FUNCTION_NAME=" + function.name,
      "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(function.memory_mb),
      "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + function.name,
      "AWS_LAMBDA_LOG_STREAM_NAME=" + names.log_stream,
      "AWS_LAMBDA_INITIALIZATION_TYPE=" + names.initialization_type,
      "AWS_REGION=" + node.region,
      "AWS_DEFAULT_REGION=" + node.region,
      "TZ=:UTC",
      "LANG=en_US.UTF-8",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LD_LIBRARY_PATH=" + task_root + "/lib:/opt/lib:/lib64:/usr/lib64:/lib:/usr/lib",
  };
  for (const auto& [key, value] : function.environment) spec.env.push_back(key + "=" + value);
  return spec;
}

}  // namespace ember::engine
