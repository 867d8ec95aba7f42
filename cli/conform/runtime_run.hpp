// One start of the runtime under test: a plain child process (no sandbox) whose
// AWS_LAMBDA_RUNTIME_API is a ConformApi on 127.0.0.1, served from a thread of its own.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conform_api.hpp"
#include "ember/client/child_process.hpp"
#include "ember/runtime_api/http_server.hpp"

namespace ember::cli::conform {

struct RunSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=value, all of it but AWS_LAMBDA_RUNTIME_API
  std::filesystem::path cwd;
  std::optional<std::filesystem::path> log;  // the runtime's stdout and stderr; else discarded
};

// What a wait saw first: a call of the runtime, its exit, or neither (the limit passed).
struct Waited {
  std::optional<RuntimeCall> call;
  std::optional<int> exit_status;  // 128+N when killed by signal N
  // "exited with status 1", "made no call within 10 s", ...
  [[nodiscard]] std::string describe(std::chrono::milliseconds limit) const;
};

class RuntimeRun {
 public:
  // Throws std::runtime_error when the runtime or the listener cannot start.
  explicit RuntimeRun(const RunSpec& spec);
  RuntimeRun(const RuntimeRun&) = delete;
  RuntimeRun& operator=(const RuntimeRun&) = delete;
  RuntimeRun(RuntimeRun&&) = delete;
  RuntimeRun& operator=(RuntimeRun&&) = delete;
  ~RuntimeRun();

  // The runtime's next call not yet returned by wait, or its exit.
  Waited wait(std::chrono::milliseconds limit);
  // Hands the event to the waiting `next`.
  void send(runtime_api::NextEvent event) { api_->deliver(std::move(event)); }
  [[nodiscard]] bool polling() const { return !exit_status_ && api_->polling(); }
  [[nodiscard]] std::optional<int> exit_status() const { return exit_status_; }
  // SIGTERM, up to `grace` to end, then SIGKILL; the exit status.
  int terminate(std::chrono::milliseconds grace);

 private:
  // Closes the listener and its connections and ends the API's thread.
  void shut_down();

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::shared_ptr<ConformApi> api_;
  std::shared_ptr<runtime_api::HttpServer> server_;
  std::thread thread_;
  client::ChildProcess child_;
  std::optional<int> exit_status_;
  std::size_t seen_ = 0;
};

}  // namespace ember::cli::conform
