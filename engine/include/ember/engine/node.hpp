// The node: every function's warm pool behind the Invoke API.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "ember/config/config.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

class FunctionPool;
struct EngineContext;

// The sandbox backends a node uses; `native` may be null when every function opts out.
struct Backends {
  std::unique_ptr<isolation::SandboxBackend> native;
  std::unique_ptr<isolation::SandboxBackend> process;
};

struct NodeOptions {
  // Where ember's own runtimes live (runtimes/python/...).
  std::filesystem::path runtimes_dir;
  // Receives every log line of every function ("[function] line"); stdout by default.
  std::function<void(std::string_view function, std::string_view line)> echo;
};

class Node final : public runtime_api::InvokeService {
 public:
  Node(boost::asio::any_io_executor executor, config::Config config, Backends backends,
       NodeOptions options);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node(Node&&) = delete;
  Node& operator=(Node&&) = delete;
  ~Node() override;

  boost::asio::awaitable<runtime_api::InvokeResult> invoke(
      runtime_api::InvokeRequest request) override;

  // Fails waiting and running invocations with 503, ends every worker and reaps it.
  void shutdown();

  [[nodiscard]] const config::Config& config() const { return config_; }
  // Live workers of a function (any state but ended); for tests and `ember ps`.
  [[nodiscard]] std::size_t worker_count(std::string_view function) const;
  // Workers whose processes have not been reaped yet, across all functions.
  [[nodiscard]] std::size_t live_workers() const;

 private:
  config::Config config_;
  Backends backends_;
  std::unique_ptr<EngineContext> context_;
  std::map<std::string, std::shared_ptr<FunctionPool>, std::less<>> pools_;
  bool shutting_down_ = false;
};

}  // namespace ember::engine
