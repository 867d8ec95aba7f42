#include "image_source.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <system_error>

#include "archive_error.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::image {

namespace {

using isolation::UniqueFd;

std::string errno_text(int err) { return std::generic_category().message(err); }

class FileStream final : public BlobStream {
 public:
  FileStream(UniqueFd fd, std::uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  std::size_t read(char* buffer, std::size_t capacity) override {
    for (;;) {
      const ssize_t n = ::read(fd_.get(), buffer, capacity);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) throw ImageError("read " + path_ + ": " + errno_text(errno));
    }
  }

 private:
  UniqueFd fd_;
  std::uint64_t size_;
  std::string path_;
};

class DirectorySource final : public ImageSource {
 public:
  explicit DirectorySource(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::unique_ptr<BlobStream> open(const std::string& path) override {
    const std::string full = (dir_ / path).string();
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return nullptr;
      throw ImageError("open " + full + ": " + errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw ImageError("fstat " + full + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) throw ImageError(full + ": not a regular file");
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::make_unique<FileStream>(std::move(fd), static_cast<std::uint64_t>(st.st_size),
                                        full);
  }

 private:
  std::filesystem::path dir_;
};

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// Names inside archives as written by tar, skopeo or docker: "./x", "x" and "/x" are one.
std::string normal_name(std::string_view name) {
  while (name.substr(0, 2) == "./" || name.substr(0, 1) == "/") {
    name.remove_prefix(name[0] == '.' ? 2 : 1);
  }
  return std::filesystem::path(name).lexically_normal().generic_string();
}

ArchivePtr open_archive(const std::filesystem::path& file) {
  ArchivePtr a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw ImageError("open " + file.string() + ": " + archive_error(a.get()));
  }
  return a;
}

// An entry of the archive, found on the first read(): the size is known from the listing,
// so resolving an image reads no layer.
class ArchiveEntryStream final : public BlobStream {
 public:
  ArchiveEntryStream(std::filesystem::path file, std::string name, std::uint64_t size)
      : file_(std::move(file)), name_(std::move(name)), size_(size) {}
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  std::size_t read(char* buffer, std::size_t capacity) override {
    if (!archive_) find();
    const la_ssize_t n = archive_read_data(archive_.get(), buffer, capacity);
    if (n < 0) {
      throw ImageError("read " + file_.string() + ": " + name_ + ": " +
                       archive_error(archive_.get()));
    }
    return static_cast<std::size_t>(n);
  }

 private:
  void find() {
    auto a = open_archive(file_);
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
      if (normal_name(archive_entry_pathname(entry)) == name_) {
        archive_ = std::move(a);
        return;
      }
    }
    throw ImageError("read " + file_.string() + ": " + name_ + " vanished while reading");
  }

  std::filesystem::path file_;
  std::string name_;
  std::uint64_t size_;
  ArchivePtr archive_;
};

// A tar read with libarchive. The first open() lists the headers (libarchive seeks over the
// data); each stream then reads the archive again up to its entry, so a multi-gigabyte
// archive is never held in memory.
class ArchiveSource final : public ImageSource {
 public:
  explicit ArchiveSource(std::filesystem::path file) : file_(std::move(file)) {}

  std::unique_ptr<BlobStream> open(const std::string& path) override {
    if (!listed_) list();
    std::string name = normal_name(path);
    // docker save writes repeated layers as links to the first copy.
    for (int hops = 0;; ++hops) {
      const auto it = entries_.find(name);
      if (it == entries_.end()) return nullptr;
      if (it->second.link.empty()) {
        return std::make_unique<ArchiveEntryStream>(file_, name, it->second.size);
      }
      if (hops == 8) throw ImageError(file_.string() + ": " + path + ": too many links");
      name = it->second.link;
    }
  }

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::string link;  // the entry a hard or symbolic link names, else empty
  };

  void list() {
    auto a = open_archive(file_);
    archive_entry* entry = nullptr;
    int status = 0;
    while ((status = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
      const std::string name = normal_name(archive_entry_pathname(entry));
      Entry e;
      if (const char* hard = archive_entry_hardlink(entry)) {
        e.link = normal_name(hard);
      } else if (archive_entry_filetype(entry) == AE_IFLNK) {
        const std::filesystem::path dir = std::filesystem::path(name).parent_path();
        e.link = normal_name((dir / archive_entry_symlink(entry)).generic_string());
      } else if (archive_entry_filetype(entry) != AE_IFREG) {
        continue;
      }
      e.size = static_cast<std::uint64_t>(archive_entry_size(entry));
      entries_[name] = std::move(e);
    }
    if (status != ARCHIVE_EOF) {
      throw ImageError("read " + file_.string() + ": " + archive_error(a.get()));
    }
    listed_ = true;
  }

  std::filesystem::path file_;
  bool listed_ = false;
  std::map<std::string, Entry> entries_;
};

}  // namespace

std::unique_ptr<ImageSource> open_source(const ImageRef& ref) {
  std::error_code ec;
  const auto status = std::filesystem::status(ref.path, ec);
  if (ref.transport == Transport::kOciLayout) {
    if (!std::filesystem::is_directory(status)) {
      throw ImageError(ref.path.string() + ": no such directory (an OCI image layout)");
    }
    return std::make_unique<DirectorySource>(ref.path);
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw ImageError(ref.path.string() + ": no such file");
  }
  return std::make_unique<ArchiveSource>(ref.path);
}

std::string read_all(BlobStream& stream, std::uint64_t limit, const std::string& what) {
  if (stream.size() > limit) {
    throw ImageError(what + ": " + std::to_string(stream.size()) + " bytes, more than the " +
                     std::to_string(limit) + " allowed");
  }
  std::string data(stream.size(), '\0');
  std::size_t at = 0;
  for (;;) {
    if (at == data.size()) data.resize(data.size() + 4096);
    const std::size_t n = stream.read(data.data() + at, data.size() - at);
    if (n == 0) break;
    at += n;
    if (at > limit) {
      throw ImageError(what + ": more than the " + std::to_string(limit) + " bytes allowed");
    }
  }
  data.resize(at);
  return data;
}

}  // namespace ember::image
