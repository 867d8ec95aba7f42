// The warm pool of one function: its workers, the invocations waiting for one, the
// concurrency cap between them, and the keep-alive policy that decides what stays warm.
#pragma once

#include <boost/json/object.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "deadline.hpp"
#include "ember/config/config.hpp"
#include "ember/engine/keep_alive.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "engine_context.hpp"
#include "function_metrics.hpp"
#include "invocation.hpp"
#include "metrics_snapshot.hpp"
#include "start_backoff.hpp"
#include "worker.hpp"

namespace ember::engine {

// Admission keeps one invariant: no more invocations wait than there are workers about to be
// ready (starting, or answered and on their way back to `next`), so every waiter is backed by
// one of them and nothing waits in an unbounded list. A waiter takes whichever worker is
// ready first.
class FunctionPool final : public std::enable_shared_from_this<FunctionPool> {
 public:
  using TimePoint = Clock::TimePoint;

  // The pool shares `function` with its workers (see Worker).
  FunctionPool(EngineContext& context, std::shared_ptr<const config::FunctionConfig> function);

  // Hands the invocation to an idle worker, or queues it behind a start. Returns the 429
  // answer when the function or the node is at its limit. A synchronous caller may also queue
  // behind a worker running an asynchronous event (so a burst of events never throttles
  // callers beyond the function's cap); an event never queues behind another.
  std::optional<runtime_api::InvokeResult> admit(const std::shared_ptr<Invocation>& invocation);
  // How many asynchronous events could start now without waiting or throttling: idle workers
  // plus starts the function's cap allows; none while callers wait.
  [[nodiscard]] std::size_t async_room() const;

  // --- from workers
  // The worker is waiting in `next`: give it the oldest waiter, keep it, or end it. `first`:
  // its init just ended (its first turn).
  void worker_ready(const std::shared_ptr<Worker>& worker, bool first);
  // One of its invocations finished on a worker (answered, failed, timed out, crashed), with
  // its REPORT and, when it failed, its error type: feeds the keep-alive policy, the metrics
  // and the node's recent reports.
  void invocation_finished(const ReportFields& report, Outcome outcome,
                           std::string_view error_type = {});
  // An invocation ended without a REPORT (a failed start, a shutdown): for the metrics.
  void count(Outcome outcome);
  // The worker ended. `failure` says why it never became ready, when that is what happened.
  void worker_ended(const std::shared_ptr<Worker>& worker, std::optional<StartFailure> failure);

  // --- time-driven work, called by the node's ticker with its clock's time
  // Ends idle workers past their keep-alive, starts pre-warmed and provisioned ones; runs the
  // deadlines due by the deadline clock (see check_deadlines).
  void tick(TimePoint now);

  // --- node-wide memory budget
  // When this pool's least recently used idle worker went idle; none for provisioned ones.
  [[nodiscard]] std::optional<TimePoint> oldest_idle() const;
  // Ends that worker to make room for another function.
  void evict_oldest_idle();
  // Memory and count of the idle workers eviction could end (not provisioned ones).
  [[nodiscard]] std::pair<std::uint64_t, std::uint32_t> evictable() const;

  // --- shutdown
  // Graceful: idle workers end now, busy ones once they answer; waiters are still served.
  // `why` is what the ending workers log.
  void drain(const std::string& why = "node shutting down");
  // Final: waiters and running invocations get 503 and every worker ends.
  void shutdown();

  [[nodiscard]] std::size_t worker_count() const { return workers_.size(); }
  [[nodiscard]] const config::FunctionConfig& function() const { return function_; }
  // Counters and workers, for `ember ps` and GET /ember/v1/functions.
  [[nodiscard]] boost::json::object status(TimePoint now) const;
  // Adds this pool's figures to a scrape's (a function split over shards adds up).
  void add_metrics(FunctionSnapshot& out) const;
  [[nodiscard]] const metrics::Usage& billed() const { return metrics_.billed; }

 private:
  struct IdleWorker {
    std::shared_ptr<Worker> worker;
    TimePoint since;
    TimePoint expires;  // ignored for provisioned workers
  };

  // Starts a worker if the node's budget allows (evicting other functions' idle workers);
  // false when it does not.
  bool start_worker(WorkerKind kind);
  // Evicts other functions' least recently used idle workers until this one's memory fits.
  bool make_room();
  void enqueue(const std::shared_ptr<Invocation>& invocation);
  // Fails the waiters queued for longer than the backstop; re-arms for the oldest one left.
  void expire_waiters();
  // The deadlines of its workers and its backstop, by the deadline clock's `now`: their timers
  // run them on time on the wall clock; this catches a clock moved faster or by hand.
  void check_deadlines(TimePoint deadline_now);
  void leave_idle(std::vector<IdleWorker>::iterator it, TimePoint now);
  // Parks a worker that has nothing to do until `expires`, and says there is room.
  void park(const std::shared_ptr<Worker>& worker, TimePoint now, TimePoint expires);
  [[nodiscard]] Clock::Duration extra_worker_keep(Clock::Duration keep) const;
  [[nodiscard]] std::size_t pending_count() const;
  // What a synchronous waiter may wait for: pending workers and those running events.
  [[nodiscard]] std::size_t backing_count() const;
  // How many waiters the workers there are will serve without another start: one per backing
  // worker, and one more per event waiting for a pending worker (it holds that worker for one
  // event, so a synchronous caller may queue behind it as behind a running event).
  [[nodiscard]] std::size_t backed_waiters() const;
  [[nodiscard]] std::size_t provisioned_count() const;
  // A provisioned worker's start failed: the next one waits (StartBackoff), said once per step.
  void provisioned_back_off(const StartFailure& failure, TimePoint now);
  void fail(const std::shared_ptr<Invocation>& invocation, const StartFailure& failure);
  // A 429 for the metrics and `ember ps`.
  void throttled();
  // Asks the preparer for sandboxes until prepared + in the making = the function's
  // prepared_sandboxes (native isolation only).
  void refill_prepared();
  [[nodiscard]] std::size_t prepared_target() const;

  EngineContext& context_;
  std::shared_ptr<const config::FunctionConfig> function_owner_;
  const config::FunctionConfig& function_;  // *function_owner_
  std::unique_ptr<KeepAlivePolicy> policy_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::vector<IdleWorker> idle_;  // most recently parked last; reused first (stays warm)
  std::deque<std::shared_ptr<Invocation>> waiters_;
  std::deque<PreparedWorker> prepared_;  // oldest first
  std::size_t preparing_ = 0;            // submitted to the preparer, not back yet
  bool prepare_failed_ = false;          // the last one failed: retry on the next tick
  // One deadline for every waiter: all wait at most as long, so the oldest expires first. Set
  // only while one is queued, never cancelled: a served waiter costs no timer operation.
  Deadline backstop_;
  // Provisioned workers whose starts fail are started again later and later, not every tick.
  StartBackoff provisioned_backoff_;
  std::optional<TimePoint> prewarm_at_;  // adaptive policy: start a worker then
  Clock::Duration prewarm_keep_{};       // ... and keep it this long
  bool draining_ = false;
  std::string drain_reason_ = "node shutting down";
  bool shut_down_ = false;

  // Counters since start.
  std::uint64_t invocations_ = 0;
  std::uint64_t cold_starts_ = 0;
  std::uint64_t throttles_ = 0;
  std::uint64_t prepared_starts_ = 0;  // cold starts that found a prepared sandbox
  Clock::Duration idle_time_{};        // summed over workers, node clock
  FunctionMetrics metrics_;            // kept while node.metrics is on
};

}  // namespace ember::engine
