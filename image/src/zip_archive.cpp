#include "ember/image/zip_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "archive_error.hpp"
#include "beneath.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "sha256.hpp"

namespace ember::image {

namespace {

using isolation::UniqueFd;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string errno_text(int err) { return std::generic_category().message(err); }

// Thrown inside the unpacker and turned into the returned reason.
class Refusal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whether a symlink at `entry_parent` ("a/b") pointing to `target` stays inside the root,
// judged on the text alone (the unpacker never follows links, and the sandbox sees the
// code directory as its own /var/task, so what matters is where the name leads).
bool target_stays_inside(const std::string& entry_parent, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string_view> parts;
  std::string_view parent = entry_parent;
  while (!parent.empty()) {
    const auto slash = parent.find('/');
    parts.push_back(parent.substr(0, slash));
    parent.remove_prefix(slash == std::string_view::npos ? parent.size() : slash + 1);
  }
  while (!target.empty()) {
    const auto slash = target.find('/');
    const auto part = target.substr(0, slash);
    target.remove_prefix(slash == std::string_view::npos ? target.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  return true;
}

class ZipUnpacker {
 public:
  ZipUnpacker(int root_fd, const ZipLimits& limits) : root_fd_(root_fd), limits_(limits) {}

  UnpackedZip run(std::string_view zip) {
    std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_memory(a.get(), zip.data(), zip.size()) != ARCHIVE_OK) {
      throw Refusal(std::string("not a zip archive: ") + archive_error(a.get()));
    }
    archive_entry* entry = nullptr;
    for (;;) {
      const int status = archive_read_next_header(a.get(), &entry);
      if (status == ARCHIVE_EOF) break;
      if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
        throw Refusal(std::string("corrupt zip archive") +
                      (done_.entries == 0 ? "" : " after entry \"" + entry_ + "\"") + ": " +
                      archive_error(a.get()));
      }
      if (++done_.entries > limits_.max_entries) {
        throw Refusal("more than " + std::to_string(limits_.max_entries) +
                      " entries (the limit of a deployment package)");
      }
      apply(a.get(), entry);
    }
    return done_;
  }

 private:
  [[noreturn]] void refuse(const std::string& what) const {
    throw Refusal("entry \"" + entry_ + "\": " + what);
  }

  void apply(archive* a, archive_entry* entry) {
    const char* raw = archive_entry_pathname(entry);
    entry_ = raw != nullptr ? raw : "";
    std::string problem;
    const auto path = split_path(entry_, problem);
    if (!path) refuse("refused, " + problem + " (would write outside the code directory)");
    if (path->name.empty()) return;  // the root itself
    if (archive_entry_hardlink(entry) != nullptr) {
      refuse("refused, hard link to \"" + std::string(archive_entry_hardlink(entry)) +
             "\" (a deployment package holds no hard links)");
    }
    const UniqueFd parent = open_parent(path->parent);
    const auto perm = static_cast<mode_t>(archive_entry_perm(entry) & 0777);
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR:
        if (::mkdirat(parent.get(), path->name.c_str(), 0755) != 0 && errno != EEXIST) {
          refuse("mkdir: " + errno_text(errno));
        }
        return;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        const std::string text = target != nullptr ? target : "";
        if (!target_stays_inside(path->parent, text)) {
          refuse("refused, symbolic link to \"" + text + "\" leads outside the code directory");
        }
        if (::symlinkat(text.c_str(), parent.get(), path->name.c_str()) != 0) {
          refuse(errno == EEXIST ? "duplicate entry" : "symlink: " + errno_text(errno));
        }
        return;
      }
      case AE_IFREG:
      case 0:  // zips made without Unix attributes: a file unless the name ends in '/'
        write_file(a, parent.get(), path->name, perm);
        return;
      default:
        refuse("refused, not a file, directory or symbolic link");
    }
  }

  // The parent directory, made when the archive left it out, opened without following any
  // symlink (a link entry cannot be used to write elsewhere).
  UniqueFd open_parent(const std::string& parent) {
    if (parent.empty()) return UniqueFd(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0));
    int fd = open_beneath(root_fd_, parent, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      make_parents_beneath(root_fd_, parent);
      fd = open_beneath(root_fd_, parent, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) {
      const int err = errno;
      if (err == ELOOP || err == EXDEV || err == ENOTDIR) {
        refuse("refused, its directory \"" + parent +
               "\" is or passes through a symbolic link or a file");
      }
      refuse("directory \"" + parent + "\": " + errno_text(err));
    }
    return UniqueFd(fd);
  }

  void write_file(archive* a, int dir_fd, const std::string& name, mode_t perm) {
    // Readable by everyone, executable by everyone when by anyone: the runtime runs as the
    // sandbox's user, not as the files' owner, and zips are often made 0600 or 0700 (Python's
    // zipfile writes 0600; a zip made on Windows has no Unix modes at all).
    const mode_t mode = perm | 0644U | ((perm & 0111U) != 0 ? 0111U : 0U);
    const UniqueFd fd(
        ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) refuse(errno == EEXIST ? "duplicate entry" : "create: " + errno_text(errno));
    std::vector<char> buffer(std::size_t{1} << 16);
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) refuse(std::string("corrupt data: ") + archive_error(a));
      done_.unpacked_bytes += static_cast<std::uint64_t>(n);
      if (done_.unpacked_bytes > limits_.max_unpacked_bytes) {
        throw Refusal("Unzipped size must be smaller than " +
                      std::to_string(limits_.max_unpacked_bytes) + " bytes (at entry \"" + entry_ +
                      "\")");
      }
      const char* p = buffer.data();
      auto left = static_cast<std::size_t>(n);
      while (left > 0) {
        const ssize_t w = ::write(fd.get(), p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) refuse("write: " + errno_text(errno));
        p += w;
        left -= static_cast<std::size_t>(w);
      }
    }
    // The umask must not take the execute bit a bootstrap needs.
    if (::fchmod(fd.get(), mode) != 0) refuse("chmod: " + errno_text(errno));
  }

  int root_fd_;
  ZipLimits limits_;
  UnpackedZip done_;
  std::string entry_;
};

}  // namespace

std::variant<UnpackedZip, std::string> unpack_zip(std::string_view zip,
                                                  const std::filesystem::path& root,
                                                  const ZipLimits& limits) {
  const UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return "open " + root.string() + ": " + errno_text(errno);
  try {
    return ZipUnpacker(root_fd.get(), limits).run(zip);
  } catch (const Refusal& refusal) {
    return std::string(refusal.what());
  }
}

std::string sha256_raw(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.raw_digest();
}

}  // namespace ember::image
