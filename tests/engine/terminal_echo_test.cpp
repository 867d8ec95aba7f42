// The node's terminal echo against real pipes: formatting, escaping, and a reader that never
// reads.
#include "ember/engine/terminal_echo.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "../support/eventually.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {
namespace {

using isolation::UniqueFd;

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  // Everything written until the write end closes.
  std::string read_all() const {
    std::string out;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::read(read_end.get(), buffer, sizeof buffer)) > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

TEST(EscapeControls, EscapesWhatATerminalWouldObeyAndKeepsTheRest) {
  EXPECT_EQ(escape_controls("plain text\twith a tab"), "plain text\twith a tab");
  EXPECT_EQ(escape_controls("\x1b[2Jcleared"), "\\x1b[2Jcleared");
  EXPECT_EQ(escape_controls("\r[victim] REPORT RequestId: forged"),
            "\\x0d[victim] REPORT RequestId: forged");
  EXPECT_EQ(escape_controls(std::string("nul\0bell\a del\x7f", 14)), "nul\\x00bell\\x07 del\\x7f");
  // UTF-8 text passes; U+009B (CSI as one C1 character) does not.
  EXPECT_EQ(escape_controls("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(escape_controls("\xc2\x9b"
                            "31m"),
            "\\u009b31m");
  EXPECT_EQ(escape_controls("\xc2\xa0"), "\xc2\xa0");  // no-break space is text
}

TEST(TerminalEcho, PrefixesEveryLineWithItsFunction) {
  Pipe pipe;
  {
    TerminalEcho echo(pipe.write_end.get());
    echo("hello", "one\ntwo\n");
    echo("other", "three\x1b[0m\n");
    echo("hello", "no newline");
  }
  pipe.write_end.reset();
  EXPECT_EQ(pipe.read_all(),
            "[hello] one\n[hello] two\n[other] three\\x1b[0m\n[hello] no newline\n");
}

TEST(TerminalEcho, AReaderThatNeverReadsCostsDroppedLinesNotAStall) {
  Pipe pipe;
  constexpr std::size_t kLimit = 256 * 1024;
  const std::string line(1000, 'x');
  std::uint64_t dropped = 0;
  {
    TerminalEcho echo(pipe.write_end.get(), kLimit);
    // 4 MB against a 64 KiB pipe and a 256 KiB buffer: calls return, the excess is counted.
    for (int i = 0; i < 4000; ++i) echo("loud", line + "\n");
    dropped = echo.dropped_bytes();
  }  // the destructor gives up on the full pipe instead of waiting for a reader
  EXPECT_GT(dropped, 3'000'000U);
  EXPECT_LT(dropped, 4000U * (line.size() + 8));
}

TEST(TerminalEcho, SaysHowMuchItDroppedOnceTheReaderCatchesUp) {
  Pipe pipe;
  constexpr std::size_t kLimit = 16 * 1024;
  const std::string line(100, 'y');
  {
    TerminalEcho echo(pipe.write_end.get(), kLimit);
    for (int i = 0; i < 2000; ++i) echo("loud", line + "\n");  // 200 KB, pipe 64 KiB unread
    ASSERT_GT(echo.dropped_bytes(), 0U);
    // Reads everything from here on, so the writer can catch up and report.
    std::string seen;
    char buffer[65536];
    ::fcntl(pipe.read_end.get(), F_SETFL, O_NONBLOCK);
    for (int tries = 0; tries < 200 && seen.find("were not echoed") == std::string::npos; ++tries) {
      const auto n = ::read(pipe.read_end.get(), buffer, sizeof buffer);
      if (n > 0) {
        seen.append(buffer, static_cast<std::size_t>(n));
      } else {
        ::usleep(10'000);
      }
    }
    EXPECT_NE(seen.find("bytes of function logs were not echoed here"), std::string::npos);
    EXPECT_EQ(seen.find("[loud] " + line + "\n"), 0U);
  }
}

TEST(TerminalEcho, AClosedReaderEndsTheEchoWithoutSignalsOrStalls) {
  std::signal(SIGPIPE, SIG_IGN);  // as `ember serve` does
  Pipe pipe;
  TerminalEcho echo(pipe.write_end.get());
  pipe.read_end.reset();
  echo("gone", "nobody reads this\n");  // the writer finds the pipe broken
  // From then on every line is dropped at once (and the destructor does not wait for them).
  EXPECT_TRUE(test::eventually([&echo] {
    const auto before = echo.dropped_bytes();
    echo("gone", "nobody reads this either\n");
    return echo.dropped_bytes() > before;
  }));
}

}  // namespace
}  // namespace ember::engine
