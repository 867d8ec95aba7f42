// Private to the harness: what session.cpp shares with the files of the other modes
// (memory_mode.cpp, rate_mode.cpp, ...), and those modes' entry points.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/bench/baselines.hpp"
#include "ember/bench/report.hpp"
#include "ember/bench/runner.hpp"
#include "ember/bench/session.hpp"
#include "ember/client/local_node.hpp"

namespace ember::bench::detail {

inline constexpr const char* kSpawnBaseline = "baseline: posix_spawn->first next";

bool is_python(const std::string& runtime);
// The function of the options (runtime, handler, code, isolation) under `name`.
client::NodeFunction function_for(const BenchOptions& o, const std::string& name);
// A node of the bench's own serving `functions` (this ember binary); throws
// std::runtime_error with the node's output when it does not come up.
// A `state_dir` given is used instead of one under the node's own directory: a second node on
// it is a restart.
std::unique_ptr<client::LocalNode> start_node(
    const BenchOptions& o, std::vector<client::NodeFunction> functions,
    const client::NodeSettings& settings = {}, std::optional<double> time_scale = std::nullopt,
    std::optional<std::filesystem::path> state_dir = std::nullopt);
Endpoint endpoint_of(const client::LocalNode& node);
// How to start the options' runtime by hand, as ember would (the posix_spawn baselines).
BootstrapCommand bootstrap_command(const BenchOptions& o);
// Adds the client totals, the figures derived from the engine's stamps and the phase steps
// of measured invocations to the report as series of `group`, and notes for failures and for
// invocations that were not the kind (cold or warm) expected.
void add_measured(Report& report, const std::string& group, const std::vector<Measured>& runs,
                  bool expect_cold);

// Where a mode sends its invocations: the options' --endpoint and --function, or else a node
// of the bench's own serving `f` alone, kept in `node`.
struct Target {
  Endpoint endpoint;
  std::string function;
};
Target given_or_own_node(const BenchOptions& o, const client::NodeFunction& f,
                         std::unique_ptr<client::LocalNode>& node);

// `ember bench memory`: memory per idle warm worker (memory_mode.cpp).
void run_memory_mode(const BenchOptions& o, Report& report);
// `ember bench cold --images`: the runtime as an image, on the native backend and each OCI
// runtime that works here (image_cold.cpp).
void add_image_cold_starts(const BenchOptions& o, Report& report);
// `ember bench unpack`: an image's first-use unpack next to `tar -x` (unpack_mode.cpp).
void run_unpack_mode(const BenchOptions& o, Report& report);
// `ember bench rate`: sandboxes created per second to the first `next` (rate_mode.cpp).
void run_rate_mode(const BenchOptions& o, Report& report);
// `ember bench async`: Event invocations accepted per second with fsync next to a plain
// append + fdatasync, the queue's drain rate, and a kill -9 crash check (async_mode.cpp).
void run_async_mode(const BenchOptions& o, Report& report);
// `ember bench http`: HTTP routes (ALB and Function URL) next to a direct Invoke of the same
// function, latency and requests per second at each concurrency level (http_mode.cpp).
void run_http_mode(const BenchOptions& o, Report& report);
// `ember bench bucket`: a file's close in a bucket to the handler's start, one at a time and
// in a burst, next to a plain inotify watcher (bucket_mode.cpp).
void run_bucket_mode(const BenchOptions& o, Report& report);

}  // namespace ember::bench::detail
