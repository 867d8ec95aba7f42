// GET /metrics: every family in a fixed order, each function's series under it, so a scrape
// of an idle node and one of a busy node list the same series.
#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "ember/metrics/text_format.hpp"
#include "metrics_snapshot.hpp"

namespace ember::engine {

namespace {

using metrics::TextWriter;
using metrics::Type;

constexpr std::uint64_t kMiB = 1024 * 1024;

// WorkerState order: the states shown_state() gives, without kEnded.
constexpr std::array<std::string_view, kPooledStates> kStateNames = {
    "starting", "initialising", "idle", "frozen", "assigned", "busy", "answered"};
constexpr std::array<Outcome, kOutcomes> kAllOutcomes = {
    Outcome::kSuccess,   Outcome::kError,    Outcome::kTimeout,     Outcome::kCrash,
    Outcome::kInitError, Outcome::kThrottle, Outcome::kServiceError};

// A pool's series: `function`, plus `version` for a published version's pool (key NAME:N),
// then `extra` when given. $LATEST's series keep the labels they always had.
std::vector<metrics::Label> labels(std::string_view key, std::optional<metrics::Label> extra = {}) {
  std::vector<metrics::Label> out;
  const auto colon = key.find(':');
  out.push_back({"function", key.substr(0, colon)});
  if (colon != std::string_view::npos) out.push_back({"version", key.substr(colon + 1)});
  if (extra) out.push_back(*extra);
  return out;
}

// One family with a sample per function.
template <class Value>
void per_function(TextWriter& out, const MetricsSnapshot& s, std::string_view name, Type type,
                  std::string_view help, Value value) {
  out.family(name, type, help);
  for (const auto& [function, f] : s.functions) {
    out.sample(name, labels(function), value(f));
  }
}

void invocations(TextWriter& out, const MetricsSnapshot& s) {
  out.family("ember_function_invocations_total", Type::kCounter,
             "Invocations by how they ended: success, error (the function returned one), timeout, "
             "crash (the runtime exited or ran out of memory), init_error (the start it waited "
             "for failed), throttle (429), service_error (the node's fault or its shutdown).");
  for (const auto& [function, f] : s.functions) {
    for (const Outcome o : kAllOutcomes) {
      out.sample("ember_function_invocations_total",
                 labels(function, {{"outcome", outcome_name(o)}}), f.figures.of(o));
    }
  }
  per_function(out, s, "ember_function_errors_total", Type::kCounter,
               "Invocations that ended with a function error (error, timeout, crash, init_error), "
               "as Lambda's Errors metric.",
               [](const FunctionSnapshot& f) {
                 std::uint64_t n = 0;
                 for (const Outcome o : kAllOutcomes) {
                   if (is_function_error(o)) n += f.figures.of(o);
                 }
                 return n;
               });
  per_function(out, s, "ember_function_throttles_total", Type::kCounter,
               "Invocations refused with 429 (reserved concurrency, memory budget, worker cap).",
               [](const FunctionSnapshot& f) { return f.figures.of(Outcome::kThrottle); });
  per_function(out, s, "ember_function_cold_starts_total", Type::kCounter,
               "Invocations that waited for their worker's start.",
               [](const FunctionSnapshot& f) { return f.cold_starts; });
  out.family("ember_function_duration_seconds", Type::kHistogram,
             "Duration of each invocation that ran on a worker, as its REPORT line gives it.");
  for (const auto& [function, f] : s.functions) {
    out.histogram("ember_function_duration_seconds", labels(function), f.figures.duration);
  }
  out.family("ember_function_init_duration_seconds", Type::kHistogram,
             "Init Duration of the REPORT lines that show one (cold starts of on-demand workers).");
  for (const auto& [function, f] : s.functions) {
    out.histogram("ember_function_init_duration_seconds", labels(function),
                  f.figures.init_duration);
  }
}

void workers(TextWriter& out, const MetricsSnapshot& s) {
  per_function(out, s, "ember_function_concurrent_executions", Type::kGauge,
               "Workers holding an invocation now (assigned or busy).",
               [](const FunctionSnapshot& f) { return f.concurrent; });
  per_function(out, s, "ember_function_waiting_invocations", Type::kGauge,
               "Invocations queued for a worker that is starting or about to be free.",
               [](const FunctionSnapshot& f) { return f.waiting; });
  out.family("ember_function_workers", Type::kGauge,
             "Live workers by state: starting (sandbox being made), initialising, idle, frozen, "
             "assigned, busy, answered.");
  for (const auto& [function, f] : s.functions) {
    for (std::size_t i = 0; i < kPooledStates; ++i) {
      out.sample("ember_function_workers", labels(function, {{"state", kStateNames[i]}}),
                 f.workers[i]);
    }
  }
  per_function(out, s, "ember_function_prepared_sandboxes", Type::kGauge,
               "Sandboxes made ahead of time, waiting for a start.",
               [](const FunctionSnapshot& f) { return f.prepared; });
}

void async(TextWriter& out, const MetricsSnapshot& s) {
  if (!s.has_event_queue) return;
  const auto of = [](const FunctionSnapshot& f) { return f.async.value_or(AsyncFigures{}); };
  per_function(out, s, "ember_function_async_queue_depth", Type::kGauge,
               "Asynchronous events stored and not running (due or waiting for a retry).",
               [&](const FunctionSnapshot& f) { return of(f).queued; });
  per_function(out, s, "ember_function_async_running_events", Type::kGauge,
               "Asynchronous events running now.",
               [&](const FunctionSnapshot& f) { return of(f).running; });
  per_function(out, s, "ember_function_async_oldest_event_age_seconds", Type::kGauge,
               "Age of the oldest stored event (0 when none).",
               [&](const FunctionSnapshot& f) { return of(f).oldest_age_s.value_or(0.0); });
  per_function(out, s, "ember_function_async_accepted_total", Type::kCounter,
               "Asynchronous events accepted (stored) since the node started.",
               [&](const FunctionSnapshot& f) { return of(f).counters.accepted; });
  per_function(out, s, "ember_function_async_retries_total", Type::kCounter,
               "Failed attempts scheduled again.",
               [&](const FunctionSnapshot& f) { return of(f).counters.retries; });
  per_function(out, s, "ember_function_async_throttles_total", Type::kCounter,
               "Attempts that found no room and waited (no retry used).",
               [&](const FunctionSnapshot& f) { return of(f).counters.throttled; });
  out.family("ember_function_async_settled_total", Type::kCounter,
             "Asynchronous events settled: succeeded, failed (retries exhausted), expired (past "
             "their maximum age).");
  for (const auto& [function, f] : s.functions) {
    const auto c = of(f).counters;
    const std::array<std::pair<std::string_view, std::uint64_t>, 3> settled = {
        {{"succeeded", c.succeeded}, {"failed", c.failed}, {"expired", c.expired}}};
    for (const auto& [outcome, n] : settled) {
      out.sample("ember_function_async_settled_total", labels(function, {{"outcome", outcome}}), n);
    }
  }
}

void cost(TextWriter& out, const MetricsSnapshot& s, const metrics::Prices& prices) {
  per_function(out, s, "ember_function_billed_requests_total", Type::kCounter,
               "Requests billed: invocations that ran on a worker (one REPORT line each).",
               [](const FunctionSnapshot& f) { return f.figures.billed.requests; });
  per_function(out, s, "ember_function_gigabyte_seconds_total", Type::kCounter,
               "GB-seconds billed: Billed Duration times Memory Size (1 GB = 1024 MB).",
               [](const FunctionSnapshot& f) { return f.figures.billed.gb_seconds(); });
  per_function(out, s, "ember_function_cost_usd", Type::kGauge,
               "What Lambda would charge for the billed requests and GB-seconds since the node "
               "started, before the free tier (node.cost prices).",
               [&](const FunctionSnapshot& f) {
                 return metrics::charge(f.figures.billed, prices).total_usd();
               });
  metrics::Usage total;
  for (const auto& [function, f] : s.functions) total.add(f.figures.billed);
  const auto tier = metrics::free_tier(total, prices);
  out.family("ember_node_cost_usd", Type::kGauge, "All functions' cost before the free tier.");
  out.sample("ember_node_cost_usd", {}, metrics::charge(total, prices).total_usd());
  out.family("ember_node_free_tier_usd", Type::kGauge,
             "What the monthly free tier covers of that cost (applied to the totals since the "
             "node started).");
  out.sample("ember_node_free_tier_usd", {}, tier.covered.total_usd());
  out.family("ember_node_cost_after_free_tier_usd", Type::kGauge, "The cost beyond the free tier.");
  out.sample("ember_node_cost_after_free_tier_usd", {}, tier.due.total_usd());
  out.family("ember_node_free_tier_requests", Type::kGauge, "Requests the free tier covers.");
  out.sample("ember_node_free_tier_requests", {}, tier.requests);
  out.family("ember_node_free_tier_gigabyte_seconds", Type::kGauge,
             "GB-seconds the free tier covers.");
  out.sample("ember_node_free_tier_gigabyte_seconds", {}, tier.gb_seconds);
  out.family("ember_node_price_usd", Type::kGauge,
             "The prices used: per million requests and per GB-second (node.cost).");
  out.sample("ember_node_price_usd", {{"unit", "million_requests"}},
             prices.usd_per_million_requests);
  out.sample("ember_node_price_usd", {{"unit", "gb_second"}}, prices.usd_per_gb_second);
}

void logs(TextWriter& out, const MetricsSnapshot& s) {
  out.family("ember_function_log_lines_dropped_total", Type::kCounter,
             "Log lines of the function not kept: past its log caps (cap; one LOGS_DROPPED line "
             "says so in its log) or refused by the file (disk: a full disk, a quota).");
  for (const auto& [function, f] : s.functions) {
    out.sample("ember_function_log_lines_dropped_total",
               {{"function", function}, {"reason", "cap"}}, f.logs.capped_lines);
    out.sample("ember_function_log_lines_dropped_total",
               {{"function", function}, {"reason", "disk"}}, f.logs.disk_lines);
  }
  out.family("ember_function_log_bytes_dropped_total", Type::kCounter,
             "The bytes of those lines, newlines included.");
  for (const auto& [function, f] : s.functions) {
    out.sample("ember_function_log_bytes_dropped_total",
               {{"function", function}, {"reason", "cap"}}, f.logs.capped_bytes);
    out.sample("ember_function_log_bytes_dropped_total",
               {{"function", function}, {"reason", "disk"}}, f.logs.disk_bytes);
  }
}

void node(TextWriter& out, const MetricsSnapshot& s) {
  out.family("ember_node_sandbox_creation_seconds", Type::kHistogram,
             "Time to make a sandbox: ahead (prepared for a pool in the background) or at_start "
             "(for a start that waited for it).");
  out.histogram("ember_node_sandbox_creation_seconds", {{"when", "ahead"}}, s.node.sandbox_ahead);
  out.histogram("ember_node_sandbox_creation_seconds", {{"when", "at_start"}},
                s.node.sandbox_at_start);
  out.family("ember_node_memory_budget_bytes", Type::kGauge,
             "The memory budget live workers' memory_mb may add up to (node.memory_budget_mb).");
  out.sample("ember_node_memory_budget_bytes", {}, s.memory_budget_mb * kMiB);
  out.family("ember_node_memory_used_bytes", Type::kGauge,
             "The memory_mb of live workers, taken from the budget.");
  out.sample("ember_node_memory_used_bytes", {}, s.memory_used_mb * kMiB);
  out.family("ember_node_workers", Type::kGauge, "Live workers of all functions.");
  out.sample("ember_node_workers", {}, s.workers);
  out.family("ember_node_max_workers", Type::kGauge, "The worker cap (node.max_workers).");
  out.sample("ember_node_max_workers", {}, s.max_workers);
  std::uint64_t prepared = 0;
  std::uint64_t concurrent = 0;
  for (const auto& [function, f] : s.functions) {
    prepared += f.prepared;
    concurrent += f.concurrent;
  }
  out.family("ember_node_prepared_sandboxes", Type::kGauge,
             "Sandboxes made ahead of time, of all functions.");
  out.sample("ember_node_prepared_sandboxes", {}, prepared);
  out.family("ember_node_concurrent_executions", Type::kGauge,
             "Workers of all functions holding an invocation now.");
  out.sample("ember_node_concurrent_executions", {}, concurrent);
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& snapshot, const metrics::Prices& prices) {
  TextWriter out;
  invocations(out, snapshot);
  workers(out, snapshot);
  async(out, snapshot);
  cost(out, snapshot, prices);
  logs(out, snapshot);
  node(out, snapshot);
  return out.take();
}

}  // namespace ember::engine
