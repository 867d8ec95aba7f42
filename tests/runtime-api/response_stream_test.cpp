// ResponseStream between two coroutines on one io_context: the writer waits while the buffer
// is full and resumes when the reader takes it, the reader gets everything in order and then
// the end, and an abandoned or finished stream releases a waiting writer.
#include "ember/runtime_api/response_stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace ember::runtime_api {
namespace {

namespace asio = boost::asio;

// Runs every handler that is ready, and those they make ready, without waiting for anything.
void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

struct Writes {
  int done = 0;      // writes that returned
  int accepted = 0;  // of which returned true
};

// Writes `pieces` pieces of `size` bytes, counting them.
asio::awaitable<void> write_all(std::shared_ptr<ResponseStream> stream, int pieces,
                                std::size_t size, Writes& writes) {
  for (int i = 0; i < pieces; ++i) {
    const bool accepted = co_await stream->write(std::string(size, static_cast<char>('a' + i)));
    ++writes.done;
    if (accepted) ++writes.accepted;
  }
}

TEST(ResponseStream, WriterWaitsAtCapacityUntilTheReaderTakesTheBytes) {
  asio::io_context io;
  auto stream = std::make_shared<ResponseStream>(io.get_executor(), "text/plain", 10);
  Writes writes;
  asio::co_spawn(io, write_all(stream, 4, 5, writes), asio::detached);
  settle(io);
  // Two pieces fill the 10 bytes; the third write waits.
  EXPECT_EQ(writes.done, 2);

  std::vector<std::string> read;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto bytes = co_await stream->read()) read.push_back(*bytes);
      },
      asio::detached);
  settle(io);
  EXPECT_EQ(writes.done, 4);
  EXPECT_EQ(writes.accepted, 4);
  // Whatever was queued comes as one piece, in order; the reader waits for the end.
  std::string all;
  for (const auto& piece : read) all += piece;
  EXPECT_EQ(all, "aaaaabbbbbcccccddddd");
  EXPECT_EQ(read.front(), "aaaaabbbbb");

  StreamEnd end;
  end.error_type = "Runtime.StreamError";
  stream->finish(end);
  settle(io);
  EXPECT_EQ(stream->end().error_type, "Runtime.StreamError");
}

TEST(ResponseStream, AbandonReleasesAWaitingWriterWithFalse) {
  asio::io_context io;
  auto stream = std::make_shared<ResponseStream>(io.get_executor(), "text/plain", 4);
  Writes writes;
  asio::co_spawn(io, write_all(stream, 3, 4, writes), asio::detached);
  settle(io);
  EXPECT_EQ(writes.done, 1);
  stream->abandon();
  settle(io);
  EXPECT_EQ(writes.done, 3);
  EXPECT_EQ(writes.accepted, 1);
}

TEST(ResponseStream, FinishReleasesAWaitingWriterAndTheReaderSeesQueuedBytesFirst) {
  asio::io_context io;
  auto stream = std::make_shared<ResponseStream>(io.get_executor(), "text/plain", 4);
  Writes writes;
  asio::co_spawn(io, write_all(stream, 2, 4, writes), asio::detached);
  settle(io);
  stream->finish({});  // a timeout: the writer is told no one reads any more
  settle(io);
  EXPECT_EQ(writes.done, 2);
  EXPECT_EQ(writes.accepted, 1);
  std::optional<std::string> first;
  std::optional<std::string> second = "unset";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        first = co_await stream->read();
        second = co_await stream->read();
      },
      asio::detached);
  settle(io);
  EXPECT_EQ(first, "aaaa");
  EXPECT_EQ(second, std::nullopt);
}

TEST(ResponseStream, EndOfAWholeAnswerNamesItsErrorType) {
  InvokeResult result;
  result.function_error = "Unhandled";
  result.payload = R"({"errorMessage":"late","errorType":"Sandbox.Timedout"})";
  result.log_tail = "END\n";
  const auto end = stream_end_of(result);
  EXPECT_EQ(end.error_type, "Sandbox.Timedout");
  EXPECT_EQ(end.error_details, result.payload);
  EXPECT_EQ(end.log_tail, "END\n");
  result.error_type = "Runtime.Custom";
  EXPECT_EQ(stream_end_of(result).error_type, "Runtime.Custom");
  EXPECT_TRUE(stream_end_of(InvokeResult{}).error_type.empty());
}

}  // namespace
}  // namespace ember::runtime_api
