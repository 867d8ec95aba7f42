#include "function_pool.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include "ember/runtime_api/runtime_api.hpp"
#include "function_registry.hpp"
#include "worker_launch.hpp"

namespace ember::engine {

using runtime_api::InvokeResult;
using runtime_api::ServiceError;

namespace {

InvokeResult too_many_requests(std::string reason, std::string message) {
  InvokeResult result;
  result.service_error = ServiceError::kTooManyRequests;
  result.reason = std::move(reason);
  result.message = std::move(message);
  result.retry_after_seconds = 1;
  return result;
}

bool is_json_object(std::string_view text) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  return !ec && value.is_object();
}

double seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

FunctionPool::FunctionPool(EngineContext& context,
                           std::shared_ptr<const config::FunctionConfig> function)
    : context_(context),
      function_owner_(std::move(function)),
      function_(*function_owner_),
      policy_(make_keep_alive_policy(function_)),
      backstop_(context.executor, context.deadline_clock) {}

std::optional<InvokeResult> FunctionPool::admit(const std::shared_ptr<Invocation>& invocation) {
  const auto now = context_.clock.now();
  ++invocations_;
  policy_->on_arrival(now);
  if (!idle_.empty()) {
    auto worker = idle_.back().worker;
    leave_idle(std::prev(idle_.end()), now);
    worker->assign(invocation);
    return std::nullopt;
  }
  // A worker that just answered is back in `next` within microseconds, and one that is
  // starting will be ready before a new one would: each such worker backs one waiter.
  const bool event = invocation->request().type == runtime_api::InvocationType::kEvent;
  if (waiters_.size() < (event ? pending_count() : backed_waiters())) {
    enqueue(invocation);
    return std::nullopt;
  }
  if (workers_.size() < function_.reserved_concurrency) {
    if (!make_room()) {
      throttled();
      return too_many_requests(
          "ConcurrentInvocationLimitExceeded",
          "Rate Exceeded. The node's memory budget or worker limit is reached and no idle "
          "worker of another function can be evicted");
    }
    // Queued first: a start that fails at once settles this waiter with its reason.
    enqueue(invocation);
    start_worker(WorkerKind::kOnDemand);
    return std::nullopt;
  }
  throttled();
  return too_many_requests("ReservedFunctionConcurrentInvocationLimitExceeded",
                           "Rate Exceeded. Function " + function_.name +
                               " is at its reserved concurrency (" +
                               std::to_string(function_.reserved_concurrency) + ")");
}

void FunctionPool::enqueue(const std::shared_ptr<Invocation>& invocation) {
  // A backstop only: the init deadline and the answered-worker deadline end every worker
  // that could leave a waiter stranded, and worker_ended() then settles the waiter.
  invocation->set_queued_until(context_.deadline_clock.now() + kInitTimeout +
                               std::chrono::seconds(function_.timeout_s) + std::chrono::seconds(1));
  waiters_.push_back(invocation);
  if (!backstop_.bound()) backstop_.on_expiry(weak_from_this(), [this] { expire_waiters(); });
  // Later than any waiter's before it: a wait already pending wakes first and re-arms.
  if (!backstop_.due()) backstop_.set(invocation->queued_until());
}

void FunctionPool::expire_waiters() {
  const auto now = context_.deadline_clock.now();
  while (!waiters_.empty() &&
         (waiters_.front()->completed() || waiters_.front()->queued_until() <= now)) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    if (invocation->completed()) continue;
    count(Outcome::kServiceError);
    InvokeResult result;
    result.service_error = ServiceError::kService;
    result.message =
        "No worker of " + function_.name + " became ready for request " + invocation->id();
    invocation->complete(std::move(result));
  }
  if (!waiters_.empty()) backstop_.set(waiters_.front()->queued_until());
}

bool FunctionPool::make_room() {
  auto& capacity = context_.capacity;
  if (capacity.fits(function_.memory_mb)) return true;
  // Evict only when that is enough: emptying the node for a start that still cannot fit
  // would cost every other function its warm workers for nothing.
  const auto [idle_mb, idle_workers] =
      context_.evictable ? context_.evictable(this) : std::pair<std::uint64_t, std::uint32_t>{};
  if (capacity.used_mb - idle_mb + function_.memory_mb > capacity.budget_mb ||
      capacity.workers - idle_workers >= capacity.max_workers) {
    return false;
  }
  while (!capacity.fits(function_.memory_mb)) {
    if (!context_.evict_one || !context_.evict_one(this)) return false;
  }
  return true;
}

std::pair<std::uint64_t, std::uint32_t> FunctionPool::evictable() const {
  std::uint32_t n = 0;
  for (const auto& idle : idle_) {
    if (idle.worker->kind() != WorkerKind::kProvisioned) ++n;
  }
  return {std::uint64_t{n} * function_.memory_mb, n};
}

bool FunctionPool::start_worker(WorkerKind kind) {
  if (!make_room()) return false;
  context_.capacity.take(function_.memory_mb);
  std::optional<PreparedWorker> prepared;
  if (!prepared_.empty()) {
    prepared = std::move(prepared_.front());
    prepared_.pop_front();
    ++prepared_starts_;
  }
  auto id = prepared ? prepared->sandbox->id() : new_worker_id(context_, function_);
  auto worker = std::make_shared<Worker>(context_, function_owner_, weak_from_this(), kind, id);
  workers_.push_back(worker);
  auto& backend = context_.backend_for(function_);
  if (!prepared && context_.urgent_preparer != nullptr && context_.is_isolated(backend)) {
    // No sandbox waiting: one is made on the urgent preparer's thread, so this thread goes on
    // serving meanwhile; the worker counts as starting (waiters queue behind it).
    // The launch half of the spec is rebuilt when the worker takes the sandbox.
    const LaunchNames names{.worker_id = id, .log_stream = "", .initialization_type = ""};
    auto spec = make_sandbox_spec(context_, backend, function_, names, -1);
    context_.urgent_preparer->submit(
        backend, std::move(spec),
        [weak = std::weak_ptr<Worker>(worker), requested = Worker::Steady::now(), id,
         context = &context_](isolation::Result<PreparedWorker> made) {
          auto starting = weak.lock();
          if (!starting || starting->retired()) return;  // retired meanwhile
          if (!made) {
            starting->retire("could not start", StartFailure::platform("start worker " + id + ": " +
                                                                       made.error().message()));
            return;
          }
          made->made_ahead = false;
          // The worker alive means its node, and so the context, is too.
          context->sandbox_made(made->took, /*ahead=*/false);
          if (auto failure = starting->start(std::move(*made), requested)) {
            starting->retire("could not start", std::move(*failure));
          }
        });
    return true;
  }
  if (auto failure = worker->start(std::move(prepared))) {
    worker->retire("could not start", std::move(*failure));
    refill_prepared();
  }
  // Otherwise the refill waits until the worker's first invocation finished (or the worker
  // ended): making a sandbox takes kernel locks (cgroup attach, namespace creation) that the
  // starting runtime's exec and the invocation's round trip also need.
  return true;
}

std::size_t FunctionPool::prepared_target() const {
  const bool native = context_.native_backend != nullptr &&
                      &context_.backend_for(function_) == context_.native_backend;
  return native && context_.preparer != nullptr ? function_.prepared_sandboxes : 0;
}

void FunctionPool::refill_prepared() {
  if (draining_ || shut_down_ || prepare_failed_) return;
  while (prepared_.size() + preparing_ < prepared_target()) {
    ++preparing_;
    auto& backend = context_.backend_for(function_);
    // The launch half of the spec (argv, env) is rebuilt when a worker takes the sandbox.
    auto spec = make_sandbox_spec(context_, backend, function_,
                                  LaunchNames{.worker_id = new_worker_id(context_, function_),
                                              .log_stream = "",
                                              .initialization_type = ""},
                                  -1);
    context_.preparer->submit(backend, std::move(spec),
                              [weak = weak_from_this()](isolation::Result<PreparedWorker> result) {
                                auto self = weak.lock();
                                if (!self) {
                                  return;  // the prepared sandbox, if any, is released here
                                }
                                --self->preparing_;
                                if (!result) {
                                  // Cold starts make their own sandbox meanwhile, and report what
                                  // fails to callers.
                                  self->prepare_failed_ = true;
                                  if (self->context_.echo) {
                                    self->context_.echo(
                                        self->function_.name,
                                        "ember: could not prepare a sandbox (retrying on the next "
                                        "tick): " +
                                            result.error().message());
                                  }
                                  return;
                                }
                                self->context_.sandbox_made(result->took, /*ahead=*/true);
                                if (self->draining_ || self->shut_down_) return;
                                self->prepared_.push_back(std::move(*result));
                              });
  }
}

std::size_t FunctionPool::pending_count() const {
  return static_cast<std::size_t>(
      std::count_if(workers_.begin(), workers_.end(), [](auto& w) { return w->pending(); }));
}

std::size_t FunctionPool::backing_count() const {
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->pending() || w->serving_event();
  }));
}

std::size_t FunctionPool::backed_waiters() const {
  const auto events = static_cast<std::size_t>(
      std::count_if(waiters_.begin(), waiters_.end(), [](const auto& invocation) {
        return invocation->request().type == runtime_api::InvocationType::kEvent;
      }));
  return backing_count() + std::min(events, pending_count());
}

std::size_t FunctionPool::async_room() const {
  if (draining_ || shut_down_ || !waiters_.empty()) return 0;
  const std::size_t startable = function_.reserved_concurrency > workers_.size()
                                    ? function_.reserved_concurrency - workers_.size()
                                    : 0;
  return idle_.size() + startable;
}

std::size_t FunctionPool::provisioned_count() const {
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->kind() == WorkerKind::kProvisioned;
  }));
}

void FunctionPool::worker_ready(const std::shared_ptr<Worker>& worker, bool first) {
  const auto now = context_.clock.now();
  if (first && worker->kind() == WorkerKind::kProvisioned) provisioned_backoff_.succeeded();
  if (!waiters_.empty() && !shut_down_) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    // The waiter waited for this worker's start if it is the worker's very first turn
    // (whatever started it; only on-demand starts show Init Duration, as in Lambda).
    if (first) ++cold_starts_;
    worker->assign(invocation, first ? Turn::kFirst : Turn::kWarm);
    return;
  }
  if (draining_ || shut_down_) {
    worker->retire(shut_down_ ? "node shutting down" : drain_reason_);
    return;
  }
  if (function_.max_reuse != 0 && worker->invocations() >= function_.max_reuse) {
    worker->retire("served max_reuse invocations");
    return;
  }
  if (worker->kind() == WorkerKind::kPrewarmed && first) {
    // Started ahead of the expected call: it waits for it, for the window the policy gave.
    park(worker, now, now + prewarm_keep_);
    return;
  }
  const auto window = policy_->window();
  if (window.prewarm > Clock::Duration{}) {
    // Adaptive: nothing is expected for a while, so the last worker standing ends and a
    // fresh one starts just before the next invocation is due. While others still run (a
    // burst) this one stays for the whole window instead: the policy models one instance.
    const bool alone =
        idle_.empty() && std::none_of(workers_.begin(), workers_.end(),
                                      [&](const auto& w) { return w != worker && !w->retired(); });
    if (alone && worker->kind() != WorkerKind::kProvisioned) {
      prewarm_at_ = now + window.prewarm;
      prewarm_keep_ = window.keep_alive;
      worker->retire("adaptive keep-alive: pre-warm before the next call instead");
      return;
    }
    park(worker, now, now + extra_worker_keep(window.prewarm + window.keep_alive));
    return;
  }
  park(worker, now, now + extra_worker_keep(window.keep_alive));
}

void FunctionPool::park(const std::shared_ptr<Worker>& worker, TimePoint now, TimePoint expires) {
  worker->park();
  idle_.push_back({.worker = worker, .since = now, .expires = expires});
  if (context_.async_room_opened) context_.async_room_opened(pool_key(function_));
}

Clock::Duration FunctionPool::extra_worker_keep(Clock::Duration keep) const {
  // The adaptive window is learned for one instance; workers beyond the first idle one (left
  // over from a burst) get no more than the fixed keep-alive.
  if (idle_.empty() || function_.keep_alive_policy != config::KeepAlivePolicy::kAdaptive) {
    return keep;
  }
  return std::min<Clock::Duration>(keep, function_.keep_alive);
}

void FunctionPool::throttled() {
  ++throttles_;
  count(Outcome::kThrottle);
}

void FunctionPool::count(Outcome outcome) {
  if (context_.node.metrics) metrics_.count(outcome);
}

void FunctionPool::invocation_finished(const ReportFields& report, Outcome outcome,
                                       std::string_view error_type) {
  if (context_.node.metrics) {
    context_.recent_reports.record(function_.name, report, outcome, error_type,
                                   std::chrono::system_clock::now());
    metrics_.count(outcome);
    metrics_.duration.observe(std::chrono::duration<double>(report.duration).count());
    if (report.init_duration) {
      metrics_.init_duration.observe(std::chrono::duration<double>(*report.init_duration).count());
    }
    metrics_.billed.bill(static_cast<std::uint64_t>(billed_ms(report.duration)),
                         report.memory_size_mb);
  }
  policy_->on_completion(context_.clock.now());
  // After the caller's answer is on its way.
  boost::asio::post(context_.executor, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->refill_prepared();
  });
}

void FunctionPool::leave_idle(std::vector<IdleWorker>::iterator it, TimePoint now) {
  idle_time_ += now - it->since;
  idle_.erase(it);
}

void FunctionPool::worker_ended(const std::shared_ptr<Worker>& worker,
                                std::optional<StartFailure> failure) {
  refill_prepared();
  const auto now = context_.clock.now();
  if (std::erase(workers_, worker) > 0) context_.capacity.give_back(function_.memory_mb);
  const auto idle = std::find_if(idle_.begin(), idle_.end(),
                                 [&](const IdleWorker& i) { return i.worker == worker; });
  if (idle != idle_.end()) leave_idle(idle, now);
  if (shut_down_) return;
  if (failure && worker->kind() == WorkerKind::kProvisioned && !draining_) {
    provisioned_back_off(*failure, now);
  }
  // Keep the invariant. A start that failed takes the oldest waiter down with its reason, as
  // Lambda fails the invocation whose cold start failed; a worker lost otherwise is replaced.
  if (failure && waiters_.size() > backed_waiters()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    fail(invocation, *failure);
  }
  while (waiters_.size() > backed_waiters() && workers_.size() < function_.reserved_concurrency &&
         start_worker(WorkerKind::kOnDemand)) {
  }
  while (waiters_.size() > backed_waiters()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    if (workers_.size() < function_.reserved_concurrency) {
      // Below its own cap, so the node's budget is what kept a replacement from starting.
      throttled();
      invocation->complete(too_many_requests(
          "ConcurrentInvocationLimitExceeded",
          "Rate Exceeded. The worker for this request ended and the node's memory budget or "
          "worker limit leaves no room for another"));
      continue;
    }
    fail(invocation,
         StartFailure::runtime("Runtime.ExitError", "Runtime exited before it was ready"));
  }
  if (context_.async_room_opened && !draining_) context_.async_room_opened(pool_key(function_));
}

void FunctionPool::provisioned_back_off(const StartFailure& failure, TimePoint now) {
  const auto wait = provisioned_backoff_.failed(now);
  // Once per step of the back-off, so a runtime that keeps failing does not flood the log.
  if (context_.echo) {
    const auto failures = provisioned_backoff_.failures();
    context_.echo(
        function_.name,
        "ember: a provisioned worker failed to start (" + std::to_string(failures) +
            (failures == 1 ? " time" : " times in a row") + "): " + failure.message +
            "; the next start is in " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + " s");
  }
}

void FunctionPool::fail(const std::shared_ptr<Invocation>& invocation,
                        const StartFailure& failure) {
  InvokeResult result;
  count(failure.platform_fault ? Outcome::kServiceError : Outcome::kInitError);
  invocation->capture_log(failure.log, /*raw=*/true);
  if (failure.platform_fault) {
    result.service_error = ServiceError::kService;
    result.message = failure.message;
  } else {
    result.function_error = "Unhandled";
    if (is_json_object(failure.runtime_body)) {
      result.payload = failure.runtime_body;
    } else {
      result.payload = runtime_api::error_body(
          failure.error_type, "RequestId: " + invocation->id() + " Error: " + failure.message);
    }
  }
  invocation->complete(std::move(result));
}

void FunctionPool::check_deadlines(TimePoint deadline_now) {
  backstop_.check(deadline_now);
  // Ending a worker changes workers_: first the ones due, then each.
  std::vector<std::shared_ptr<Worker>> due;
  for (const auto& worker : workers_) {
    if (worker->deadline_passed(deadline_now)) due.push_back(worker);
  }
  for (const auto& worker : due) worker->check_deadlines(deadline_now);
}

void FunctionPool::tick(TimePoint now) {
  check_deadlines(context_.deadline_clock.now());
  if (draining_ || shut_down_) return;
  prepare_failed_ = false;
  refill_prepared();
  std::vector<std::shared_ptr<Worker>> expired;
  for (const auto& idle : idle_) {
    if (idle.worker->kind() != WorkerKind::kProvisioned && idle.expires <= now) {
      expired.push_back(idle.worker);
    }
  }
  for (const auto& worker : expired) worker->retire("idle past keep-alive");

  if (prewarm_at_ && *prewarm_at_ <= now) {
    prewarm_at_.reset();
    if (idle_.empty() && pending_count() == 0 && workers_.size() < function_.reserved_concurrency) {
      start_worker(WorkerKind::kPrewarmed);
    }
  }
  while (provisioned_count() < function_.provisioned && provisioned_backoff_.may_start(now) &&
         workers_.size() < function_.reserved_concurrency &&
         start_worker(WorkerKind::kProvisioned)) {
  }
}

std::optional<FunctionPool::TimePoint> FunctionPool::oldest_idle() const {
  std::optional<TimePoint> oldest;
  for (const auto& idle : idle_) {
    if (idle.worker->kind() == WorkerKind::kProvisioned) continue;
    if (!oldest || idle.since < *oldest) oldest = idle.since;
  }
  return oldest;
}

void FunctionPool::evict_oldest_idle() {
  const auto oldest = oldest_idle();
  if (!oldest) return;
  for (const auto& idle : idle_) {
    if (idle.since == *oldest && idle.worker->kind() != WorkerKind::kProvisioned) {
      auto worker = idle.worker;
      worker->retire("evicted: the node's memory budget is needed by another function");
      return;
    }
  }
}

void FunctionPool::drain(const std::string& why) {
  draining_ = true;
  drain_reason_ = why;
  prepared_.clear();
  prewarm_at_.reset();
  std::vector<std::shared_ptr<Worker>> idle;
  for (const auto& i : idle_) idle.push_back(i.worker);
  for (const auto& worker : idle) worker->retire(drain_reason_);
}

void FunctionPool::shutdown() {
  shut_down_ = true;
  prepared_.clear();
  while (!waiters_.empty()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    if (!invocation->completed()) count(Outcome::kServiceError);
    InvokeResult result;
    result.service_error = ServiceError::kServiceUnavailable;
    result.message = "The node is shutting down";
    invocation->complete(std::move(result));
  }
  auto workers = workers_;
  for (const auto& worker : workers) worker->retire("node shutting down");
}

boost::json::object FunctionPool::status(TimePoint now) const {
  boost::json::object out;
  out["name"] = pool_key(function_);
  out["function"] = function_.name;
  out["version"] = function_.version;
  out["invocations"] = invocations_;
  out["cold_starts"] = cold_starts_;
  out["throttles"] = throttles_;
  auto idle_total = idle_time_;
  for (const auto& idle : idle_) idle_total += now - idle.since;
  out["idle_worker_seconds"] = seconds(idle_total);
  // What the status page shows of its configuration.
  if (function_.image.empty()) {
    out["runtime"] = function_.runtime;
  } else {
    out["image"] = function_.image;
  }
  out["handler"] = function_.handler;
  out["memory_mb"] = function_.memory_mb;
  out["timeout_s"] = function_.timeout_s;
  out["reserved_concurrency"] = function_.reserved_concurrency;
  out["provisioned"] = function_.provisioned;
  out["provisioned_failures"] = provisioned_backoff_.failures();
  if (const auto retry = provisioned_backoff_.retry_at()) {
    out["provisioned_retry_in_s"] = *retry > now ? seconds(*retry - now) : 0.0;
  }
  out["prepared_sandboxes"] = prepared_.size();
  out["prepared_starts"] = prepared_starts_;
  out["waiting"] = waiters_.size();
  boost::json::array workers;
  for (const auto& worker : workers_) workers.push_back(worker->status(now));
  out["workers"] = std::move(workers);
  return out;
}

void FunctionPool::add_metrics(FunctionSnapshot& out) const {
  out.figures.merge(metrics_);
  out.memory_mb = function_.memory_mb;
  out.cold_starts += cold_starts_;
  for (const auto& worker : workers_) {
    const auto state = static_cast<std::size_t>(shown_state(worker->state()));
    if (state < out.workers.size()) ++out.workers[state];
    if (worker->state() == WorkerState::kAssigned || worker->state() == WorkerState::kBusy) {
      ++out.concurrent;
    }
  }
  out.waiting += waiters_.size();
  out.prepared += prepared_.size();
}

}  // namespace ember::engine
