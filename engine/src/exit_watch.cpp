#include "exit_watch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace ember::engine {

namespace asio = boost::asio;

ExitWatch::ExitWatch(const asio::any_io_executor& executor) : pidfd_(executor) {}

boost::system::error_code ExitWatch::start(int pidfd, std::shared_ptr<void> owner, Reap reap,
                                           Exited exited) {
  const int copy = ::fcntl(pidfd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return {errno, boost::system::system_category()};
  boost::system::error_code ec;
  pidfd_.assign(copy, ec);
  if (ec) {
    ::close(copy);
    return ec;
  }
  reap_ = std::move(reap);
  exited_ = std::move(exited);
  asio::co_spawn(pidfd_.get_executor(), watch(std::move(owner)), asio::detached);
  return {};
}

asio::awaitable<void> ExitWatch::watch(std::shared_ptr<void> owner) {
  while (true) {
    auto [ec] = co_await pidfd_.async_wait(asio::posix::descriptor_base::wait_read,
                                           asio::as_tuple(asio::use_awaitable));
    if (ec && ec != asio::error::interrupted) break;
    if (auto status = reap_()) {
      exited_(*status);
      break;
    }
  }
  boost::system::error_code ignored;
  pidfd_.close(ignored);
  owner.reset();  // the process is reaped: its owner may go
}

}  // namespace ember::engine
