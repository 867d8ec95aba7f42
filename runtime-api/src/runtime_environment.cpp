#include "ember/runtime_api/runtime_environment.hpp"

namespace ember::runtime_api {

RuntimeCommand runtime_command(const RuntimeLaunch& launch) {
  RuntimeCommand out;
  const std::string& task_root = launch.task_root;
  std::string runtime_dir = task_root;
  if (!launch.interpreter.empty()) {
    const auto python_dir = launch.runtimes_root / "python";
    runtime_dir = python_dir.string();
    // -s: no user site-packages (not part of a function's world); -u: unbuffered, so the
    // function's prints reach the log in order with the platform's lines even if it crashes.
    out.argv = {launch.interpreter.string(), "-s", "-u", (python_dir / "bootstrap.py").string()};
  } else {
    out.argv = {task_root + "/bootstrap"};
  }
  out.env = {
      "_HANDLER=" + launch.handler,
      "LAMBDA_TASK_ROOT=" + task_root,
      "LAMBDA_RUNTIME_DIR=" + runtime_dir,
      "AWS_EXECUTION_ENV=AWS_Lambda_" + launch.runtime,
      "AWS_LAMBDA_FUNCTION_NAME=" + launch.function_name,
      "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(launch.memory_mb),
      "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + launch.function_name,
      "AWS_LAMBDA_LOG_STREAM_NAME=" + launch.log_stream,
      "AWS_LAMBDA_INITIALIZATION_TYPE=" + launch.initialization_type,
      "AWS_REGION=" + launch.region,
      "AWS_DEFAULT_REGION=" + launch.region,
      "TZ=:UTC",
      "LANG=en_US.UTF-8",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LD_LIBRARY_PATH=" + task_root + "/lib:/opt/lib:/lib64:/usr/lib64:/lib:/usr/lib",
  };
  return out;
}

}  // namespace ember::runtime_api
