// One `ember bench` run from options to Report: starts its own node when no endpoint is
// given, runs the mode, measures the baselines in the same run, and stops what it started.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ember/bench/http_client.hpp"
#include "ember/bench/report.hpp"
#include "ember/bench/trace.hpp"

namespace ember::bench {

struct BenchOptions {
  std::string mode;  // cold, warm, all (cold then warm), throughput, trace, memory, rate,
                     // unpack, async, http, bucket

  // Against a running node (both set), or else a node of the bench's own for `code`.
  std::optional<Endpoint> endpoint;
  std::string function;
  std::filesystem::path code;  // the function's code directory (also used by the baselines)
  std::string runtime = "provided";
  std::string handler;
  std::optional<std::string> isolation;  // the functions' `isolation:` (native, none)
  std::optional<std::string> network;    // the functions' `network:` (none, host)
  bool zygote = false;                   // python functions: `zygote: true`
  // cold: also the runtime packaged as an image, on the native backend and through runc and
  // crun (nodes of the bench's own only).
  bool images = false;
  std::string image;  // unpack: the OCI layout's image, oci:DIR:TAG

  std::size_t n = 100;          // invocations (cold, warm, rate, throughput when no duration);
                                // memory: workers
  std::size_t concurrency = 2;  // throughput, trace and rate client threads
  double duration_s = 0;        // throughput: run this long (0: run n invocations)
  std::size_t payload_bytes = 1024;
  // cold: pause between invocations, as between real cold starts of a function; it lets the
  // node refill its prepared sandboxes (0: back to back).
  std::chrono::milliseconds cold_gap{10};
  ClientKind client = ClientKind::kBeast;
  bool baselines = true;

  // async: events per concurrency level, the levels (http too), and the crash check (K events into
  // a function sleeping crash_sleep_ms, the node killed mid-way).
  std::size_t events = 2000;
  std::vector<std::size_t> concurrency_levels{1, 8, 32};
  bool crash = true;
  std::size_t crash_events = 1000;
  unsigned crash_sleep_ms = 30;

  std::size_t settle_ms = 1000;  // memory: wait before each /proc/meminfo reading

  std::string trace_file;
  TraceFormat trace_format = TraceFormat::kAzure2019;
  double time_scale = 600;  // trace time runs this many times faster than wall time
  TraceLimits trace_limits;
  std::uint32_t keep_alive_s = 600;  // fixed policy's TTL (and the adaptive one's cap)

  std::filesystem::path ember;         // the ember executable, to start nodes
  std::filesystem::path runtimes_dir;  // ember's runtimes/ (the Python runtime client)
};

// Throws std::runtime_error with a message for the user when the run cannot be done.
Report run_bench(const BenchOptions& options);

}  // namespace ember::bench
