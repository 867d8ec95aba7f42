#include "function_pool.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ember::engine {

using runtime_api::InvokeResult;
using runtime_api::ServiceError;

namespace {

InvokeResult too_many_requests(const config::FunctionConfig& function) {
  InvokeResult result;
  result.service_error = ServiceError::kTooManyRequests;
  result.reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
  result.message = "Rate Exceeded. Function " + function.name +
                   " is at its reserved concurrency (" +
                   std::to_string(function.reserved_concurrency) + ")";
  result.retry_after_seconds = 1;
  return result;
}

bool is_json_object(std::string_view text) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  return !ec && value.is_object();
}

}  // namespace

FunctionPool::FunctionPool(EngineContext& context, const config::FunctionConfig& function)
    : context_(context), function_(function), sweep_(context.executor) {}

std::optional<InvokeResult> FunctionPool::admit(const std::shared_ptr<Invocation>& invocation) {
  if (!idle_.empty()) {
    auto worker = std::move(idle_.back().worker);
    idle_.pop_back();
    worker->assign(invocation);
    return std::nullopt;
  }
  // A worker that just answered is back in `next` within microseconds, and one that is
  // starting will be ready before a new one would: each such worker backs one waiter.
  if (waiters_.size() < pending_count()) {
    enqueue(invocation);
    return std::nullopt;
  }
  if (workers_.size() < function_.reserved_concurrency) {
    enqueue(invocation);
    start_worker();
    return std::nullopt;
  }
  return too_many_requests(function_);
}

void FunctionPool::enqueue(const std::shared_ptr<Invocation>& invocation) {
  waiters_.push_back(invocation);
  // A backstop only: the init deadline and the answered-worker deadline end every worker
  // that could leave a waiter stranded, and worker_ended() then settles the waiter.
  auto timer = std::make_shared<boost::asio::steady_timer>(context_.executor);
  timer->expires_after(kInitTimeout + std::chrono::seconds(function_.timeout_s) +
                       std::chrono::seconds(1));
  timer->async_wait([weak = weak_from_this(), invocation, timer](boost::system::error_code ec) {
    auto pool = weak.lock();
    if (ec || !pool || invocation->completed()) return;
    std::erase(pool->waiters_, invocation);
    InvokeResult result;
    result.service_error = ServiceError::kService;
    result.message =
        "No worker of " + pool->function_.name + " became ready for request " + invocation->id();
    invocation->complete(std::move(result));
  });
}

void FunctionPool::start_worker() {
  auto worker = std::make_shared<Worker>(context_, function_, weak_from_this());
  workers_.push_back(worker);
  if (auto failure = worker->start()) worker->retire("could not start", std::move(*failure));
}

std::size_t FunctionPool::pending_count() const {
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kInitialising || w->state() == WorkerState::kAnswered;
  }));
}

void FunctionPool::worker_ready(const std::shared_ptr<Worker>& worker) {
  if (shut_down_) return;
  if (!waiters_.empty()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    worker->assign(invocation);
    return;
  }
  idle_.push_back({worker, Clock::now()});
  schedule_sweep();
}

void FunctionPool::worker_ended(const std::shared_ptr<Worker>& worker,
                                std::optional<StartFailure> failure) {
  std::erase(workers_, worker);
  std::erase_if(idle_, [&](const IdleWorker& idle) { return idle.worker == worker; });
  if (shut_down_) return;
  // Keep the invariant. A start that failed takes the oldest waiter down with its reason, as
  // Lambda fails the invocation whose cold start failed; a worker lost otherwise is replaced.
  if (failure && waiters_.size() > pending_count()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    fail(invocation, *failure);
  }
  while (waiters_.size() > pending_count() && workers_.size() < function_.reserved_concurrency) {
    start_worker();
  }
  while (waiters_.size() > pending_count()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    fail(invocation,
         StartFailure{"Runtime.ExitError", "Runtime exited before it was ready", "", false, ""});
  }
}

void FunctionPool::fail(const std::shared_ptr<Invocation>& invocation,
                        const StartFailure& failure) const {
  InvokeResult result;
  invocation->capture_log(failure.log, /*raw=*/true);
  if (failure.platform) {
    result.service_error = ServiceError::kService;
    result.message = failure.message;
  } else {
    result.function_error = "Unhandled";
    if (is_json_object(failure.runtime_body)) {
      result.payload = failure.runtime_body;
    } else {
      boost::json::object body;
      body["errorMessage"] = "RequestId: " + invocation->id() + " Error: " + failure.message;
      body["errorType"] = failure.error_type;
      result.payload = boost::json::serialize(body);
    }
  }
  invocation->complete(std::move(result));
}

void FunctionPool::schedule_sweep() {
  if (sweep_scheduled_ || idle_.empty()) return;
  sweep_scheduled_ = true;
  // Keep-alive is measured in minutes; a one-second resolution is plenty.
  sweep_.expires_after(std::min<Clock::duration>(function_.keep_alive, std::chrono::seconds(1)));
  sweep_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto pool = weak.lock();
    if (!pool) return;
    pool->sweep_scheduled_ = false;
    if (ec || pool->shut_down_) return;
    pool->retire_expired();
    pool->schedule_sweep();
  });
}

void FunctionPool::retire_expired() {
  const auto cutoff = Clock::now() - function_.keep_alive;
  std::vector<std::shared_ptr<Worker>> expired;
  for (const auto& idle : idle_) {
    if (idle.since <= cutoff) expired.push_back(idle.worker);
  }
  for (const auto& worker : expired) worker->retire("idle past keep-alive");
}

void FunctionPool::shutdown() {
  shut_down_ = true;
  sweep_.cancel();
  while (!waiters_.empty()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    InvokeResult result;
    result.service_error = ServiceError::kServiceUnavailable;
    result.message = "The node is shutting down";
    invocation->complete(std::move(result));
  }
  auto workers = workers_;
  for (const auto& worker : workers) worker->retire("node shutting down");
}

}  // namespace ember::engine
