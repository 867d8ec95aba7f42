// The Runtime API as `ember conform` serves it to the runtime under test: it answers each
// call as an ember worker does and records every call for the scenarios, which read the
// record from another thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::cli::conform {

enum class CallKind {
  kNext,       // GET /runtime/invocation/next
  kResponse,   // POST /runtime/invocation/{id}/response
  kError,      // POST /runtime/invocation/{id}/error
  kInitError,  // POST /runtime/init/error
  kTooLarge,   // a response over the 6 MB limit, answered 413
};

struct RuntimeCall {
  CallKind kind = CallKind::kNext;
  std::string request_id;
  std::string content_type;
  std::optional<std::string> error_type;  // Lambda-Runtime-Function-Error-Type as sent
  std::string body;
  int status = 0;  // the API's HTTP answer; 0 for `next`, answered when an event comes
  std::chrono::system_clock::time_point at;
};

class ConformApi : public runtime_api::RuntimeApiHandler {
 public:
  explicit ConformApi(const boost::asio::any_io_executor& executor);

  // From any thread.
  // Hands `event` to the runtime's `next` (now or when it calls).
  void deliver(runtime_api::NextEvent event);
  // The call at index `seen` of the record, once there is one; nullopt after `limit`.
  std::optional<RuntimeCall> call_at(std::size_t seen, std::chrono::milliseconds limit);
  // The runtime waits in `next` and no event is on its way: ready for a scenario.
  [[nodiscard]] bool polling() const;
  // The RuntimeApiHandler, and close, on the executor.
  // Ends a waiting `next` (the runtime's connection closes with the server).
  void close();
  boost::asio::awaitable<std::optional<runtime_api::NextEvent>> next(
      runtime_api::RuntimeRefusal& refusal) override;
  std::optional<runtime_api::RuntimeRefusal> response(const std::string& request_id,
                                                      std::string content_type,
                                                      std::string body) override;
  std::optional<runtime_api::RuntimeRefusal> error(const std::string& request_id,
                                                   std::string error_type,
                                                   std::string body) override;
  void response_too_large(const std::string& request_id) override;
  std::optional<runtime_api::RuntimeRefusal> init_error(std::string error_type,
                                                        std::string body) override;
  void observe(const runtime_api::Request& req) override;

 private:
  // The same states and refusals as an ember worker (engine/src/worker_state.cpp).
  enum class State { kStarting, kPolling, kBusy, kAnswered, kInitFailed };

  // Records the call and wakes the scenario waiting for it; under mutex_.
  void record(RuntimeCall call);
  // Ends the current invocation when `request_id` names it; the refusal otherwise.
  std::optional<runtime_api::RuntimeRefusal> finish(const std::string& request_id);
  static int status_of(const std::optional<runtime_api::RuntimeRefusal>& refusal);

  using EventChannel =
      boost::asio::experimental::channel<void(boost::system::error_code, runtime_api::NextEvent)>;
  boost::asio::any_io_executor executor_;
  EventChannel channel_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  State state_ = State::kStarting;
  bool event_pending_ = false;  // delivered, not yet handed to `next`
  std::string current_id_;
  std::string last_answered_id_;
  std::optional<std::string> error_type_header_;  // of the request being served
  std::vector<RuntimeCall> calls_;
};

}  // namespace ember::cli::conform
