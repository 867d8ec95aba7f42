#include "layer_unpacker.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "archive_error.hpp"
#include "beneath.hpp"
#include "sha256.hpp"

namespace ember::image {

namespace {

using isolation::UniqueFd;

constexpr std::size_t kReadBuffer = 1 << 20;
constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

std::string errno_text(int err) { return std::generic_category().message(err); }

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

// A corrupt tar whose blob does not match its digest is reported as the digest mismatch, the
// better explanation.
[[noreturn]] void fail_layer(HashingReader& reader, const LayerBlob& layer,
                             const std::string& label, const std::string& problem) {
  if (reader.error.empty()) {
    bool drained = true;
    try {
      reader.drain();
    } catch (const ImageError&) {
      drained = false;
    }
    if (drained && reader.total == layer.size && reader.hash.digest() != layer.digest) {
      throw ImageError(label + ": digest mismatch (" + problem + ")");
    }
  }
  throw ImageError(label + ": " + problem);
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

timespec time_of(time_t sec, long nsec) { return timespec{sec, nsec}; }

// Only the decompression the media type names (docker-archive layers: any of them).
void support_filter(archive* a, Compression compression) {
  if (compression == Compression::kGzip || compression == Compression::kAny) {
    archive_read_support_filter_gzip(a);
  }
  if (compression == Compression::kZstd || compression == Compression::kAny) {
    archive_read_support_filter_zstd(a);
  }
}

}  // namespace

LayerUnpacker::LayerUnpacker(int root_fd, std::uint64_t max_unpacked_bytes)
    : root_fd_(root_fd),
      max_unpacked_bytes_(max_unpacked_bytes),
      chown_allowed_(::geteuid() == 0) {}

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
  support_filter(a.get(), layer.compression);
  const auto fail = [&](const std::string& problem) {
    fail_layer(reader, layer, layer_label_, reader.error.empty() ? problem : reader.error);
  };
  if (archive_read_open(a.get(), &reader, nullptr, &HashingReader::read_callback, nullptr) !=
      ARCHIVE_OK) {
    fail(archive_error(a.get()));
  }
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      fail(archive_error(a.get()));
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
    make_parents_beneath(root_fd_, parent);
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
  if (this_layer_.contains(path)) return;  // this layer's own entry stays
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

// What a layer entry says about the file it makes, beyond its type.
struct LayerUnpacker::Meta {
  uid_t uid;
  gid_t gid;
  mode_t mode;
  timespec times[2];  // atime, mtime
};

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

  if (path->name.starts_with(kWhiteout)) {
    if (path->name == kOpaque) {
      opaque(dir_fd, path->parent);
    } else if (!path->name.starts_with(".wh..wh.")) {  // else aufs metadata: ignored
      whiteout(dir_fd, path->parent, path->name.substr(kWhiteout.size()));
    }
    return;
  }
  this_layer_.insert(path->path);
  entry_path_ = path->path;

  const Meta meta{
      .uid = static_cast<uid_t>(archive_entry_uid(entry)),
      .gid = static_cast<gid_t>(archive_entry_gid(entry)),
      .mode = static_cast<mode_t>(archive_entry_perm(entry) & 07777),
      .times = {archive_entry_atime_is_set(entry) != 0
                    ? time_of(archive_entry_atime(entry), archive_entry_atime_nsec(entry))
                    : time_of(archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)),
                time_of(archive_entry_mtime(entry), archive_entry_mtime_nsec(entry))}};
  if (const char* target = archive_entry_hardlink(entry)) {
    make_hard_link(dir_fd, path->name, target);
    return;
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
      make_directory(dir_fd, path->name, meta);
      return;
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      make_symlink(dir_fd, path->name, target != nullptr ? target : "", meta);
      return;
    }
    case AE_IFREG:
      write_file(a, entry, dir_fd, path->name, meta);
      return;
    default:
      return;  // device nodes, fifos, sockets: the sandbox gets its own minimal /dev
  }
}

void LayerUnpacker::refuse(const std::string& what) const {
  throw ImageError(layer_label_ + ": entry \"" + entry_path_ + "\": " + what);
}

void LayerUnpacker::fail_call(const char* call) const {
  const int err = errno;
  refuse(std::string(call) + ": " + errno_text(err));
}

void LayerUnpacker::set_owner(int dir_fd, const std::string& name, const Meta& meta) const {
  if (chown_allowed_ &&
      ::fchownat(dir_fd, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    fail_call("chown");
  }
}

void LayerUnpacker::make_hard_link(int dir_fd, const std::string& name, const char* target_raw) {
  std::string problem;
  const auto target = split_path(target_raw, problem);
  if (!target || target->name.empty()) {
    refuse("refused, hard link to \"" + std::string(target_raw) + "\" (" +
           (target ? "the root" : problem) + ", outside the root)");
  }
  const UniqueFd target_dir(target->parent.empty()
                                ? ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0)
                                : open_beneath(root_fd_, target->parent, O_PATH | O_DIRECTORY));
  if (!target_dir) {
    refuse("refused, hard link target \"" + target->path +
           "\" is not reachable inside the root without following a symlink: " + errno_text(errno));
  }
  // Without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink, never what it names.
  for (int attempt = 0;; ++attempt) {
    if (::linkat(target_dir.get(), target->name.c_str(), dir_fd, name.c_str(), 0) == 0) return;
    if (errno != EEXIST || attempt > 0) fail_call("link");
    remove_tree(dir_fd, name.c_str());
  }
}

void LayerUnpacker::make_directory(int dir_fd, const std::string& name, const Meta& meta) {
  if (::mkdirat(dir_fd, name.c_str(), 0700) != 0) {
    if (errno != EEXIST) fail_call("mkdir");
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_call("stat");
    if (!S_ISDIR(st.st_mode)) {  // a directory replaces a lower layer's file: kept merged else
      remove_tree(dir_fd, name.c_str());
      if (::mkdirat(dir_fd, name.c_str(), 0700) != 0) fail_call("mkdir");
    }
  }
  set_owner(dir_fd, name, meta);
  if (::fchmodat(dir_fd, name.c_str(), meta.mode, 0) != 0) fail_call("chmod");
}

void LayerUnpacker::make_symlink(int dir_fd, const std::string& name, const char* target,
                                 const Meta& meta) {
  // Created as written: the sandbox resolves it against its own root.
  for (int attempt = 0;; ++attempt) {
    if (::symlinkat(target, dir_fd, name.c_str()) == 0) break;
    if (errno != EEXIST || attempt > 0) fail_call("symlink");
    remove_tree(dir_fd, name.c_str());
  }
  set_owner(dir_fd, name, meta);
  ::utimensat(dir_fd, name.c_str(), meta.times, AT_SYMLINK_NOFOLLOW);
}

void LayerUnpacker::write_file(archive* a, archive_entry* entry, int dir_fd,
                               const std::string& name, const Meta& meta) {
  const auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
  if (unpacked_bytes_ + size > max_unpacked_bytes_) {
    refuse("the image unpacks to more than the limit of " + std::to_string(max_unpacked_bytes_) +
           " bytes");
  }
  unpacked_bytes_ += size;
  UniqueFd fd;
  for (int attempt = 0;; ++attempt) {
    fd.reset(
        ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) break;
    if (errno != EEXIST || attempt > 0) fail_call("create");
    remove_tree(dir_fd, name.c_str());
  }
  copy_data(a, fd.get(), size);
  // A sparse file's trailing hole.
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) fail_call("truncate");
  // File capabilities (security.capability) and the like.
  archive_entry_xattr_reset(entry);
  const char* xattr_name = nullptr;
  const void* value = nullptr;
  std::size_t value_size = 0;
  while (archive_entry_xattr_next(entry, &xattr_name, &value, &value_size) == ARCHIVE_OK) {
    ::fsetxattr(fd.get(), xattr_name, value, value_size, 0);
  }
  // chown before chmod: chown clears the set-id bits.
  if (chown_allowed_ && ::fchown(fd.get(), meta.uid, meta.gid) != 0) fail_call("chown");
  if (::fchmod(fd.get(), meta.mode) != 0) fail_call("chmod");
  ::futimens(fd.get(), meta.times);
}

void LayerUnpacker::copy_data(archive* a, int fd, std::uint64_t size) {
  const void* block = nullptr;
  std::size_t block_size = 0;
  la_int64_t offset = 0;
  std::uint64_t data_end = 0;
  for (;;) {
    const int status = archive_read_data_block(a, &block, &block_size, &offset);
    if (status == ARCHIVE_EOF) return;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
      // umoci 0.4 ends a layer right after its last file's data, without the padding and
      // end-of-archive blocks; Go's archive/tar (docker, containerd) reads that as the end,
      // and so do we. A file cut short is still refused.
      if (data_end == size && blob_ended_ != nullptr && *blob_ended_) {
        ended_after_last_file_ = true;
        return;
      }
      refuse(archive_error(a));
    }
    const char* p = static_cast<const char*>(block);
    while (block_size > 0) {
      const ssize_t n = ::pwrite(fd, p, block_size, offset);
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
}

void LayerUnpacker::finish() const {
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
