#include "conform_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace ember::cli::conform {

namespace asio = boost::asio;
using runtime_api::RuntimeRefusal;

ConformApi::ConformApi(const asio::any_io_executor& executor)
    : executor_(executor), channel_(executor, 1) {}

void ConformApi::deliver(runtime_api::NextEvent event) {
  {
    const std::lock_guard lock(mutex_);
    state_ = State::kBusy;
    event_pending_ = true;
    current_id_ = event.request_id;
  }
  // The channel belongs to the executor's thread.
  asio::post(executor_, [this, event = std::move(event)]() mutable {
    channel_.try_send(boost::system::error_code{}, std::move(event));
  });
}

std::optional<RuntimeCall> ConformApi::call_at(std::size_t seen, std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, limit, [&] { return calls_.size() > seen; })) return std::nullopt;
  return calls_[seen];
}

bool ConformApi::polling() const {
  const std::lock_guard lock(mutex_);
  return state_ == State::kPolling && !event_pending_;
}

void ConformApi::close() { channel_.close(); }

void ConformApi::record(RuntimeCall call) {
  call.at = std::chrono::system_clock::now();
  calls_.push_back(std::move(call));
  changed_.notify_all();
}

int ConformApi::status_of(const std::optional<RuntimeRefusal>& refusal) {
  if (!refusal) return 202;
  switch (*refusal) {
    case RuntimeRefusal::kInvalidStateTransition:
      return 403;
    case RuntimeRefusal::kInvalidRequestId:
      return 400;
    case RuntimeRefusal::kWorkerGone:
      break;
  }
  return 500;
}

asio::awaitable<std::optional<runtime_api::NextEvent>> ConformApi::next(RuntimeRefusal& refusal) {
  {
    const std::lock_guard lock(mutex_);
    RuntimeCall call;
    call.kind = CallKind::kNext;
    // A second `next` while one waits, or one before the event in hand is answered.
    const bool allowed = state_ == State::kStarting || state_ == State::kAnswered;
    if (!allowed) call.status = 403;
    record(std::move(call));
    if (!allowed) {
      refusal = RuntimeRefusal::kInvalidStateTransition;
      co_return std::nullopt;
    }
    state_ = State::kPolling;
  }
  auto [ec, event] = co_await channel_.async_receive(asio::as_tuple(asio::use_awaitable));
  if (ec) {
    refusal = RuntimeRefusal::kWorkerGone;
    co_return std::nullopt;
  }
  {
    const std::lock_guard lock(mutex_);
    event_pending_ = false;
  }
  co_return std::move(event);
}

std::optional<RuntimeRefusal> ConformApi::finish(const std::string& request_id) {
  if (state_ == State::kBusy && !event_pending_ && request_id == current_id_) {
    state_ = State::kAnswered;
    last_answered_id_ = std::exchange(current_id_, {});
    return std::nullopt;
  }
  if (request_id == last_answered_id_ || (state_ == State::kBusy && request_id == current_id_)) {
    return RuntimeRefusal::kInvalidStateTransition;
  }
  return RuntimeRefusal::kInvalidRequestId;
}

std::optional<RuntimeRefusal> ConformApi::response(const std::string& request_id,
                                                   std::string content_type, std::string body) {
  const std::lock_guard lock(mutex_);
  auto refused = finish(request_id);
  RuntimeCall call;
  call.kind = CallKind::kResponse;
  call.request_id = request_id;
  call.content_type = std::move(content_type);
  call.body = std::move(body);
  call.status = status_of(refused);
  record(std::move(call));
  return refused;
}

std::optional<RuntimeRefusal> ConformApi::error(const std::string& request_id,
                                                std::string /*error_type*/, std::string body) {
  const std::lock_guard lock(mutex_);
  auto refused = finish(request_id);
  RuntimeCall call;
  call.kind = CallKind::kError;
  call.request_id = request_id;
  call.error_type = std::exchange(error_type_header_, std::nullopt);
  call.body = std::move(body);
  call.status = status_of(refused);
  record(std::move(call));
  return refused;
}

void ConformApi::response_too_large(const std::string& request_id) {
  const std::lock_guard lock(mutex_);
  // As in the engine, an oversized answer still ends its invocation.
  (void)finish(request_id);
  RuntimeCall call;
  call.kind = CallKind::kTooLarge;
  call.request_id = request_id;
  call.status = 413;
  record(std::move(call));
}

std::optional<RuntimeRefusal> ConformApi::init_error(std::string /*error_type*/, std::string body) {
  const std::lock_guard lock(mutex_);
  std::optional<RuntimeRefusal> refused;
  if (state_ == State::kStarting) {
    state_ = State::kInitFailed;
  } else {
    refused = RuntimeRefusal::kInvalidStateTransition;
  }
  RuntimeCall call;
  call.kind = CallKind::kInitError;
  call.error_type = std::exchange(error_type_header_, std::nullopt);
  call.body = std::move(body);
  call.status = status_of(refused);
  record(std::move(call));
  return refused;
}

void ConformApi::observe(const runtime_api::Request& req) {
  const std::lock_guard lock(mutex_);
  const auto it = req.find("Lambda-Runtime-Function-Error-Type");
  error_type_header_.reset();
  if (it != req.end()) error_type_header_ = std::string(it->value());
}

}  // namespace ember::cli::conform
