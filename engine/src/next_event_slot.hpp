// The one-slot channel between a worker and its runtime's `next`: the worker delivers an event,
// `next` receives it, whichever comes first waits for the other.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "ember/runtime_api/runtime_api.hpp"

namespace ember::engine {

class NextEventSlot {
 public:
  explicit NextEventSlot(const boost::asio::any_io_executor& executor);

  // Hands `event` to the runtime's `next`, waiting now or coming.
  void deliver(runtime_api::NextEvent event);
  // The delivered event, once `accept(true)` takes it; nullopt when `accept` refuses it, or
  // once the slot is closed (after `accept(false)`).
  boost::asio::awaitable<std::optional<runtime_api::NextEvent>> receive(
      std::function<bool(bool delivered)> accept);
  // An awaitable of nullopt, for a `next` refused before it waits.
  static boost::asio::awaitable<std::optional<runtime_api::NextEvent>> nothing();
  // A waiting receive returns nullopt, and every later one.
  void close();

 private:
  using Channel =
      boost::asio::experimental::channel<void(boost::system::error_code, runtime_api::NextEvent)>;
  std::shared_ptr<Channel> channel_;
};

}  // namespace ember::engine
