// One scrape's worth of figures, gathered from every pool and the event store, and its
// Prometheus text (docs/operating.md#metrics lists every metric).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "async_dispatcher.hpp"
#include "ember/metrics/cost.hpp"
#include "function_log.hpp"
#include "function_metrics.hpp"

namespace ember::engine {

// Worker states a pool shows (shown_state; retired ones have left it): WorkerState's first seven.
inline constexpr std::size_t kPooledStates = 7;

struct FunctionSnapshot {
  FunctionMetrics figures;
  std::uint32_t memory_mb = 0;
  std::uint64_t cold_starts = 0;
  std::array<std::uint64_t, kPooledStates> workers{};  // by shown WorkerState
  std::uint64_t concurrent = 0;  // workers holding an invocation (assigned or busy)
  std::uint64_t waiting = 0;     // invocations queued for a worker
  std::uint64_t prepared = 0;    // sandboxes made ahead, waiting for a start
  std::optional<AsyncFigures> async;
  LogDrops logs;  // log lines its caps and a full disk dropped
};

struct MetricsSnapshot {
  std::map<std::string, FunctionSnapshot, std::less<>> functions;
  NodeMetrics node;
  std::uint64_t memory_budget_mb = 0;
  std::uint64_t memory_used_mb = 0;  // memory_mb of live workers
  std::uint64_t workers = 0;
  std::uint64_t max_workers = 0;
  bool has_event_queue = false;
};

// GET /metrics' body.
std::string render_metrics(const MetricsSnapshot& snapshot, const metrics::Prices& prices);

}  // namespace ember::engine
