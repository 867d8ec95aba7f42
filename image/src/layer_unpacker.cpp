#include "layer_unpacker.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "sha256.hpp"

namespace ember::image {

namespace {

using isolation::UniqueFd;

constexpr std::size_t kReadBuffer = 1 << 20;
constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

std::string errno_text(int err) { return std::generic_category().message(err); }

// Inside the root only: no symlink followed (RESOLVE_NO_SYMLINKS), no '..' or absolute path
// leaving it (RESOLVE_BENEATH), no other mount.
int open_beneath(int root_fd, const std::string& path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

// A layer path as components, refusing what could leave the root.
struct EntryPath {
  std::string path;    // "a/b/c", no leading "./"
  std::string parent;  // "a/b", or "" for the root
  std::string name;    // "c"
};

std::optional<EntryPath> split_path(std::string_view raw, std::string& problem) {
  while (raw.substr(0, 2) == "./") raw.remove_prefix(2);
  if (raw.substr(0, 1) == "/") {
    // umoci names the root "/"; anything below it written that way is refused.
    if (raw.find_first_not_of('/') == std::string_view::npos) return EntryPath{};
    problem = "absolute path";
    return std::nullopt;
  }
  std::vector<std::string_view> parts;
  while (!raw.empty()) {
    const auto slash = raw.find('/');
    const std::string_view part = raw.substr(0, slash);
    raw.remove_prefix(slash == std::string_view::npos ? raw.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      problem = "'..' in the path";
      return std::nullopt;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return EntryPath{};  // the root itself
  EntryPath out;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (i > 0) out.parent += '/';
    out.parent += parts[i];
  }
  out.name = std::string(parts.back());
  out.path = out.parent.empty() ? out.name : out.parent + "/" + out.name;
  return out;
}

// Removes `name` in `dir_fd`, a whole tree when it is a directory; never follows a symlink.
void remove_tree(int dir_fd, const char* name) {
  if (::unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR) throw ImageError(std::string("unlink ") + name + ": " + errno_text(errno));
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw ImageError(std::string("open ") + name + ": " + errno_text(errno));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    throw ImageError(std::string("fdopendir ") + name + ": " + errno_text(errno));
  }
  std::vector<std::string> children;
  while (const dirent* d = ::readdir(dir)) {
    const std::string_view child = d->d_name;
    if (child != "." && child != "..") children.emplace_back(child);
  }
  for (const auto& child : children) remove_tree(::dirfd(dir), child.c_str());
  ::closedir(dir);
  if (::unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
    throw ImageError(std::string("rmdir ") + name + ": " + errno_text(errno));
  }
}

// Reads the blob for libarchive, hashing and counting every byte on the way.
struct HashingReader {
  BlobStream* blob = nullptr;
  Sha256 hash;
  std::uint64_t total = 0;
  std::vector<char> buffer = std::vector<char>(kReadBuffer);
  std::string error;

  bool ended = false;

  std::size_t next() {
    const std::size_t n = blob->read(buffer.data(), buffer.size());
    if (n == 0) ended = true;
    hash.update(buffer.data(), n);
    total += n;
    return n;
  }
  void drain() {
    while (next() != 0) {
    }
  }

  static la_ssize_t read_callback(archive* /*a*/, void* self, const void** out) {
    auto* reader = static_cast<HashingReader*>(self);
    try {
      const std::size_t n = reader->next();
      *out = reader->buffer.data();
      return static_cast<la_ssize_t>(n);
    } catch (const std::exception& e) {
      reader->error = e.what();
      return -1;
    }
  }
};

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

timespec time_of(time_t sec, long nsec) { return timespec{sec, nsec}; }

}  // namespace

LayerUnpacker::LayerUnpacker(int root_fd, std::uint64_t max_unpacked_bytes)
    : root_fd_(root_fd), max_unpacked_bytes_(max_unpacked_bytes) {}

void LayerUnpacker::apply(BlobStream& blob, const LayerBlob& layer) {
  layer_label_ = "layer " + layer.digest.substr(0, 19) + "..";
  if (blob.size() != layer.size) {
    throw ImageError(layer_label_ + ": size " + std::to_string(blob.size()) +
                     ", the manifest says " + std::to_string(layer.size));
  }
  this_layer_.clear();
  cached_parent_.clear();
  cached_parent_fd_.reset();

  HashingReader reader;
  reader.blob = &blob;
  blob_ended_ = &reader.ended;
  ended_after_last_file_ = false;
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  switch (layer.compression) {
    case Compression::kNone:
      break;
    case Compression::kGzip:
      archive_read_support_filter_gzip(a.get());
      break;
    case Compression::kZstd:
      archive_read_support_filter_zstd(a.get());
      break;
    case Compression::kAny:
      archive_read_support_filter_gzip(a.get());
      archive_read_support_filter_zstd(a.get());
      break;
  }
  // A corrupt tar whose blob does not match its digest is reported as the digest mismatch,
  // the better explanation.
  const auto fail = [&](const std::string& problem) {
    if (reader.error.empty()) {
      bool drained = true;
      try {
        reader.drain();
      } catch (const ImageError&) {
        drained = false;
      }
      if (drained && reader.total == layer.size && reader.hash.digest() != layer.digest) {
        throw ImageError(layer_label_ + ": digest mismatch (" + problem + ")");
      }
    }
    throw ImageError(layer_label_ + ": " + problem);
  };
  if (archive_read_open(a.get(), &reader, nullptr, &HashingReader::read_callback, nullptr) !=
      ARCHIVE_OK) {
    fail(reader.error.empty() ? archive_error_string(a.get()) : reader.error);
  }
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      fail(reader.error.empty() ? archive_error_string(a.get()) : reader.error);
    }
    apply_entry(a.get(), entry);
    if (ended_after_last_file_) break;
  }
  blob_ended_ = nullptr;
  reader.drain();
  if (reader.total != layer.size) {
    throw ImageError(layer_label_ + ": read " + std::to_string(reader.total) +
                     " bytes, the manifest says " + std::to_string(layer.size));
  }
  const std::string actual = reader.hash.digest();
  if (actual != layer.digest) {
    throw ImageError(layer_label_ + ": digest mismatch (content is " + actual + ")");
  }
  cached_parent_fd_.reset();
}

int LayerUnpacker::parent_fd(const std::string& parent, const std::string& entry_path) {
  if (parent.empty()) return root_fd_;
  if (cached_parent_fd_ && parent == cached_parent_) return cached_parent_fd_.get();
  cached_parent_fd_.reset();
  int fd = open_beneath(root_fd_, parent, O_PATH | O_DIRECTORY);
  if (fd < 0 && errno == ENOENT) {
    // Layers may leave out parent directories: make them as a tar would (root, 0755).
    std::string prefix;
    std::string_view rest = parent;
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      prefix += (prefix.empty() ? "" : "/") + std::string(rest.substr(0, slash));
      rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
      UniqueFd dir(open_beneath(root_fd_, prefix, O_PATH | O_DIRECTORY));
      if (!dir && errno == ENOENT) {
        const auto cut = prefix.rfind('/');
        const std::string up = cut == std::string::npos ? "" : prefix.substr(0, cut);
        UniqueFd up_fd(up.empty() ? ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0)
                                  : open_beneath(root_fd_, up, O_PATH | O_DIRECTORY));
        if (!up_fd) break;
        const std::string name = cut == std::string::npos ? prefix : prefix.substr(cut + 1);
        if (::mkdirat(up_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST) break;
        ::fchmodat(up_fd.get(), name.c_str(), 0755, 0);
      } else if (!dir) {
        break;
      }
    }
    fd = open_beneath(root_fd_, parent, O_PATH | O_DIRECTORY);
  }
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || err == EXDEV) {
      throw ImageError(layer_label_ + ": entry \"" + entry_path + "\": refused, its parent \"" +
                       parent + "\" is or passes through a symbolic link");
    }
    throw ImageError(layer_label_ + ": entry \"" + entry_path + "\": parent \"" + parent +
                     "\": " + errno_text(err));
  }
  cached_parent_ = parent;
  cached_parent_fd_.reset(fd);
  return fd;
}

void LayerUnpacker::whiteout(int dir_fd, const std::string& dir_path, const std::string& name) {
  const std::string path = dir_path.empty() ? name : dir_path + "/" + name;
  if (this_layer_.count(path) != 0) return;  // this layer's own entry stays
  remove_tree(dir_fd, name.c_str());
}

void LayerUnpacker::opaque(int dir_fd, const std::string& dir_path) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw ImageError(layer_label_ + ": opaque " + dir_path + ": " + errno_text(errno));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    throw ImageError(layer_label_ + ": opaque " + dir_path + ": " + errno_text(errno));
  }
  std::vector<std::string> children;
  while (const dirent* d = ::readdir(dir)) {
    const std::string_view child = d->d_name;
    if (child != "." && child != "..") children.emplace_back(child);
  }
  ::closedir(dir);
  for (const auto& child : children) whiteout(dir_fd, dir_path, child);
}

void LayerUnpacker::apply_entry(archive* a, archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  const std::string raw_path = raw != nullptr ? raw : "";
  std::string problem;
  const auto path = split_path(raw_path, problem);
  if (!path) {
    throw ImageError(layer_label_ + ": entry \"" + raw_path + "\": refused, " + problem +
                     " (would write outside the root)");
  }
  if (path->name.empty()) return;  // "./": the root keeps the store's owner and mode
  const int dir_fd = parent_fd(path->parent, path->path);
  const char* name = path->name.c_str();

  if (path->name.substr(0, kWhiteout.size()) == kWhiteout) {
    if (path->name == kOpaque) {
      opaque(dir_fd, path->parent);
    } else if (path->name.substr(0, 2 * kWhiteout.size()) != ".wh..wh.") {  // aufs metadata
      whiteout(dir_fd, path->parent, path->name.substr(kWhiteout.size()));
    }
    return;
  }
  this_layer_.insert(path->path);

  const auto refuse = [&](const std::string& what) {
    throw ImageError(layer_label_ + ": entry \"" + path->path + "\": " + what);
  };
  const auto fail_call = [&](const char* call) {
    const int err = errno;
    refuse(std::string(call) + ": " + errno_text(err));
  };
  const bool chown_allowed = ::geteuid() == 0;
  const auto uid = static_cast<uid_t>(archive_entry_uid(entry));
  const auto gid = static_cast<gid_t>(archive_entry_gid(entry));
  const auto mode = static_cast<mode_t>(archive_entry_perm(entry) & 07777);
  const timespec times[2] = {
      archive_entry_atime_is_set(entry) != 0
          ? time_of(archive_entry_atime(entry), archive_entry_atime_nsec(entry))
          : time_of(archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)),
      time_of(archive_entry_mtime(entry), archive_entry_mtime_nsec(entry))};

  if (const char* target_raw = archive_entry_hardlink(entry)) {
    std::string target_problem;
    const auto target = split_path(target_raw, target_problem);
    if (!target || target->name.empty()) {
      refuse("refused, hard link to \"" + std::string(target_raw) + "\" (" +
             (target ? "the root" : target_problem) + ", outside the root)");
    }
    UniqueFd target_dir(target->parent.empty()
                            ? ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0)
                            : open_beneath(root_fd_, target->parent, O_PATH | O_DIRECTORY));
    if (!target_dir) {
      refuse(
          "refused, hard link target \"" + target->path +
          "\" is not reachable inside the root without following a symlink: " + errno_text(errno));
    }
    for (int attempt = 0;; ++attempt) {
      if (::linkat(target_dir.get(), target->name.c_str(), dir_fd, name, 0) == 0) break;
      if (errno != EEXIST || attempt > 0) fail_call("link");
      remove_tree(dir_fd, name);
    }
    return;
  }

  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR: {
      if (::mkdirat(dir_fd, name, 0700) != 0) {
        if (errno != EEXIST) fail_call("mkdir");
        struct stat st {};
        if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) fail_call("stat");
        if (!S_ISDIR(st.st_mode)) {
          remove_tree(dir_fd, name);
          if (::mkdirat(dir_fd, name, 0700) != 0) fail_call("mkdir");
        }
      }
      if (chown_allowed && ::fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        fail_call("chown");
      }
      if (::fchmodat(dir_fd, name, mode, 0) != 0) fail_call("chmod");
      return;
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      // Created as written: the sandbox resolves it against its own root.
      for (int attempt = 0;; ++attempt) {
        if (::symlinkat(target != nullptr ? target : "", dir_fd, name) == 0) break;
        if (errno != EEXIST || attempt > 0) fail_call("symlink");
        remove_tree(dir_fd, name);
      }
      if (chown_allowed && ::fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        fail_call("chown");
      }
      ::utimensat(dir_fd, name, times, AT_SYMLINK_NOFOLLOW);
      return;
    }
    case AE_IFREG:
      break;
    default:
      return;  // device nodes, fifos, sockets: the sandbox gets its own minimal /dev
  }

  const auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
  if (unpacked_bytes_ + size > max_unpacked_bytes_) {
    refuse("the image unpacks to more than the limit of " + std::to_string(max_unpacked_bytes_) +
           " bytes");
  }
  unpacked_bytes_ += size;
  UniqueFd fd;
  for (int attempt = 0;; ++attempt) {
    fd.reset(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) break;
    if (errno != EEXIST || attempt > 0) fail_call("create");
    remove_tree(dir_fd, name);
  }
  const void* block = nullptr;
  std::size_t block_size = 0;
  la_int64_t offset = 0;
  std::uint64_t data_end = 0;
  for (;;) {
    const int status = archive_read_data_block(a, &block, &block_size, &offset);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      // umoci 0.4 ends a layer right after its last file's data, without the padding and
      // end-of-archive blocks; Go's archive/tar (docker, containerd) reads that as the end,
      // and so do we. A file cut short is still refused.
      if (data_end == size && blob_ended_ != nullptr && *blob_ended_) {
        ended_after_last_file_ = true;
        break;
      }
      refuse(archive_error_string(a));
    }
    const char* p = static_cast<const char*>(block);
    while (block_size > 0) {
      const ssize_t n = ::pwrite(fd.get(), p, block_size, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_call("write");
      }
      p += n;
      offset += n;
      block_size -= static_cast<std::size_t>(n);
    }
    data_end = std::max(data_end, static_cast<std::uint64_t>(offset));
  }
  // A sparse file's trailing hole.
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) fail_call("truncate");
  // File capabilities (security.capability) and the like; before chown, which clears them.
  archive_entry_xattr_reset(entry);
  const char* xattr_name = nullptr;
  const void* value = nullptr;
  std::size_t value_size = 0;
  while (archive_entry_xattr_next(entry, &xattr_name, &value, &value_size) == ARCHIVE_OK) {
    ::fsetxattr(fd.get(), xattr_name, value, value_size, 0);
  }
  // chown before chmod: chown clears the set-id bits.
  if (chown_allowed && ::fchown(fd.get(), uid, gid) != 0) fail_call("chown");
  if (::fchmod(fd.get(), mode) != 0) fail_call("chmod");
  ::futimens(fd.get(), times);
}

void LayerUnpacker::finish() {
  for (const char* dir : {"proc", "dev", "tmp"}) {
    struct stat st {};
    if (::fstatat(root_fd_, dir, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        throw ImageError(std::string("/") + dir +
                         " is not a directory in the image (the sandbox mounts on it)");
      }
      continue;
    }
    if (::mkdirat(root_fd_, dir, 0755) != 0) {
      throw ImageError(std::string("mkdir /") + dir + ": " + errno_text(errno));
    }
    ::fchmodat(root_fd_, dir, std::string_view(dir) == "tmp" ? 01777 : 0755, 0);
  }
  if (::geteuid() == 0 && ::fchown(root_fd_, 0, 0) != 0) {
    throw ImageError(std::string("chown rootfs: ") + errno_text(errno));
  }
  if (::fchmod(root_fd_, 0755) != 0) throw ImageError("chmod rootfs: " + errno_text(errno));
}

}  // namespace ember::image
