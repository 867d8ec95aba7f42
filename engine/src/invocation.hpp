// One synchronous invocation from the moment it is admitted until its caller has the answer.
#pragma once

#include <boost/asio/experimental/channel.hpp>
#include <chrono>
#include <string>

#include "ember/runtime_api/invoke_api.hpp"

namespace ember::engine {

class Invocation {
 public:
  using ResultChannel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                                runtime_api::InvokeResult)>;

  Invocation(const boost::asio::any_io_executor& executor, runtime_api::InvokeRequest request,
             std::string invoked_arn)
      : request_(std::move(request)), invoked_arn_(std::move(invoked_arn)), done_(executor, 1) {}

  [[nodiscard]] const runtime_api::InvokeRequest& request() const { return request_; }
  [[nodiscard]] const std::string& id() const { return request_.request_id; }
  [[nodiscard]] const std::string& invoked_arn() const { return invoked_arn_; }
  [[nodiscard]] bool completed() const { return completed_; }
  // When a queued invocation gives up waiting for a worker (FunctionPool's backstop).
  [[nodiscard]] std::chrono::steady_clock::time_point queued_until() const { return queued_until_; }
  void set_queued_until(std::chrono::steady_clock::time_point t) { queued_until_ = t; }

  // The log lines of this invocation, for X-Amz-Log-Result; keeps only what a tail needs.
  // `raw` text already ends in newlines.
  void capture_log(std::string_view line, bool raw = false) {
    if (!request_.log_tail) return;
    log_.append(line);
    if (!raw) log_.push_back('\n');
    constexpr std::size_t kKeep = 16 * 1024;
    if (log_.size() > 2 * kKeep) log_.erase(0, log_.size() - kKeep);
  }

  // Delivers the answer; later calls are ignored, so racing failure paths cannot answer twice.
  void complete(runtime_api::InvokeResult result) {
    if (completed_) return;
    completed_ = true;
    result.log_tail = std::move(log_);
    done_.try_send(boost::system::error_code{}, std::move(result));
  }

  ResultChannel& done() { return done_; }

 private:
  runtime_api::InvokeRequest request_;
  std::string invoked_arn_;
  std::string log_;
  bool completed_ = false;
  std::chrono::steady_clock::time_point queued_until_{};
  ResultChannel done_;
};

}  // namespace ember::engine
