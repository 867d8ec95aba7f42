// Watches the directory trees of buckets with inotify, on the node's executor, and reports
// each object that is created (a file closed after writing, or moved in) or removed (deleted,
// or moved out). Never a file that is still being written: an open file gives no event until
// it is closed. New directories are watched as they appear; files already in a directory that
// appears (mkdir -p a/b && cp x a/b/, or a directory moved in) are reported once each when
// nobody has them open for writing (a read lease succeeds), else at their close.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ember/isolation/sys_error.hpp"

namespace ember::engine {

class BucketWatcher final : public std::enable_shared_from_this<BucketWatcher> {
 public:
  enum class ChangeKind { kCreated, kRemoved };
  struct Change {
    std::size_t root = 0;  // index into the roots given at construction
    std::string key;       // path below the root, '/'-separated
    ChangeKind kind = ChangeKind::kCreated;
  };
  struct Callbacks {
    std::function<void(const Change&)> changed;
    // Something the operator must see: lost notifications (inotify's queue overflowed), a
    // directory that could not be watched, a bucket directory that went away.
    std::function<void(const std::string&)> problem;
  };

  BucketWatcher(const boost::asio::any_io_executor& executor,
                std::vector<std::filesystem::path> roots, Callbacks callbacks);
  BucketWatcher(const BucketWatcher&) = delete;
  BucketWatcher& operator=(const BucketWatcher&) = delete;
  BucketWatcher(BucketWatcher&&) = delete;
  BucketWatcher& operator=(BucketWatcher&&) = delete;
  ~BucketWatcher() = default;

  // Watches every directory below every root (files already there are not reported), then
  // reads events. Fails when inotify cannot be had at all.
  isolation::Result<void> start();
  // No more events; the inotify descriptor is closed.
  void stop();

  // Times inotify's queue overflowed (events were lost) since start.
  [[nodiscard]] std::uint64_t overflows() const { return overflows_; }
  // Directories watched now.
  [[nodiscard]] std::size_t watched_directories() const { return watches_.size(); }

 private:
  struct Watched {
    std::size_t root = 0;
    std::string dir;  // its key prefix: "" for the root, else "a/b"
  };
  // A file reported by a directory scan, to drop the close event that may already be queued
  // for the same contents.
  struct FileIdentity {
    ino_t inode = 0;
    timespec modified{};
    off_t size = 0;
    friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
      return a.inode == b.inode && a.modified.tv_sec == b.modified.tv_sec &&
             a.modified.tv_nsec == b.modified.tv_nsec && a.size == b.size;
    }
  };

  void watch_tree(std::size_t root, const std::string& dir, bool report_files);
  // Reports the files of a watched directory (when asked) and watches its new subdirectories.
  void scan(std::size_t root, const std::string& dir, bool report_files);
  [[nodiscard]] bool is_watched(std::size_t root, const std::string& dir) const;
  // A file found in a directory that just appeared: reported unless open for writing.
  void report_if_complete(std::size_t root, const std::string& key);
  void forget_tree(std::size_t root, const std::string& dir);
  void wait_for_events();
  void read_events();
  void handle(std::uint32_t mask, int wd, const std::string& name);
  void handle_directory(std::uint32_t mask, const Watched& parent, const std::string& key);
  [[nodiscard]] bool scanned_already(std::size_t root, const std::string& key);

  std::vector<std::filesystem::path> roots_;
  Callbacks callbacks_;
  boost::asio::posix::stream_descriptor stream_;  // owns the inotify descriptor
  std::unordered_map<int, Watched> watches_;
  std::set<std::pair<std::size_t, std::string>> watched_dirs_;  // the values of watches_
  // Cleared once the kernel's queue is drained: every event queued before a scan is then seen.
  std::map<std::pair<std::size_t, std::string>, FileIdentity> scanned_;
  std::uint64_t overflows_ = 0;
};

}  // namespace ember::engine
