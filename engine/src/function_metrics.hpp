// The figures GET /metrics and `ember cost` show, kept where they happen: a FunctionMetrics per
// pool and a NodeMetrics per EngineContext, both updated only by the engine thread that owns
// them, with plain arithmetic (no lock, no atomic). A scrape runs on that thread too and merges
// every owner's copy (one today; one per shard later, docs/design.md#threading).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ember/metrics/cost.hpp"
#include "ember/metrics/histogram.hpp"

namespace ember::engine {

// How an invocation of a function ended, once each.
enum class Outcome {
  kSuccess,       // the runtime answered
  kError,         // the runtime answered with an error (/error, or a stream's error trailer)
  kTimeout,       // its timeout_s passed (Sandbox.Timedout)
  kCrash,         // the runtime exited or was OOM-killed while it ran
  kInitError,     // the start it waited for failed (init error, exit, init timeout)
  kThrottle,      // 429: reserved concurrency, or the node's memory budget or worker cap
  kServiceError,  // the node's fault or its shutdown: 5xx without a function error
};
inline constexpr std::size_t kOutcomes = 7;
std::string_view outcome_name(Outcome outcome);
// Lambda's Errors metric: the invocations that ended with a function error.
bool is_function_error(Outcome outcome);

struct FunctionMetrics {
  std::array<std::uint64_t, kOutcomes> invocations{};  // by Outcome
  // From each REPORT: Duration, and Init Duration when it shows one (cold, on-demand).
  metrics::Histogram duration{metrics::kDurationBuckets};
  metrics::Histogram init_duration{metrics::kInitDurationBuckets};
  metrics::Usage billed;  // one request and its Billed Duration x Memory Size per REPORT

  void count(Outcome outcome) { ++invocations[static_cast<std::size_t>(outcome)]; }
  [[nodiscard]] std::uint64_t of(Outcome outcome) const {
    return invocations[static_cast<std::size_t>(outcome)];
  }
  void merge(const FunctionMetrics& other);
};

// Node-wide: how long making a sandbox took, ahead of time (the background preparer) or for a
// start that waited for it (the urgent preparer, or the engine thread for plain processes).
struct NodeMetrics {
  metrics::Histogram sandbox_ahead{metrics::kSandboxBuckets};
  metrics::Histogram sandbox_at_start{metrics::kSandboxBuckets};

  void merge(const NodeMetrics& other) {
    sandbox_ahead.merge(other.sandbox_ahead);
    sandbox_at_start.merge(other.sandbox_at_start);
  }
};

}  // namespace ember::engine
