#include "next_event_slot.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ember::engine {

NextEventSlot::NextEventSlot(const boost::asio::any_io_executor& executor)
    : channel_(std::make_shared<Channel>(executor, 1)) {}

void NextEventSlot::deliver(runtime_api::NextEvent event) {
  channel_->try_send(boost::system::error_code{}, std::move(event));
}

boost::asio::awaitable<std::optional<runtime_api::NextEvent>> NextEventSlot::receive(
    std::function<bool(bool delivered)> accept) {
  // Shared with the suspended coroutine, so a receive never depends on the slot outliving it.
  const auto channel = channel_;
  auto [ec, event] =
      co_await channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (!accept(!ec) || ec) co_return std::nullopt;
  co_return std::move(event);
}

boost::asio::awaitable<std::optional<runtime_api::NextEvent>> NextEventSlot::nothing() {
  co_return std::nullopt;
}

void NextEventSlot::close() { channel_->close(); }

}  // namespace ember::engine
