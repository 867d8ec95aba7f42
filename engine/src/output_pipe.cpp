#include "output_pipe.hpp"

#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace ember::engine {

namespace asio = boost::asio;

namespace {
// A runtime that prints without newlines still gets its output logged in pieces this big.
constexpr std::size_t kMaxLineBytes = std::size_t{256} * 1024;
constexpr std::size_t kReadBytes = std::size_t{16} * 1024;
}  // namespace

OutputPipe::OutputPipe(const asio::any_io_executor& executor)
    : pipe_(executor), splitter_(kMaxLineBytes) {}

boost::system::error_code OutputPipe::start(isolation::UniqueFd read_end,
                                            std::shared_ptr<void> owner, Lines lines,
                                            std::function<void()> read) {
  lines_ = std::move(lines);
  read_ = std::move(read);
  boost::system::error_code ec;
  pipe_.assign(read_end.release(), ec);
  // Non-blocking once, here: every read is until the pipe is empty.
  if (!ec) pipe_.non_blocking(true, ec);
  if (ec) return ec;
  asio::co_spawn(pipe_.get_executor(), read_loop(std::move(owner)), asio::detached);
  return {};
}

// Waits for the pipe to be readable and reads it here, never with async_read_some: Asio's
// reactor performs that read itself and queues its completion, so bytes could leave the pipe
// before drain() at the invocation's end and reach the splitter after it, cutting a line in
// two and logging its halves out of order.
asio::awaitable<void> OutputPipe::read_loop(std::shared_ptr<void> owner) {
  while (pipe_.is_open()) {
    auto [ec] = co_await pipe_.async_wait(asio::posix::stream_descriptor::wait_read,
                                          asio::as_tuple(asio::use_awaitable));
    if (ec || !read_available()) break;
    read_();
  }
  owner.reset();  // held until the pipe ends
}

bool OutputPipe::read_available() {
  std::array<char, kReadBytes> buffer{};
  while (true) {
    const auto n = ::read(pipe_.native_handle(), buffer.data(), buffer.size());
    if (n > 0) {
      splitter_.feed({buffer.data(), static_cast<std::size_t>(n)}, lines_);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);  // else end of file or error
  }
}

void OutputPipe::drain() {
  if (!lines_) return;  // never started
  if (pipe_.is_open()) (void)read_available();
  splitter_.flush(lines_);
}

void OutputPipe::close() {
  boost::system::error_code ignored;
  pipe_.close(ignored);
}

}  // namespace ember::engine
