// The node's echo of function logs on its stdout, with a real node and a stdout nobody reads.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../support/eventually.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

// A node whose stdout is a pipe nobody reads (a terminal scrolled back, a supervisor that
// stopped reading) keeps serving: the echo drops lines rather than stalling the engine, and
// the log files keep every line.
TEST(LogEcho, ANodeWhoseStdoutNobodyReadsKeepsServing) {
  const TempDir dir("ember-test-echo-");
  const auto fifo = dir.path() / "stdout";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Open for reading and never read: the pipe is full after 64 KiB.
  const isolation::UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(reader);
  FunctionSpec printer{.name = "printer", .code = testcases_dir() / "python" / "printer"};
  printer.timeout_s = 10;
  Node node({printer}, {}, std::nullopt, fifo);
  constexpr int kInvocations = 8;
  for (int i = 0; i < kInvocations; ++i) {
    // About 220 KB of log lines per invocation.
    const auto reply = node.invoke("printer", R"({"lines": 20000})");
    ASSERT_EQ(reply.status, 200) << "invocation " << i << ": " << reply.body;
    EXPECT_EQ(reply.body, "20000");
  }
  EXPECT_TRUE(eventually(
      [&node] { return count(node.logs("printer"), "line 20000\n") == std::size_t{kInvocations}; },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace ember::test
