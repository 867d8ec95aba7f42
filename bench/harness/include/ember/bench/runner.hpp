// The measuring loops of `ember bench`: each invocation timed by the client, with the
// engine's own phase stamps alongside.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ember/bench/http_client.hpp"
#include "ember/bench/timings.hpp"

namespace ember::bench {

class Progress;

struct Measured {
  bool ok = false;  // 200 without a function error, and parseable timings
  std::string error;
  double client_us = 0;  // as the client saw it
  EngineTimings engine;  // from X-Ember-Timings
};

// One invocation with X-Ember-Timings asked for. A 429 (the pool still busy retiring a worker)
// is retried after a millisecond, at most 1000 times, and the retry is not timed.
Measured invoke_once(HttpClient& client, const std::string& function, const std::string& payload);

// Sequential invocations, the i-th on functions[i % size], `gap` apart (not timed); one call
// per tick of `progress`.
std::vector<Measured> run_sequential(HttpClient& client, const std::vector<std::string>& functions,
                                     const std::string& payload, std::size_t n, Progress* progress,
                                     std::chrono::milliseconds gap = {});

struct ThroughputResult {
  std::vector<double> client_us;  // successful invocations only
  std::size_t errors = 0;
  double wall_s = 0;
  [[nodiscard]] double per_second() const;
};

// `concurrency` threads, each with its own keep-alive connection, invoke `function` until `n`
// invocations are done (n > 0) or `duration_s` has passed, whichever is first. Each thread's
// first call is a warm-up outside the clock.
ThroughputResult run_throughput(ClientKind kind, const Endpoint& endpoint,
                                const std::string& function, const std::string& payload,
                                std::size_t concurrency, std::size_t n, double duration_s,
                                Progress* progress);

struct ConcurrentRuns {
  std::vector<Measured> runs;
  // Per run, when the engine received the (last, answered) request: seconds on the client's
  // clock since the first request, estimated as answer time - client time (the request's way
  // in is not counted). With the engine's stamps it places each phase on one time line.
  std::vector<double> received_s;
  double wall_s = 0;  // first request sent to the last answer read
};

// `concurrency` threads, each with its own keep-alive connection, make `n` invocations of
// `function` in all through invoke_once (stamps asked for, a 429 retried). No warm-up: this
// is for cold starts under concurrency, where the first call is as cold as the others.
ConcurrentRuns run_concurrent(ClientKind kind, const Endpoint& endpoint,
                              const std::string& function, const std::string& payload,
                              std::size_t concurrency, std::size_t n, Progress* progress);

// A JSON object of about `bytes` bytes, like a small Lambda event.
std::string event_payload(std::size_t bytes);

}  // namespace ember::bench
