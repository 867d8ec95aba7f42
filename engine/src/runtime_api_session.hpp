// One worker's Runtime API: the HTTP server on its sandbox's listener, and the one-slot
// channel (NextEventSlot) through which `next` receives the event the worker is given. Each call of
// the runtime becomes one event of the worker (RuntimeApiEvents), which decides with its state
// machine; this class only translates.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <optional>
#include <string>

#include "ember/isolation/unique_fd.hpp"
#include "ember/runtime_api/http_server.hpp"
#include "ember/runtime_api/runtime_api.hpp"
#include "invocation.hpp"
#include "next_event_slot.hpp"
#include "start_failure.hpp"

namespace ember::engine {

// The event `next` hands the runtime for `invocation`, which must answer within `timeout`.
runtime_api::NextEvent next_event_for(const Invocation& invocation, std::chrono::seconds timeout);

// The head of a runtime's answer; its body travels beside it. A streamed response would send
// the head first and the body in pieces, so the two are kept apart.
struct AnswerHead {
  std::string content_type;    // empty: application/json
  std::string function_error;  // "Unhandled" when the function failed
  std::string error_type;      // the runtime's Lambda-Runtime-Function-Error-Type, if it failed
};

// What the worker does with each call; implemented by Worker.
class RuntimeApiEvents {
 public:
  using Refusal = runtime_api::RuntimeRefusal;

  RuntimeApiEvents() = default;
  RuntimeApiEvents(const RuntimeApiEvents&) = delete;
  RuntimeApiEvents& operator=(const RuntimeApiEvents&) = delete;
  RuntimeApiEvents(RuntimeApiEvents&&) = delete;
  RuntimeApiEvents& operator=(RuntimeApiEvents&&) = delete;
  virtual ~RuntimeApiEvents() = default;

  // The runtime called `next`: refused, or the worker is ready for an event.
  virtual std::optional<Refusal> next_called() = 0;
  // The wait in `next` ended, with the event or without (the worker ended). True when the
  // event goes to the runtime.
  virtual bool next_returns(bool delivered) = 0;
  // The runtime answered request_id (response or error); `body` is the whole body.
  virtual std::optional<Refusal> answered(const std::string& request_id, AnswerHead head,
                                          std::string body) = 0;
  // The runtime began a streamed answer to request_id: a stream when the caller reads one,
  // nothing to have it collected whole, or a refusal.
  virtual runtime_api::StreamStart stream_started(const std::string& request_id,
                                                  const std::string& content_type) = 0;
  // The streamed answer that stream_started() gave a stream ended (with an error or not).
  virtual void stream_ended(const std::string& request_id, const runtime_api::StreamEnd& end) = 0;
  // The runtime reported its init failed; it will exit.
  virtual std::optional<Refusal> init_failed(StartFailure failure) = 0;
};

class RuntimeApiSession final : public runtime_api::RuntimeApiHandler {
 public:
  RuntimeApiSession(const boost::asio::any_io_executor& executor, RuntimeApiEvents& events);

  // Serves the Runtime API on `listener`. `self` is this session, sharing the worker's
  // lifetime (an aliasing pointer): a call in progress keeps the worker alive.
  boost::system::error_code serve(isolation::UniqueFd listener,
                                  const std::weak_ptr<runtime_api::RuntimeApiHandler>& self);
  // Hands `event` to the runtime's `next`, waiting now or coming.
  void deliver(runtime_api::NextEvent event);
  // Ends the session: a waiting `next` gets 500, the server stops.
  void close();
  // Serves the Extensions API on the same address with `handler` (the worker; it outlives
  // the session's calls as the session does).
  void set_extensions(runtime_api::ExtensionsApiHandler* handler) { extensions_ = handler; }

  // --- runtime_api::RuntimeApiHandler
  boost::asio::awaitable<std::optional<runtime_api::NextEvent>> next(
      runtime_api::RuntimeRefusal& refusal) override;
  std::optional<runtime_api::RuntimeRefusal> response(const std::string& request_id,
                                                      std::string content_type,
                                                      std::string body) override;
  std::optional<runtime_api::RuntimeRefusal> error(const std::string& request_id,
                                                   std::string error_type,
                                                   std::string body) override;
  void response_too_large(const std::string& request_id) override;
  runtime_api::StreamStart stream_response(const std::string& request_id,
                                           const std::string& content_type) override;
  void stream_ended(const std::string& request_id, const runtime_api::StreamEnd& end) override;
  std::optional<runtime_api::RuntimeRefusal> init_error(std::string error_type,
                                                        std::string body) override;
  runtime_api::ExtensionsApiHandler* extensions() override { return extensions_; }

 private:
  boost::asio::any_io_executor executor_;
  RuntimeApiEvents& events_;
  NextEventSlot slot_;
  std::shared_ptr<runtime_api::HttpServer> server_;
  runtime_api::ExtensionsApiHandler* extensions_ = nullptr;
};

}  // namespace ember::engine
