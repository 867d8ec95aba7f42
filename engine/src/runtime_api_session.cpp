#include "runtime_api_session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "ember/runtime_api/limits.hpp"
#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

namespace asio = boost::asio;
using runtime_api::RuntimeRefusal;

namespace {

bool is_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

AnswerHead function_failed(std::string error_type = {}) {
  AnswerHead head;
  head.function_error = "Unhandled";
  head.error_type = std::move(error_type);
  return head;
}

}  // namespace

runtime_api::NextEvent next_event_for(const Invocation& invocation, std::chrono::seconds timeout) {
  const auto& request = invocation.request();
  runtime_api::NextEvent event;
  event.request_id = request.request_id;
  // The runtime's wall-clock view of the deadline (getRemainingTimeInMillis).
  event.deadline_epoch_ms = epoch_ms(std::chrono::system_clock::now() + timeout);
  event.invoked_function_arn = invocation.invoked_arn();
  event.trace_id = runtime_api::new_trace_id();
  event.client_context = request.client_context;
  event.payload = request.payload;
  return event;
}

RuntimeApiSession::RuntimeApiSession(const asio::any_io_executor& executor,
                                     RuntimeApiEvents& events)
    : executor_(executor), events_(events), slot_(executor) {}

boost::system::error_code RuntimeApiSession::serve(
    isolation::UniqueFd listener, const std::weak_ptr<runtime_api::RuntimeApiHandler>& self) {
  boost::system::error_code ec;
  asio::ip::tcp::acceptor acceptor(executor_);
  acceptor.assign(asio::ip::tcp::v4(), listener.release(), ec);
  if (ec) return ec;
  server_ = std::make_shared<runtime_api::HttpServer>(
      std::move(acceptor), runtime_api::make_runtime_api(self), runtime_api::runtime_api_limits());
  server_->start();
  return {};
}

void RuntimeApiSession::deliver(runtime_api::NextEvent event) { slot_.deliver(std::move(event)); }

void RuntimeApiSession::close() {
  slot_.close();
  if (server_) server_->close();
}

// Not a coroutine itself: the waiting is the slot's.
asio::awaitable<std::optional<runtime_api::NextEvent>> RuntimeApiSession::next(
    RuntimeRefusal& refusal) {
  if (auto refused = events_.next_called()) {
    refusal = *refused;
    return NextEventSlot::nothing();
  }
  return slot_.receive([this, &refusal](bool delivered) {
    if (events_.next_returns(delivered)) return true;
    refusal = RuntimeRefusal::kWorkerGone;
    return false;
  });
}

std::optional<RuntimeRefusal> RuntimeApiSession::response(const std::string& request_id,
                                                          std::string content_type,
                                                          std::string body) {
  AnswerHead head;
  head.content_type = std::move(content_type);
  return events_.answered(request_id, std::move(head), std::move(body));
}

std::optional<RuntimeRefusal> RuntimeApiSession::error(const std::string& request_id,
                                                       std::string error_type, std::string body) {
  if (body.empty() || !is_json(body)) body = runtime_api::error_body(error_type, body);
  return events_.answered(request_id, function_failed(std::move(error_type)), std::move(body));
}

void RuntimeApiSession::response_too_large(const std::string& request_id) {
  // The runtime gets its 413 from the HTTP layer whatever the worker says.
  (void)events_.answered(
      request_id, function_failed(),
      runtime_api::error_body("Function.ResponseSizeTooLarge",
                              "Response payload size exceeded maximum allowed payload size (" +
                                  std::to_string(runtime_api::kMaxPayloadBytes) + " bytes)."));
}

runtime_api::StreamStart RuntimeApiSession::stream_response(const std::string& request_id,
                                                            const std::string& content_type) {
  return events_.stream_started(request_id, content_type);
}

void RuntimeApiSession::stream_ended(const std::string& request_id,
                                     const runtime_api::StreamEnd& end) {
  events_.stream_ended(request_id, end);
}

std::optional<RuntimeRefusal> RuntimeApiSession::init_error(std::string error_type,
                                                            std::string body) {
  // Lambda ends the environment after an init error; the runtime is expected to exit anyway.
  // No errorMessage, no message: the body itself still reaches the caller as the payload.
  auto message = runtime_api::error_message_of(body, "");
  return events_.init_failed(
      StartFailure::runtime(std::move(error_type), std::move(message), std::move(body)));
}

}  // namespace ember::engine
