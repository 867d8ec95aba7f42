// One invocation from the moment it is admitted until its answer is delivered. Pools and
// workers only see this class; where the answer goes is the subclass's business: a caller
// waiting on a channel (SyncInvocation), or the async dispatcher (AsyncInvocation). complete()
// delivers a whole answer; a streamed one is delivered at once as a ResponseStream, which the
// runtime's bytes go through, and complete() then ends that stream.
#pragma once

#include <boost/asio/experimental/channel.hpp>
#include <functional>
#include <string>

#include "ember/engine/clock.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "ember/runtime_api/response_stream.hpp"

namespace ember::engine {

class Invocation {
 public:
  Invocation(runtime_api::InvokeRequest request, std::string invoked_arn)
      : request_(std::move(request)), invoked_arn_(std::move(invoked_arn)) {}
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;
  Invocation(Invocation&&) = delete;
  Invocation& operator=(Invocation&&) = delete;
  virtual ~Invocation() = default;

  [[nodiscard]] const runtime_api::InvokeRequest& request() const { return request_; }
  [[nodiscard]] const std::string& id() const { return request_.request_id; }
  [[nodiscard]] const std::string& invoked_arn() const { return invoked_arn_; }
  [[nodiscard]] bool completed() const { return completed_; }
  // When a queued invocation gives up waiting for a worker (FunctionPool's backstop), on the
  // node's deadline clock.
  [[nodiscard]] Clock::TimePoint queued_until() const { return queued_until_; }
  void set_queued_until(Clock::TimePoint t) { queued_until_ = t; }

  // The log lines of this invocation, for X-Amz-Log-Result; keeps only what a tail needs.
  // `raw` text already ends in newlines.
  void capture_log(std::string_view line, bool raw = false) {
    if (!request_.log_tail) return;
    log_.append(line);
    if (!raw) log_.push_back('\n');
    constexpr std::size_t kKeep = std::size_t{16} * 1024;
    if (log_.size() > 2 * kKeep) log_.erase(0, log_.size() - kKeep);
  }

  // Whether the caller takes a streamed answer as it is written (InvokeWithResponseStream, a
  // Function URL route): only a caller still waiting for its answer.
  [[nodiscard]] bool wants_stream() const {
    return request_.stream && !completed_ && stream_ == nullptr;
  }
  // Hands the caller `stream` now, through which the answer's bytes follow; complete() ends it.
  void begin_stream(std::shared_ptr<runtime_api::ResponseStream> stream) {
    stream_ = stream;
    runtime_api::InvokeResult head;
    head.content_type = stream->content_type();
    head.stream = std::move(stream);
    deliver(std::move(head));
  }

  // Delivers the answer (or ends the stream begun with it); later calls are ignored, so racing
  // failure paths cannot answer twice.
  void complete(runtime_api::InvokeResult result) {
    if (completed_) return;
    completed_ = true;
    result.log_tail = std::move(log_);
    if (stream_) {
      stream_->finish(runtime_api::stream_end_of(result));
      return;
    }
    deliver(std::move(result));
  }

 protected:
  // Called once, with the answer.
  virtual void deliver(runtime_api::InvokeResult result) = 0;

 private:
  runtime_api::InvokeRequest request_;
  std::string invoked_arn_;
  std::string log_;
  bool completed_ = false;
  std::shared_ptr<runtime_api::ResponseStream> stream_;  // set once a streamed answer began
  Clock::TimePoint queued_until_{};
};

// A RequestResponse invocation: its caller awaits the answer on done().
class SyncInvocation final : public Invocation {
 public:
  using ResultChannel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                                runtime_api::InvokeResult)>;

  SyncInvocation(const boost::asio::any_io_executor& executor, runtime_api::InvokeRequest request,
                 std::string invoked_arn)
      : Invocation(std::move(request), std::move(invoked_arn)), done_(executor, 1) {}

  ResultChannel& done() { return done_; }

 private:
  void deliver(runtime_api::InvokeResult result) override {
    done_.try_send(boost::system::error_code{}, std::move(result));
  }

  ResultChannel done_;
};

// An Event invocation: no caller waits for it; its answer goes to the async dispatcher, which
// retries it, records it and forwards it to its destinations.
class AsyncInvocation final : public Invocation {
 public:
  using Done = std::function<void(runtime_api::InvokeResult)>;

  AsyncInvocation(runtime_api::InvokeRequest request, std::string invoked_arn, Done done)
      : Invocation(std::move(request), std::move(invoked_arn)), done_(std::move(done)) {}

 private:
  void deliver(runtime_api::InvokeResult result) override {
    std::exchange(done_, nullptr)(std::move(result));
  }

  Done done_;
};

}  // namespace ember::engine
