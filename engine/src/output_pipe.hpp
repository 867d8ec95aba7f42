// The pipe one process of a sandbox writes its stdout and stderr to, read as log lines: as
// they come while it runs, and drained at once when an invocation ends so that its lines are
// logged before END. A sandbox with several processes (extensions beside the runtime) has one
// pipe each, so their half-written lines never mix.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "ember/isolation/unique_fd.hpp"
#include "line_splitter.hpp"

namespace ember::engine {

class OutputPipe {
 public:
  // Receives each line, without its newline.
  using Lines = std::function<void(std::string_view line)>;

  explicit OutputPipe(const boost::asio::any_io_executor& executor);

  // Reads `read_end` from now on, while `owner` is kept alive; `lines` gets every line and
  // `read` runs after each batch read asynchronously (the worker flushes its log then).
  boost::system::error_code start(isolation::UniqueFd read_end, std::shared_ptr<void> owner,
                                  Lines lines, std::function<void()> read);
  // Logs what the process wrote so far without waiting, its unfinished line included.
  void drain();
  void close();

 private:
  boost::asio::awaitable<void> read_loop(std::shared_ptr<void> owner);
  // Feeds the splitter what the pipe holds; false at its end (or a read error).
  bool read_available();

  boost::asio::posix::stream_descriptor pipe_;
  LineSplitter splitter_;
  Lines lines_;
  std::function<void()> read_;
};

}  // namespace ember::engine
