// How a function's worker process is launched: argv and the Lambda environment.
#pragma once

#include <string>

#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"
#include "engine_context.hpp"

namespace ember::engine {

struct LaunchNames {
  std::string worker_id;
  std::string log_stream;
  std::string initialization_type = "on-demand";  // or provisioned-concurrency
};

isolation::SandboxSpec make_sandbox_spec(const EngineContext& context,
                                         const isolation::SandboxBackend& backend,
                                         const config::FunctionConfig& function,
                                         const LaunchNames& names, int output_fd);

}  // namespace ember::engine
