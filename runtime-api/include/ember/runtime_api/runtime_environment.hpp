// How a function's runtime process starts, as Lambda starts it: its command line and the
// environment variables of the Lambda execution environment. The engine starts workers with
// it; the bench starts its baselines' copies of the same runtime with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ember::runtime_api {

struct RuntimeLaunch {
  std::string function_name;
  std::string function_version = "$LATEST";  // AWS_LAMBDA_FUNCTION_VERSION
  std::string runtime;                       // provided, provided.al2, python3.11, ...
  std::string handler;                       // _HANDLER
  std::filesystem::path interpreter;         // Python runtimes: the interpreter; empty otherwise
  std::uint32_t memory_mb = 128;
  std::string region = "us-east-1";
  std::string log_stream;                         // AWS_LAMBDA_LOG_STREAM_NAME
  std::string initialization_type = "on-demand";  // or provisioned-concurrency
  // Paths as the runtime will see them (/var/task in a native sandbox).
  std::string task_root;                // the function's code
  std::filesystem::path runtimes_root;  // ember's runtimes/ (the Python bootstrap's home)
  // Package type Image: the entrypoint followed by the command is argv, and the image's
  // environment ("KEY=VALUE") comes first; runtime and interpreter are unused.
  std::vector<std::string> image_command;
  std::vector<std::string> image_env;
};

struct RuntimeCommand {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=value; without AWS_LAMBDA_RUNTIME_API (the
                                 // listener's address) and the function's own variables
};

RuntimeCommand runtime_command(const RuntimeLaunch& launch);

// `env` with each of `overrides` replacing the variable of its name, or appended, in order.
void set_environment(std::vector<std::string>& env, const std::vector<std::string>& overrides);

}  // namespace ember::runtime_api
