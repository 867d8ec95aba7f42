// One extension's telemetry subscription: its buffer (TelemetryBatcher), the timer of its
// timeoutMs, and the HTTP client that POSTs each batch to its destination inside the sandbox.
// Everything runs on the engine's executor and nothing waits for the subscriber: one POST is in
// flight at a time, and while it is, events wait in the bounded buffer or are dropped (and
// reported as `platform.logsDropped` once delivery works again).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ember/isolation/sys_error.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "telemetry_batcher.hpp"

namespace ember::engine {

class TelemetrySubscriber : public std::enable_shared_from_this<TelemetrySubscriber> {
 public:
  // A new unconnected TCP socket in the sandbox's network, where 127.0.0.1 is the sandbox's
  // own loopback (isolation::Sandbox::network_socket).
  using OpenSocket = std::function<isolation::Result<isolation::UniqueFd>()>;

  TelemetrySubscriber(const boost::asio::any_io_executor& executor, std::string extension,
                      runtime_api::TelemetrySubscription subscription, OpenSocket open_socket);

  [[nodiscard]] const std::string& extension() const { return extension_; }
  [[nodiscard]] unsigned types() const { return subscription_.types; }

  // Queues one event (telemetry_event()); a batch goes out when due.
  void add(std::string event);
  // Events wait or a POST is out.
  [[nodiscard]] bool pending() const { return sending_ || !batcher_.empty(); }
  // Sends what waits now, without waiting for timeoutMs (the shutdown phase).
  void flush();
  // Stops: no further POST, the connection closed.
  void close();

 private:
  void arm_timer();
  void send_next();
  // `self` keeps the subscriber alive from the spawn to the end of the POST.
  boost::asio::awaitable<void> deliver(std::shared_ptr<TelemetrySubscriber> self,
                                       TelemetryBatch batch);
  // One POST of `body` on the open connection (or a new one): true on a 2xx answer.
  boost::asio::awaitable<bool> post(const std::string& body);
  boost::asio::awaitable<bool> connect();

  std::string extension_;
  runtime_api::TelemetrySubscription subscription_;
  OpenSocket open_socket_;
  TelemetryBatcher batcher_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer backoff_;
  std::optional<boost::beast::tcp_stream> stream_;
  bool timer_armed_ = false;
  std::uint64_t timer_generation_ = 0;  // of the wait that may send
  bool sending_ = false;
  bool closed_ = false;
};

}  // namespace ember::engine
