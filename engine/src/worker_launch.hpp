// How a function's worker process is launched: argv and the Lambda environment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"
#include "engine_context.hpp"

namespace ember::engine {

struct LaunchNames {
  std::string worker_id;
  std::string log_stream;
  std::string initialization_type = "on-demand";  // or provisioned-concurrency
};

// LAMBDA_TASK_ROOT of an image function, as the AWS base images set it.
inline constexpr std::string_view kImageTaskRoot = "/var/task";

// What an image function runs: the entrypoint and command (the function's `image_config`
// replacing the image's own, as Lambda's ImageConfig does), where, and its _HANDLER (the
// command's first element).
struct ImageLaunch {
  std::vector<std::string> argv;
  std::string working_dir;
  std::string handler;
};
ImageLaunch image_launch(const image::StoredImage& image, const config::ImageOverrides& overrides);

// The external extensions a worker of `function` starts: the file names in its layers'
// extensions/ directories, or in its image's /opt/extensions.
std::vector<std::string> extension_names(const EngineContext& context,
                                         const config::FunctionConfig& function);

isolation::SandboxSpec make_sandbox_spec(const EngineContext& context,
                                         const isolation::SandboxBackend& backend,
                                         const config::FunctionConfig& function,
                                         const LaunchNames& names, int output_fd);

}  // namespace ember::engine
