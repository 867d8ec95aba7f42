#include "bucket_watcher.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "ember/isolation/unique_fd.hpp"

namespace ember::engine {
namespace {

namespace fs = std::filesystem;

// Closed after writing, moved in or out, deleted; new directories (IN_CREATE) to watch them.
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string child_key(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

bool inside(const std::string& key, const std::string& dir) {
  return key == dir || (key.size() > dir.size() && key.starts_with(dir) && key[dir.size()] == '/');
}

}  // namespace

BucketWatcher::BucketWatcher(const boost::asio::any_io_executor& executor,
                             std::vector<fs::path> roots, Callbacks callbacks)
    : roots_(std::move(roots)), callbacks_(std::move(callbacks)), stream_(executor) {}

isolation::Result<void> BucketWatcher::start() {
  isolation::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    return isolation::last_error("inotify_init1", "raise fs.inotify.max_user_instances");
  }
  stream_.assign(fd.release());
  for (std::size_t root = 0; root < roots_.size(); ++root) watch_tree(root, "", false);
  wait_for_events();
  return {};
}

void BucketWatcher::stop() {
  boost::system::error_code ignored;
  stream_.close(ignored);
  watches_.clear();
  watched_dirs_.clear();
}

void BucketWatcher::watch_tree(std::size_t root, const std::string& dir, bool report_files) {
  const fs::path path = dir.empty() ? roots_[root] : roots_[root] / dir;
  const int wd = ::inotify_add_watch(stream_.native_handle(), path.c_str(), kMask);
  if (wd < 0) {
    const int error = errno;
    // Gone (or replaced by a file) before it could be watched: its events went with it.
    if (error == ENOENT || error == ENOTDIR) return;
    callbacks_.problem("cannot watch " + path.string() + ": " +
                       std::system_category().message(error) +
                       (error == ENOSPC ? ". Hint: raise fs.inotify.max_user_watches" : "") +
                       "; objects created below it are not notified");
    return;
  }
  watches_[wd] = Watched{root, dir};
  watched_dirs_.insert({root, dir});
  scan(root, dir, report_files);
  // readdir() of a directory that grows meanwhile may skip entries (ext4 turning it into a
  // hashed directory); files closed before the watch existed have no event to fall back on,
  // so a new directory is read twice. What the first pass reported is not reported again.
  if (report_files) scan(root, dir, report_files);
}

void BucketWatcher::scan(std::size_t root, const std::string& dir, bool report_files) {
  const fs::path path = dir.empty() ? roots_[root] : roots_[root] / dir;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string key = child_key(dir, it->path().filename().string());
    std::error_code status_error;  // a file gone meanwhile: the next one is still read
    const auto status = it->symlink_status(status_error);
    if (status_error) continue;
    if (fs::is_directory(status)) {
      if (!is_watched(root, key)) watch_tree(root, key, report_files);
      continue;
    }
    if (report_files && fs::is_regular_file(status)) report_if_complete(root, key);
  }
}

bool BucketWatcher::is_watched(std::size_t root, const std::string& dir) const {
  return watched_dirs_.contains({root, dir});
}

void BucketWatcher::report_if_complete(std::size_t root, const std::string& key) {
  // A file someone still writes is reported at its close, which the watch now sees; one that
  // is complete may have been closed before the watch existed, so it is reported now.
  const fs::path path = roots_[root] / key;
  const isolation::UniqueFd file(
      ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!file.valid()) return;
  if (::fcntl(file.get(), F_SETLEASE, F_RDLCK) < 0) {
    if (errno == EAGAIN) return;  // open for writing somewhere
  } else {
    ::fcntl(file.get(), F_SETLEASE, F_UNLCK);
  }
  struct stat st {};
  if (::fstat(file.get(), &st) < 0) return;
  const FileIdentity identity{st.st_ino, st.st_mtim, st.st_size};
  // readdir() of a directory that grows meanwhile may return an entry twice (ext4 turning
  // it into a hashed directory): the same contents are reported once.
  const auto [it, inserted] = scanned_.try_emplace({root, key}, identity);
  if (!inserted && it->second == identity) return;
  it->second = identity;
  callbacks_.changed(Change{root, key, ChangeKind::kCreated});
}

void BucketWatcher::forget_tree(std::size_t root, const std::string& dir) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (it->second.root == root && inside(it->second.dir, dir)) {
      // A directory moved away keeps its watch (it follows the inode): removed here.
      ::inotify_rm_watch(stream_.native_handle(), it->first);
      watched_dirs_.erase({it->second.root, it->second.dir});
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
}

void BucketWatcher::wait_for_events() {
  stream_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [weak = weak_from_this()](boost::system::error_code ec) {
                       auto self = weak.lock();
                       if (!self || ec) return;
                       self->read_events();
                       if (self->stream_.is_open()) self->wait_for_events();
                     });
}

void BucketWatcher::read_events() {
  alignas(inotify_event) std::array<char, 1 << 16> buffer{};
  while (stream_.is_open()) {
    const ssize_t n = ::read(stream_.native_handle(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: drained
    for (std::size_t at = 0; at + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + at, sizeof event);
      const char* name = buffer.data() + at + sizeof event;
      handle(event.mask, event.wd, event.len > 0 ? std::string(name) : std::string());
      at += sizeof event + event.len;
    }
  }
  // Every event queued before the scans of this round has been seen.
  scanned_.clear();
}

bool BucketWatcher::scanned_already(std::size_t root, const std::string& key) {
  const auto it = scanned_.find({root, key});
  if (it == scanned_.end()) return false;
  const FileIdentity reported = it->second;
  scanned_.erase(it);
  struct stat st {};
  const fs::path path = roots_[root] / key;
  if (::lstat(path.c_str(), &st) < 0) return false;
  return reported == FileIdentity{st.st_ino, st.st_mtim, st.st_size};
}

void BucketWatcher::handle(std::uint32_t mask, int wd, const std::string& name) {
  if ((mask & IN_Q_OVERFLOW) != 0) {
    ++overflows_;
    callbacks_.problem(
        "inotify's queue overflowed: object notifications were LOST. Hint: raise "
        "fs.inotify.max_queued_events");
    return;
  }
  const auto it = watches_.find(wd);
  if (it == watches_.end()) return;
  const Watched watched = it->second;
  if ((mask & IN_IGNORED) != 0) {
    watched_dirs_.erase({watched.root, watched.dir});
    watches_.erase(it);
    return;
  }
  if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
    if (watched.dir.empty()) {
      callbacks_.problem("bucket directory " + roots_[watched.root].string() +
                         " was removed or moved: its objects are no longer notified");
    }
    return;
  }
  const std::string key = child_key(watched.dir, name);
  if ((mask & IN_ISDIR) != 0) {
    handle_directory(mask, watched, key);
    return;
  }
  if ((mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0) {
    if (scanned_already(watched.root, key)) return;
    callbacks_.changed(Change{watched.root, key, ChangeKind::kCreated});
  } else if ((mask & (IN_DELETE | IN_MOVED_FROM)) != 0) {
    callbacks_.changed(Change{watched.root, key, ChangeKind::kRemoved});
  }
}

void BucketWatcher::handle_directory(std::uint32_t mask, const Watched& parent,
                                     const std::string& key) {
  if ((mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
    watch_tree(parent.root, key, true);
  } else if ((mask & (IN_MOVED_FROM | IN_DELETE)) != 0) {
    forget_tree(parent.root, key);
  }
}

}  // namespace ember::engine
