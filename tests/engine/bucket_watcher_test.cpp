// The bucket watcher against real directories and inotify: what it reports for files and
// directories that appear, move and disappear.
#include "bucket_watcher.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <set>

#include "../support/eventually.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

class Watcher : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root());
    write_file(root() / "before", "there before the watch");
    watcher_ = std::make_shared<BucketWatcher>(
        io_.get_executor(), std::vector<fs::path>{root()},
        BucketWatcher::Callbacks{
            [this](const BucketWatcher::Change& change) {
              changes_.insert(
                  (change.kind == BucketWatcher::ChangeKind::kCreated ? "created " : "removed ") +
                  change.key);
              ++count_;
            },
            [this](const std::string& line) { problems_ += line; }});
    ASSERT_TRUE(watcher_->start());
  }

  [[nodiscard]] fs::path root() const { return dir_.path() / "bucket"; }

  // Runs the watcher until `n` changes in all were reported.
  bool until(std::size_t n) {
    return test::eventually([&] {
      io_.poll();
      return count_ >= n;
    });
  }

  client::TempDir dir_{"ember-watcher-"};
  boost::asio::io_context io_;
  std::shared_ptr<BucketWatcher> watcher_;
  std::multiset<std::string> changes_;
  std::size_t count_ = 0;
  std::string problems_;
};

TEST_F(Watcher, ADirectoryMovedInReportsEachOfItsFilesOnceAndWatchesItFromThenOn) {
  fs::create_directories(dir_.path() / "staged" / "deep");
  write_file(dir_.path() / "staged" / "a", "a");
  write_file(dir_.path() / "staged" / "deep" / "b", "b");
  fs::rename(dir_.path() / "staged", root() / "moved");
  ASSERT_TRUE(until(2));
  write_file(root() / "moved" / "deep" / "c", "c");
  ASSERT_TRUE(until(3));
  EXPECT_EQ(changes_, (std::multiset<std::string>{"created moved/a", "created moved/deep/b",
                                                  "created moved/deep/c"}));
  EXPECT_EQ(watcher_->watched_directories(), 3U);
  EXPECT_EQ(problems_, "");
}

TEST_F(Watcher, ADirectoryMovedOutIsNoLongerWatchedAndARenameReportsTheNewKeys) {
  fs::create_directories(root() / "d");
  write_file(root() / "d" / "x", "x");
  ASSERT_TRUE(until(1));
  fs::rename(root() / "d", root() / "e");  // inside: the files have new keys
  ASSERT_TRUE(until(2));
  fs::rename(root() / "e", dir_.path() / "gone");  // out
  write_file(dir_.path() / "gone" / "y", "y");     // not the bucket's any more
  write_file(root() / "marker", "m");
  ASSERT_TRUE(until(3));
  EXPECT_EQ(changes_, (std::multiset<std::string>{"created d/x", "created e/x", "created marker"}));
  EXPECT_EQ(watcher_->watched_directories(), 1U);
}

TEST_F(Watcher, AFileStillOpenForWritingInADirectoryMovedInWaitsForItsClose) {
  fs::create_directories(dir_.path() / "staged");
  write_file(dir_.path() / "staged" / "done", "done");
  isolation::UniqueFd open_file(
      ::open((dir_.path() / "staged" / "open").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(open_file.valid());
  ASSERT_EQ(::write(open_file.get(), "half", 4), 4);
  fs::rename(dir_.path() / "staged", root() / "in");
  ASSERT_TRUE(until(1));
  write_file(root() / "marker", "m");
  ASSERT_TRUE(until(2));
  EXPECT_EQ(changes_, (std::multiset<std::string>{"created in/done", "created marker"}));
  open_file.reset();
  ASSERT_TRUE(until(3));
  EXPECT_EQ(changes_.count("created in/open"), 1U);
}

TEST_F(Watcher, DeletionsAndMovesOutAreRemovals) {
  write_file(root() / "a", "a");
  ASSERT_TRUE(until(1));
  fs::remove(root() / "a");
  fs::rename(root() / "before", dir_.path() / "elsewhere");
  ASSERT_TRUE(until(3));
  EXPECT_EQ(changes_, (std::multiset<std::string>{"created a", "removed a", "removed before"}));
}

}  // namespace
}  // namespace ember::engine
