#include "line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ember::engine {
namespace {

struct Collect {
  std::vector<std::string>* lines;
  void operator()(std::string_view line) const { lines->emplace_back(line); }
};

TEST(LineSplitter, WholeLinesComeOutAsTheyComplete) {
  LineSplitter splitter(1024);
  std::vector<std::string> lines;
  splitter.feed("one\ntw", Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"one"}));
  splitter.feed("o\nthree\n", Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(LineSplitter, FlushEmitsTheUnfinishedLineOnce) {
  LineSplitter splitter(1024);
  std::vector<std::string> lines;
  splitter.feed("no newline", Collect{&lines});
  EXPECT_TRUE(lines.empty());
  splitter.flush(Collect{&lines});
  splitter.flush(Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"no newline"}));
}

TEST(LineSplitter, ALongLineComesOutInPiecesOfTheLimit) {
  LineSplitter splitter(4);
  std::vector<std::string> lines;
  splitter.feed("abcdefghij", Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh"}));
  splitter.feed("\n", Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

TEST(LineSplitter, EmptyLinesAreKept) {
  LineSplitter splitter(1024);
  std::vector<std::string> lines;
  splitter.feed("\n\nx\n", Collect{&lines});
  EXPECT_EQ(lines, (std::vector<std::string>{"", "", "x"}));
}

}  // namespace
}  // namespace ember::engine
