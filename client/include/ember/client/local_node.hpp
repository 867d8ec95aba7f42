// A local `ember serve` for the tests and the bench: a generated YAML in a temporary
// directory, the address read from --ready-fd, and the node stopped (by its pidfd) when this
// object goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"

namespace ember::client {

// One function of the node. Keys left unset are not written: the node's defaults apply.
struct NodeFunction {
  std::string name;
  std::string runtime = "provided";
  std::string handler;  // empty: not written
  std::filesystem::path code;
  std::optional<std::uint32_t> timeout_s;
  std::optional<std::uint32_t> memory_mb;
  std::optional<std::uint32_t> ephemeral_storage_mb;
  std::optional<std::uint32_t> reserved_concurrency;
  std::optional<std::uint32_t> max_reuse;    // 1: every invocation is a cold start
  std::optional<std::uint32_t> provisioned;  // workers started with the node, never expired
  std::optional<std::string> keep_alive;     // "fixed" or "adaptive"
  std::optional<std::uint32_t> keep_alive_s;
  std::optional<std::string> isolation;  // "native", "oci" or "none"
  std::optional<std::string> network;    // "none" (own namespace) or "host"
  bool zygote = false;                   // python: workers forked from the zygote
  std::map<std::string, std::string> environment;
  std::vector<std::filesystem::path> layers;  // merged at /opt; empty: not written
  // Package type Image: written instead of runtime, handler and code ("oci:DIR:TAG", ...).
  std::string image;
  struct ImageConfig {
    std::vector<std::string> entrypoint;
    std::vector<std::string> command;
    std::string working_directory;
  } image_config;  // empty parts are not written
  // functions[].async; written only when some key is set. Destinations as in the file:
  // "function:NAME" or "dir:PATH".
  struct Async {
    std::optional<std::uint32_t> max_retries;
    std::optional<std::uint32_t> max_event_age_s;
    std::vector<std::uint32_t> retry_delays_s;  // empty: not written
    std::string on_success;
    std::string on_failure;
    std::string dead_letter;
  } async;
  // functions[].schedules, in order; `input` empty: not written.
  struct Schedule {
    std::string name;
    std::string expression;
    std::string input;
  };
  std::vector<Schedule> schedules;
  // functions[].http; none when path is empty. The node's routes listen on 127.0.0.1:0.
  struct Http {
    std::string path;
    std::vector<std::string> methods;  // empty: not written
    std::string format;                // "alb" or "function_url"; empty: not written
    bool multi_value_headers = false;
  };
  Http http;
  // functions[].logging; written only when some key is set ("text"/"json", level words).
  struct Logging {
    std::string format;
    std::string application_log_level;
    std::string system_log_level;
  };
  Logging logging;
  // functions[].s3_events and mounts, in order; empty prefix/suffix/events: not written.
  struct S3Events {
    std::string bucket;
    std::vector<std::string> events;
    std::string prefix;
    std::string suffix;
  };
  std::vector<S3Events> s3_events;
  struct Mount {
    std::string source;  // a bucket's name or a directory
    std::string target;
    bool read_only = true;
  };
  std::vector<Mount> mounts;
  // Further keys of the function, values as written (log_bytes_per_second: 65536, ...).
  std::map<std::string, std::string> keys;
};

// One of node.buckets.
struct NodeBucket {
  std::string name;
  std::filesystem::path path;
};

// node.auth; written only when `mode` is set.
struct NodeAuth {
  std::string mode;  // "sigv4" or "none"
  struct Credential {
    std::string access_key_id;
    std::string secret_access_key;
    std::vector<std::string> allow;
  };
  std::vector<Credential> credentials;
  std::optional<std::uint32_t> max_clock_skew_s;
};

// Node keys; the node's defaults when unset.
struct NodeSettings {
  // node.listen; 127.0.0.1:0 when unset (what every started node uses: a test that sets
  // another address only checks that the node refuses it).
  std::optional<std::string> listen;
  std::optional<std::uint64_t> memory_budget_mb;
  std::optional<std::uint32_t> max_workers;
  std::optional<std::uint32_t> freeze_idle_after_ms;
  std::optional<std::uint32_t> shutdown_grace_s;
  std::optional<std::string> isolation;    // node.isolation: "native", "oci" or "none"
  std::optional<std::string> oci_runtime;  // "runc", "crun", a path
  std::optional<std::uint64_t> max_image_mb;
  std::vector<NodeBucket> buckets;  // node.buckets; none written when empty
  std::optional<bool> metrics;      // node.metrics
  // node.cost's keys, values as written; none: not written
  std::map<std::string, std::string> cost;
  std::optional<std::string> region;  // node.region
  NodeAuth auth;                      // node.auth; none written when its mode is empty
  // Further node keys, values as written (log_format: json, log_files: 3, ...).
  std::map<std::string, std::string> keys;
  // Options of `ember serve` itself (--watch), not written to the file.
  std::vector<std::string> serve_args;
};

struct LocalNodeSpec {
  std::filesystem::path ember;  // the `ember` executable
  std::vector<NodeFunction> functions;
  NodeSettings settings = {};
  std::optional<double> time_scale;  // ember serve --time-scale
  std::string dir_prefix = "ember-node-";
  // The node's state (logs, the event queue) here instead of under its own directory: a
  // second node on the same state is a restart.
  std::optional<std::filesystem::path> state_dir;
  // The node's stdout here (a FIFO, say) instead of dir()/stdout, which then stays empty.
  std::optional<std::filesystem::path> output;
};

// The YAML of a node serving `functions`, its state under `state_dir`.
std::string node_yaml(const std::vector<NodeFunction>& functions,
                      const std::filesystem::path& state_dir, const NodeSettings& settings = {});

class LocalNode {
 public:
  // Starts the node and waits (at most 30 s) until it accepts requests. Throws
  // std::runtime_error with what the node printed when it does not come up.
  explicit LocalNode(const LocalNodeSpec& spec);
  LocalNode(const LocalNode&) = delete;
  LocalNode& operator=(const LocalNode&) = delete;
  LocalNode(LocalNode&&) = delete;
  LocalNode& operator=(LocalNode&&) = delete;
  ~LocalNode();

  [[nodiscard]] const std::string& address() const { return address_; }  // 127.0.0.1:PORT
  // The HTTP routes' listener (127.0.0.1:PORT); empty when no function has a route.
  [[nodiscard]] const std::string& http_address() const { return http_address_; }
  [[nodiscard]] pid_t pid() const { return child_.pid(); }
  // The node's files: ember.yaml, state/ (logs; unless the spec named a state_dir), stdout,
  // stderr.
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
  [[nodiscard]] const std::filesystem::path& state_dir() const { return state_dir_; }
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;
  // SIGTERM, `grace` to end, then SIGKILL; the exit status (0 once already stopped).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(20));

 private:
  TempDir dir_;
  std::filesystem::path state_dir_;
  ChildProcess child_;
  std::string address_;
  std::string http_address_;
};

}  // namespace ember::client
