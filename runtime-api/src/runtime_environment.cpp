#include "ember/runtime_api/runtime_environment.hpp"

#include <algorithm>
#include <string_view>

namespace ember::runtime_api {

namespace {

std::string_view name_of(std::string_view variable) {
  return variable.substr(0, variable.find('='));
}

// The variables Lambda defines for every function (the image's own PATH, LD_LIBRARY_PATH,
// LANG and TZ win over these defaults: the image knows where its programs are).
std::vector<std::string> lambda_environment(const RuntimeLaunch& launch,
                                            const std::string& runtime_dir) {
  const std::string& task_root = launch.task_root;
  std::vector<std::string> env = {
      "_HANDLER=" + launch.handler,
      "LAMBDA_TASK_ROOT=" + task_root,
      "LAMBDA_RUNTIME_DIR=" + runtime_dir,
  };
  if (launch.image_command.empty()) {
    env.push_back("AWS_EXECUTION_ENV=AWS_Lambda_" + launch.runtime);
  }
  for (std::string variable : {
           "AWS_LAMBDA_FUNCTION_NAME=" + launch.function_name,
           "AWS_LAMBDA_FUNCTION_VERSION=" + launch.function_version,
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(launch.memory_mb),
           "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + launch.function_name,
           "AWS_LAMBDA_LOG_STREAM_NAME=" + launch.log_stream,
           "AWS_LAMBDA_INITIALIZATION_TYPE=" + launch.initialization_type,
           "AWS_REGION=" + launch.region,
           "AWS_DEFAULT_REGION=" + launch.region,
       }) {
    env.push_back(std::move(variable));
  }
  return env;
}

std::vector<std::string> system_defaults(const std::string& task_root) {
  return {
      "TZ=:UTC",
      "LANG=en_US.UTF-8",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LD_LIBRARY_PATH=" + task_root + "/lib:/opt/lib:/lib64:/usr/lib64:/lib:/usr/lib",
  };
}

}  // namespace

void set_environment(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  for (const std::string& variable : overrides) {
    const auto name = name_of(variable);
    const auto it = std::find_if(env.begin(), env.end(),
                                 [&](const std::string& e) { return name_of(e) == name; });
    if (it == env.end()) {
      env.push_back(variable);
    } else {
      *it = variable;
    }
  }
}

RuntimeCommand runtime_command(const RuntimeLaunch& launch) {
  RuntimeCommand out;
  const std::string& task_root = launch.task_root;
  if (!launch.image_command.empty()) {
    out.argv = launch.image_command;
    out.env = system_defaults(task_root);
    set_environment(out.env, launch.image_env);
    set_environment(out.env, lambda_environment(launch, "/var/runtime"));
    return out;
  }
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
  out.env = lambda_environment(launch, runtime_dir);
  for (std::string& variable : system_defaults(task_root)) out.env.push_back(std::move(variable));
  return out;
}

}  // namespace ember::runtime_api
