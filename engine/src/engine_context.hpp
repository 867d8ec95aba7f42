// What every pool and worker of a node shares.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"

namespace ember::engine {

struct EngineContext {
  boost::asio::any_io_executor executor;
  // Native sandboxes (null when no function uses them) and plain processes (`isolation: none`).
  isolation::SandboxBackend* native_backend;
  isolation::SandboxBackend& process_backend;
  const config::NodeConfig& node;
  std::filesystem::path runtimes_dir;
  std::filesystem::path log_dir;  // state_dir/logs
  std::function<void(std::string_view function, std::string_view line)> echo;
  std::uint64_t next_worker_number = 1;
  // Workers not yet destroyed, i.e. not yet reaped. Shared because a worker can outlive the
  // node by a moment (its last coroutine holds it).
  std::shared_ptr<std::size_t> live_workers = std::make_shared<std::size_t>(0);

  [[nodiscard]] isolation::SandboxBackend& backend_for(const config::FunctionConfig& f) const {
    return f.isolation == config::Isolation::kNone || native_backend == nullptr ? process_backend
                                                                                : *native_backend;
  }
};

}  // namespace ember::engine
