// Waits for one process of a sandbox to exit, through a pidfd, and reaps it. The worker holds
// one for its sandbox's main process; extensions beside the runtime would get one each.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "ember/isolation/sandbox.hpp"

namespace ember::engine {

class ExitWatch {
 public:
  // Reaps the process once it exited; nullopt while it still runs.
  using Reap = std::function<std::optional<isolation::ExitStatus>()>;
  using Exited = std::function<void(const isolation::ExitStatus&)>;

  explicit ExitWatch(const boost::asio::any_io_executor& executor);

  // Watches a duplicate of `pidfd` (its owner keeps the original), keeping `owner` alive
  // until the process is reaped; then calls `exited`.
  boost::system::error_code start(int pidfd, std::shared_ptr<void> owner, Reap reap, Exited exited);

 private:
  boost::asio::awaitable<void> watch(std::shared_ptr<void> owner);

  boost::asio::posix::stream_descriptor pidfd_;
  Reap reap_;
  Exited exited_;
};

}  // namespace ember::engine
