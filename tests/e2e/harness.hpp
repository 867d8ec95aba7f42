// End-to-end test harness: a real `ember serve` process on an ephemeral loopback port
// (ember::client's LocalNode), real HTTP clients (ember::client's, the AWS CLIs, boto3), and
// the files and processes it leaves.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ember/client/http.hpp"
#include "ember/client/local_node.hpp"
#include "ember/client/temp_dir.hpp"

namespace ember::test {

std::filesystem::path source_dir();
std::filesystem::path testcases_dir();
std::filesystem::path ember_exe();

using client::HttpReply;
using client::NodeSettings;
using client::TempDir;

struct FunctionSpec {
  std::string name;
  std::string runtime = "python3";
  std::string handler = "lambda_function.lambda_handler";
  std::filesystem::path code;
  int timeout_s = 3;
  int memory_mb = 128;
  int reserved_concurrency = 10;
  int keep_alive_s = 600;
  std::map<std::string, std::string> environment;
  std::vector<std::filesystem::path> layers;  // Lambda layers, merged at /opt in this order
  std::optional<std::uint32_t> max_reuse;
  std::optional<std::uint32_t> provisioned;
  std::optional<std::uint32_t> ephemeral_storage_mb;
  bool zygote = false;
  // Package type Image instead of runtime, handler and code: "oci:DIR:TAG", ...
  std::string image;
  client::NodeFunction::ImageConfig image_config;
  std::optional<std::string> isolation;   // "native", "oci", "none"; the node's when unset
  client::NodeFunction::Async async;      // retries and destinations of Event invocations
  client::NodeFunction::Http http;        // an HTTP route; none when its path is empty
  client::NodeFunction::Logging logging;  // log format and levels; the defaults when empty
  std::vector<client::NodeFunction::Mount> mounts;  // host directories bound at /mnt/...
  std::map<std::string, std::string> keys;          // further keys, values as written
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion (bounded by `limit`) and captures its output.
CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& extra_env = {},
                  std::chrono::seconds limit = std::chrono::seconds(60));

// A running node. Every test gets its own, with its own state directory and a marker in
// every function's environment, so the processes it started can be found afterwards.
class Node {
 public:
  // `state_dir`: the state (logs, event queue) there, so a second node on it is a restart.
  // `output`: the node's stdout there (a FIFO, say) instead of a file of its own.
  explicit Node(const std::vector<FunctionSpec>& functions, const NodeSettings& settings = {},
                const std::optional<std::filesystem::path>& state_dir = std::nullopt,
                const std::optional<std::filesystem::path>& output = std::nullopt);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node(Node&&) = delete;
  Node& operator=(Node&&) = delete;
  ~Node();

  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:N
  // The HTTP routes' listener, http://127.0.0.1:N; "http://" when no function has a route.
  [[nodiscard]] std::string http_endpoint() const { return "http://" + node_.http_address(); }
  [[nodiscard]] pid_t pid() const { return node_.pid(); }
  [[nodiscard]] const std::filesystem::path& dir() const { return node_.dir(); }
  [[nodiscard]] const std::filesystem::path& state_dir() const { return node_.state_dir(); }

  // POST /2015-03-31/functions/{function_path}/invocations[?query]; function_path may end
  // in "?query".
  HttpReply invoke(const std::string& function_path, const std::string& payload,
                   const std::vector<std::string>& headers = {}) const;

  // SIGTERM, then waits for the node to exit; returns its exit status.
  int stop();
  // The node's file, ember.yaml.
  [[nodiscard]] std::filesystem::path config_file() const { return dir() / "ember.yaml"; }
  // Writes the file anew for these functions (marked as the first ones were), all at once (a
  // rename), for a reload to read.
  void rewrite_config(const std::vector<FunctionSpec>& functions,
                      const NodeSettings& settings = {}) const;

  [[nodiscard]] std::string stdout_text() const { return node_.stdout_text(); }
  // Every log stream of a function, concatenated in file-name order.
  [[nodiscard]] std::string logs(const std::string& function) const;
  [[nodiscard]] std::size_t log_stream_count(const std::string& function) const;
  // Polls the function's logs until `needle` shows up (at most 10 s); returns the logs.
  std::string wait_for_log(const std::string& function, const std::string& needle) const;
  // Live processes that carry this node's marker in their environment.
  [[nodiscard]] std::vector<pid_t> worker_processes() const;
  // SIGKILL is delivered asynchronously: true once no marked process is left (at most 5 s).
  [[nodiscard]] bool worker_processes_end() const;
  // The environment for AWS clients: dummy credentials, no metadata lookups.
  [[nodiscard]] static std::map<std::string, std::string> aws_env();

 private:
  std::string marker_;  // before node_: its functions' environment carries it
  client::LocalNode node_;
  std::string endpoint_;
};

// Occurrences of `needle` in `haystack`.
std::size_t count(const std::string& haystack, const std::string& needle);

}  // namespace ember::test
