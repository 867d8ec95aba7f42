// The warm pool of one function: its workers, the invocations waiting for one, and the
// concurrency cap between them.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "engine_context.hpp"
#include "invocation.hpp"
#include "worker.hpp"

namespace ember::engine {

// Admission keeps one invariant: no more invocations wait than there are workers about to be
// ready (starting, or answered and on their way back to `next`), so every waiter is backed by
// one of them and nothing waits in an unbounded list. A waiter takes whichever worker is
// ready first.
class FunctionPool final : public std::enable_shared_from_this<FunctionPool> {
 public:
  using Clock = std::chrono::steady_clock;

  FunctionPool(EngineContext& context, const config::FunctionConfig& function);

  // Hands the invocation to an idle worker, or queues it behind a start. Returns the 429
  // answer when the function is at its concurrency cap.
  std::optional<runtime_api::InvokeResult> admit(const std::shared_ptr<Invocation>& invocation);

  // --- from workers
  // The worker is parked in `next`: give it the oldest waiter or keep it idle.
  void worker_ready(const std::shared_ptr<Worker>& worker);
  // The worker ended. `failure` says why it never became ready, when that is what happened.
  void worker_ended(const std::shared_ptr<Worker>& worker, std::optional<StartFailure> failure);

  // Fails every waiter with 503 and ends every worker.
  void shutdown();

  [[nodiscard]] std::size_t worker_count() const { return workers_.size(); }
  [[nodiscard]] const config::FunctionConfig& function() const { return function_; }

 private:
  struct IdleWorker {
    std::shared_ptr<Worker> worker;
    Clock::time_point since;
  };

  void start_worker();
  void enqueue(const std::shared_ptr<Invocation>& invocation);
  [[nodiscard]] std::size_t pending_count() const;
  void fail(const std::shared_ptr<Invocation>& invocation, const StartFailure& failure) const;
  void schedule_sweep();
  void retire_expired();

  EngineContext& context_;
  const config::FunctionConfig& function_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::vector<IdleWorker> idle_;  // most recently parked last; reused first (stays warm)
  std::deque<std::shared_ptr<Invocation>> waiters_;
  boost::asio::steady_timer sweep_;
  bool sweep_scheduled_ = false;
  bool shut_down_ = false;
};

}  // namespace ember::engine
