// Public serverless traces as invocation timestamps, and their replay in compressed time.
//
// Accepted CSV formats (columns found by header name, in any order, extra columns ignored):
//   azure2019: HashFunction, then per-minute counts in columns named minute_1..minute_N or
//              1..N (Azure Functions Trace 2019). Each minute's invocations are spread
//              evenly within the minute: the j-th of c at (m-1)*60 + (j+0.5)*60/c seconds.
//   azure2021: func, end_timestamp, duration (seconds; Azure Functions Invocation Trace
//              2021); app is optional. An invocation starts at end_timestamp - duration.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "ember/bench/http_client.hpp"

namespace ember::bench {

enum class TraceFormat { kAzure2019, kAzure2021 };

struct TraceEvent {
  double at_s = 0;           // trace time, seconds from the trace's start
  std::size_t function = 0;  // index into Trace::functions
};

struct Trace {
  std::vector<std::string> functions;  // the trace's own ids (hashes), in first-seen order
  std::vector<TraceEvent> events;      // ascending at_s
  double span_s = 0;                   // the time the trace covers (at least the last event)
};

struct TraceLimits {
  std::size_t max_functions = 0;  // 0: all (azure2019: rows; azure2021: distinct functions)
  double max_span_s = 0;          // 0: all; else only events before this trace time
};

// Throws std::runtime_error naming the line and column on malformed input.
Trace parse_trace(std::istream& in, TraceFormat format, const TraceLimits& limits = {});
Trace load_trace(const std::string& path, TraceFormat format, const TraceLimits& limits = {});
std::optional<TraceFormat> parse_trace_format(const std::string& name);

class Progress;

struct ReplayOutcome {
  std::size_t invocations = 0;
  std::size_t errors = 0;
  std::size_t cold = 0;           // answers with cold=1 in X-Ember-Timings
  double max_lateness_s = 0;      // wall seconds the latest invocation started after its time
  std::vector<double> client_us;  // successful invocations
  double wall_s = 0;
};

// Replays `trace` against functions named function_names[event.function], with trace time
// running `time_scale` times faster than the wall clock, from `concurrency` threads (each its
// own keep-alive connection). Returns when every event has been sent and answered.
ReplayOutcome replay(const Trace& trace, const std::vector<std::string>& function_names,
                     ClientKind kind, const Endpoint& endpoint, double time_scale,
                     std::size_t concurrency, const std::string& payload, Progress* progress);

}  // namespace ember::bench
