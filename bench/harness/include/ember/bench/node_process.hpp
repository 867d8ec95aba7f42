// An `ember serve` started by the bench: a generated YAML in a temporary directory, the
// address read from --ready-fd, and the node stopped (by its pid) when this object goes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/bench/http_client.hpp"
#include "ember/bench/process.hpp"

namespace ember::bench {

struct BenchFunction {
  std::string name;
  std::string runtime = "provided";
  std::string handler;  // empty: not written
  std::filesystem::path code;
  std::uint32_t reserved_concurrency = 10;
  std::optional<std::uint32_t> max_reuse;    // 1: every invocation is a cold start
  std::optional<std::uint32_t> provisioned;  // workers started with the node, never expired
  std::optional<std::string> keep_alive;     // "fixed" or "adaptive"
  std::optional<std::uint32_t> keep_alive_s;
  std::optional<std::string> isolation;  // "native" or "none"; the node's default when unset
  std::optional<std::string> network;    // "none" (own namespace) or "host"; default none
  bool zygote = false;                   // python: workers forked from the zygote
};

// Node keys the bench may set; the node's defaults when unset.
struct NodeSettings {
  std::optional<std::uint64_t> memory_budget_mb;
  std::optional<std::uint32_t> max_workers;
  std::optional<std::uint32_t> freeze_idle_after_ms;
};

struct NodeSpec {
  std::filesystem::path ember;  // the `ember` executable
  std::vector<BenchFunction> functions;
  std::optional<double> time_scale;  // ember serve --time-scale
  NodeSettings settings = {};
};

// The YAML text of a node serving `functions` on 127.0.0.1:0, state under `state_dir`.
std::string node_yaml(const std::vector<BenchFunction>& functions,
                      const std::filesystem::path& state_dir, const NodeSettings& settings = {});

class NodeProcess {
 public:
  // Starts the node and waits (at most 30 s) until it accepts requests. On failure returns
  // nullptr and sets `error` to what the node printed.
  static std::unique_ptr<NodeProcess> start(const NodeSpec& spec, std::string& error);

  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;
  NodeProcess(NodeProcess&&) = delete;
  NodeProcess& operator=(NodeProcess&&) = delete;
  ~NodeProcess();

  [[nodiscard]] const Endpoint& endpoint() const { return endpoint_; }
  [[nodiscard]] pid_t pid() const { return child_.pid(); }
  // What the node printed so far (stdout and stderr).
  [[nodiscard]] std::string output() const;
  // SIGTERM and wait; SIGKILL after 10 s.
  int stop();

 private:
  NodeProcess() = default;
  TempDir dir_;
  Child child_;
  Endpoint endpoint_;
};

}  // namespace ember::bench
