#include "function_pool.hpp"

#include <algorithm>
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
  if (workers_.size() < function_.reserved_concurrency) {
    waiters_.push_back(invocation);
    start_worker();
    return std::nullopt;
  }
  if (waiters_.size() < starting_count()) {
    waiters_.push_back(invocation);
    return std::nullopt;
  }
  return too_many_requests(function_);
}

void FunctionPool::start_worker() {
  auto worker = std::make_shared<Worker>(context_, function_, weak_from_this());
  workers_.push_back(worker);
  if (auto failure = worker->start()) worker->retire("could not start", std::move(*failure));
}

std::size_t FunctionPool::starting_count() const {
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
    return w->state() == WorkerState::kInitialising;
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
  // Keep the invariant: waiters beyond the starts still in flight fail now, the oldest first,
  // with the reason this start failed.
  const StartFailure fallback{"Runtime.ExitError", "Runtime exited before it was ready", "", false,
                              ""};
  while (waiters_.size() > starting_count()) {
    auto invocation = std::move(waiters_.front());
    waiters_.pop_front();
    fail(invocation, failure ? *failure : fallback);
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
    if (!failure.runtime_body.empty()) {
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
