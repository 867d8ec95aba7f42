#include "ember/bench/runner.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <mutex>
#include <thread>

#include "ember/bench/progress.hpp"

namespace ember::bench {

using Clock = std::chrono::steady_clock;

namespace {

// A run of n invocations ticks once per invocation; a timed run (n = 0) shows the share of its
// duration gone.
void show_progress(Progress* progress, std::size_t n, Clock::time_point start, double duration_s) {
  if (progress == nullptr) return;
  if (n > 0) {
    progress->tick();
  } else {
    progress->set_fraction(std::chrono::duration<double>(Clock::now() - start).count() /
                           duration_s);
  }
}

}  // namespace

Measured invoke_once(HttpClient& client, const std::string& function, const std::string& payload) {
  const auto target = invoke_target(function);
  Measured out;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto reply = client.post(target, payload, true);
    if (!reply.ok) {
      out.error = reply.error;
      return out;
    }
    if (reply.status == 429) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    out.client_us = reply.total_us;
    if (reply.status != 200 || reply.function_error) {
      out.error = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
      return out;
    }
    const auto timings = parse_timings(reply.timings);
    if (!timings) {
      out.error = "no X-Ember-Timings in the answer (is the node older than the bench?)";
      return out;
    }
    out.engine = *timings;
    out.ok = true;
    return out;
  }
  out.error = "429 TooManyRequests 1000 times in a row";
  return out;
}

std::vector<Measured> run_sequential(HttpClient& client, const std::vector<std::string>& functions,
                                     const std::string& payload, std::size_t n, Progress* progress,
                                     std::chrono::milliseconds gap) {
  std::vector<Measured> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && gap.count() > 0) std::this_thread::sleep_for(gap);
    out.push_back(invoke_once(client, functions[i % functions.size()], payload));
    if (progress != nullptr) progress->tick();
  }
  return out;
}

double ThroughputResult::per_second() const {
  return wall_s > 0 ? static_cast<double>(client_us.size()) / wall_s : 0;
}

ThroughputResult run_throughput(ClientKind kind, const Endpoint& endpoint,
                                const std::string& function, const std::string& payload,
                                std::size_t concurrency, std::size_t n, double duration_s,
                                Progress* progress) {
  concurrency = std::max<std::size_t>(concurrency, 1);
  const auto target = invoke_target(function);
  std::atomic<std::size_t> issued{0};
  std::atomic<std::size_t> errors{0};
  std::mutex merge;
  ThroughputResult result;
  Clock::time_point start;
  Clock::time_point deadline;
  // Every thread warms up (connects, gets a worker) before the clock starts.
  std::barrier ready(static_cast<std::ptrdiff_t>(concurrency + 1));

  std::vector<std::jthread> threads;
  for (std::size_t t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      auto client = make_client(kind, endpoint);
      client->post(target, payload, false);
      ready.arrive_and_wait();
      ready.arrive_and_wait();  // the main thread has set the clock
      std::vector<double> mine;
      while (true) {
        if (n > 0 && issued.fetch_add(1) >= n) break;
        if (Clock::now() >= deadline) break;
        const auto reply = client->post(target, payload, false);
        if (reply.ok && reply.status == 200 && !reply.function_error) {
          mine.push_back(reply.total_us);
        } else {
          errors.fetch_add(1);
        }
        show_progress(progress, n, start, duration_s);
      }
      const std::lock_guard lock(merge);
      result.client_us.insert(result.client_us.end(), mine.begin(), mine.end());
    });
  }
  ready.arrive_and_wait();
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(duration_s > 0 ? duration_s : 1e9));
  ready.arrive_and_wait();
  threads.clear();  // joins
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  result.errors = errors.load();
  return result;
}

ConcurrentRuns run_concurrent(ClientKind kind, const Endpoint& endpoint,
                              const std::string& function, const std::string& payload,
                              std::size_t concurrency, std::size_t n, Progress* progress) {
  concurrency = std::clamp<std::size_t>(concurrency, 1, std::max<std::size_t>(n, 1));
  std::atomic<std::size_t> next{0};
  std::mutex merge;
  ConcurrentRuns result;
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < concurrency; ++t) {
      threads.emplace_back([&] {
        auto client = make_client(kind, endpoint);
        while (next.fetch_add(1) < n) {
          auto run = invoke_once(*client, function, payload);
          const double answered_s = std::chrono::duration<double>(Clock::now() - start).count();
          if (progress != nullptr) progress->tick();
          const std::lock_guard lock(merge);
          result.received_s.push_back(answered_s - run.client_us / 1e6);
          result.runs.push_back(std::move(run));
        }
      });
    }
  }  // joins
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

std::string event_payload(std::size_t bytes) {
  std::string out = R"({"key1":"value1","key2":"value2","key3":"value3","padding":")";
  const std::string tail = "\"}";
  if (bytes > out.size() + tail.size()) out.append(bytes - out.size() - tail.size(), 'x');
  return out + tail;
}

}  // namespace ember::bench
