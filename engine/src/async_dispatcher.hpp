// Asynchronous invocations (docs/async.md): accepts Event invocations into the durable queue,
// hands them to their function's pool as workers allow, and settles each attempt: success and
// final failure go to the function's destinations, a failed attempt is retried after its delay,
// a throttled one waits with backoff without using a retry, and an event past its age expires.
//
// Runs on the engine's thread; every call to the store goes through the QueueThread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ember/config/config.hpp"
#include "ember/queue/event_queue.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "engine_context.hpp"
#include "queue_thread.hpp"

namespace ember::engine {

class FunctionPool;
struct AttemptAnswer;
enum class Condition;

// A function's asynchronous events since the node started.
struct AsyncCounters {
  std::uint64_t accepted = 0;
  std::uint64_t attempts = 0;
  std::uint64_t retries = 0;    // failed attempts that were scheduled again
  std::uint64_t throttled = 0;  // attempts that found no room (no retry used)
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;   // retries exhausted
  std::uint64_t expired = 0;  // event age exceeded
  std::uint64_t on_success = 0;
  std::uint64_t on_failure = 0;
  std::uint64_t dead_letter = 0;
  std::uint64_t written = 0;         // directory targets: records written
  std::uint64_t write_failures = 0;  // directory targets: writes that failed (retried)
};

// A function's queue (from the store) and its counters.
struct AsyncFigures {
  std::uint64_t queued = 0;   // waiting, due or not
  std::uint64_t running = 0;  // claimed, not finished
  std::optional<double> oldest_age_s;
  AsyncCounters counters;
};

class AsyncDispatcher final : public std::enable_shared_from_this<AsyncDispatcher> {
 public:
  using PoolFor = std::function<FunctionPool*(std::string_view function)>;

  AsyncDispatcher(EngineContext& context, const config::Config& config,
                  std::unique_ptr<queue::EventQueue> queue, PoolFor pool_for);

  // Stores an Event invocation of a function of this node: 202 once it is durable; 503 when
  // the store cannot take it (nothing was stored).
  boost::asio::awaitable<runtime_api::InvokeResult> accept(
      const runtime_api::InvokeRequest& request);

  // Stores an event made inside the node (a schedule's tick, an object notification) for
  // `function`, with a new request id; `failed` runs if it could not be stored.
  void submit(const std::string& function, std::string payload, std::string_view origin,
              std::function<void(const std::string& error)> failed);

  // Events a previous process left running wait again; what is due is handed out.
  void start();
  // Hands out what is due where there is room (the node's ticker, and a worker going idle).
  void tick();
  void dispatch(std::string_view name);
  // Stops handing out events; running attempts still finish and are recorded.
  void drain();
  // After the pools have shut down: writes what is left to the store and ends its thread.
  void stop();

  // Per function: the queue's depth and age (from the store), and counters since start; `done`
  // runs on the engine's executor.
  using StatusByFunction = std::map<std::string, boost::json::object, std::less<>>;
  void status(std::function<void(StatusByFunction)> done);
  // The same figures as numbers, for GET /metrics; `done` runs on the engine's executor.
  using FiguresByFunction = std::map<std::string, AsyncFigures, std::less<>>;
  void figures(std::function<void(FiguresByFunction)> done);

  // Makes the functions' destination directories (at start, and after a reload).
  void make_destination_directories() const;

 private:
  struct Target {
    std::optional<queue::WallTime> next_due;  // soonest known due event; none: none waits
    bool claiming = false;                    // a claim is out to the store
    std::size_t running = 0;
    std::uint32_t throttle_streak = 0;
    std::optional<queue::WallTime> last_sweep;  // for events past their age (sweep_expired)
    AsyncCounters counters;
  };
  struct Claimed {
    std::vector<queue::Event> events;
    std::optional<queue::WallTime> next_due;
  };
  struct Written {
    std::size_t written = 0;
    std::vector<std::string> failures;
    std::optional<queue::WallTime> next_due;
  };

  [[nodiscard]] queue::WallTime wall_now() const;
  FiguresByFunction collect(const std::map<std::string, queue::Depth, std::less<>>& depths);
  Target& target(std::string_view name);
  void note_due(std::string_view name, queue::WallTime due);
  void claimed(const std::string& name, QueueOutcome<Claimed> outcome);
  void start_attempt(const std::string& name, queue::Event event);
  // Settles events of a function without room that are past their age.
  void sweep_expired(const std::string& name);
  void expire(const std::string& name, const queue::Event& event);
  void attempt_ended(const std::string& name, queue::Event event, runtime_api::InvokeResult result);
  void settle(const std::string& name, const queue::Event& event, Condition condition,
              const AttemptAnswer* answer);
  void release(const std::string& name, const queue::Event& event);
  void write_records(const std::string& name);
  void log(std::string_view function, const std::string& line) const;
  [[nodiscard]] const config::FunctionConfig* function(std::string_view name) const;

  EngineContext& context_;
  const config::Config& config_;
  PoolFor pool_for_;
  QueueThread thread_;
  // Wall time at construction and the deadline clock then: wall time moves with that clock,
  // so a test's ManualClock moves event ages and retry delays too.
  queue::WallTime wall_base_;
  Clock::TimePoint clock_base_;
  std::map<std::string, Target, std::less<>> targets_;
  bool draining_ = false;
};

}  // namespace ember::engine
