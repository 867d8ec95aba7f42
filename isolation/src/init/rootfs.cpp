#include "rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "../ember_paths.hpp"
#include "../host_root_paths.hpp"
#include "../proc_masks.hpp"
#include "../sandbox_identity.hpp"

namespace ember::isolation::init {
namespace {

constexpr unsigned long kReadOnly = MS_RDONLY | MS_NOSUID | MS_NODEV;

std::string in_root(const InitConfig& c, const std::string& path) { return c.root + path; }

StepResult make_dir(const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return check(-1, "mkdir " + path);
  return std::nullopt;
}

StepResult make_file(const std::string& path, std::string_view content = {}) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return check(-1, "create " + path);
  const ssize_t n = ::write(fd, content.data(), content.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size())) return check(-1, "write " + path);
  return std::nullopt;
}

// Bind src at dst and remount it with flags (a bind ignores them on the first call). A
// read-only recursive bind is read-only all the way down: a remount reaches only the top
// mount, so mount_setattr(AT_RECURSIVE) sets the submounts' flags too; a kernel without it
// (before 5.12) fails the sandbox rather than leave writable mounts inside.
StepResult bind(const std::string& src, const std::string& dst, unsigned long flags,
                bool recursive) {
  const unsigned long rec = recursive ? MS_REC : 0;
  if (auto r = check(::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND | rec, nullptr),
                     "mount --bind " + src + " " + dst)) {
    return r;
  }
  if (auto r = check(::mount(nullptr, dst.c_str(), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr),
                     "mount -o remount,bind " + dst)) {
    return r;
  }
  if (!recursive || (flags & MS_RDONLY) == 0) return std::nullopt;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  return check(static_cast<int>(::syscall(SYS_mount_setattr, AT_FDCWD, dst.c_str(), AT_RECURSIVE,
                                          &attr, sizeof attr)),
               "mount_setattr(AT_RECURSIVE, read-only) " + dst);
}

// Read-only bind of a host file or directory, creating the mount point; absent sources are
// skipped (a host without /lib32 or /etc/ssl still works).
StepResult bind_host(const std::string& host, const std::string& target, bool recursive) {
  struct stat st {};
  if (::stat(host.c_str(), &st) < 0) return std::nullopt;
  if (S_ISDIR(st.st_mode)) {
    if (auto r = make_dir(target)) return r;
  } else if (auto r = make_file(target)) {
    return r;
  }
  return bind(host, target, kReadOnly, recursive);
}

StepResult make_private(const InitConfig& /*config*/) {
  // Nothing mounted from now on propagates to the host, and no host mount event reaches us.
  return check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
               "mount --make-rprivate /");
}

StepResult mount_root(const InitConfig& c) {
  // Holds only mount points and a few generated files; read-only once assembled.
  if (auto r = check(::mount("tmpfs", c.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                             "size=1m,nr_inodes=4096,mode=0755"),
                     "mount -t tmpfs " + c.root)) {
    return r;
  }
  for (const char* dir : {"/etc", "/var", "/proc", "/dev", "/tmp"}) {
    if (auto r = make_dir(in_root(c, dir))) return r;
  }
  return std::nullopt;
}

StepResult bind_system(const InitConfig& c) {
  if (auto r = bind_host("/usr", in_root(c, "/usr"), true)) return r;
  // Merged-/usr hosts (Debian 12) have /bin -> usr/bin: copy the link, not the directory.
  for (const char* top : kHostSystemDirs) {
    struct stat st {};
    if (::lstat(top, &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[256];
      const ssize_t n = ::readlink(top, target, sizeof target - 1);
      if (n < 0) return check(-1, std::string("readlink ") + top);
      target[n] = '\0';
      if (auto r = check(::symlink(target, in_root(c, top).c_str()),
                         std::string("symlink ") + target + " " + in_root(c, top))) {
        return r;
      }
    } else if (auto r = bind_host(top, in_root(c, top), true)) {
      return r;
    }
  }
  return std::nullopt;
}

// The host's /etc/hosts (absent: empty) with the names Lambda resolves inside every sandbox:
// sandbox.localdomain is where an extension's Telemetry API destination listens, the sandbox's
// own loopback.
std::string hosts_file() {
  std::string text;
  const int fd = ::open("/etc/hosts", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buffer[4096];
    for (ssize_t n = 0; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  return text + "127.0.0.1\tsandbox.localdomain sandbox\n";
}

StepResult populate_etc(const InitConfig& c) {
  for (const char* file : kHostEtcFiles) {
    if (std::string_view(file) == "/etc/hosts") {
      if (auto r = make_file(in_root(c, file), hosts_file())) return r;
      continue;
    }
    if (std::string(file).starts_with("/etc/ssl/")) {
      if (auto r = make_dir(in_root(c, "/etc/ssl"))) return r;
    }
    if (auto r = bind_host(file, in_root(c, file), false)) return r;
  }
  for (const char* dir : kHostEtcDirs) {
    if (auto r = make_dir(in_root(c, "/etc/ssl"))) return r;
    if (auto r = bind_host(dir, in_root(c, dir), false)) return r;
  }
  // Only the sandbox user and root exist inside; /etc/ssl/private stays out.
  if (auto r = make_file(in_root(c, "/etc/passwd"), sandbox_passwd(c.uid, c.gid))) return r;
  if (auto r = make_file(in_root(c, "/etc/group"), sandbox_group(c.gid, c.group))) return r;
  return make_file(in_root(c, "/etc/hostname"), c.hostname + "\n");
}

// Lambda layers at /opt: one is bound; several are a read-only overlayfs whose lower
// directories are the layers, last first (overlayfs puts its leftmost lower directory on top),
// so a later layer's file hides an earlier one's, as Lambda extracting them in order does.
// Neither is recursive: the configuration refuses layers with mount points below them.
StepResult mount_layers(const InitConfig& c) {
  if (c.opt_layers.empty()) return std::nullopt;
  const std::string target = in_root(c, "/opt");
  if (auto r = make_dir(target)) return r;
  if (c.opt_layers.size() == 1) return bind(c.opt_layers.front(), target, kReadOnly, false);
  std::string lower;
  for (auto it = c.opt_layers.rbegin(); it != c.opt_layers.rend(); ++it) {
    lower += (lower.empty() ? "" : ":") + *it;
  }
  const std::string options = "lowerdir=" + lower;
  return check(::mount("overlay", target.c_str(), "overlay", kReadOnly, options.c_str()),
               "mount -t overlay -o ro," + options + " overlay " + target);
}

StepResult bind_function(const InitConfig& c) {
  if (auto r = make_dir(in_root(c, kTaskRoot))) return r;
  // Not recursive: the configuration refuses code directories with mount points below them,
  // and one mounted there later does not come along.
  if (auto r = bind(c.code_dir, in_root(c, kTaskRoot), kReadOnly, false)) return r;
  if (!c.runtime_dir.empty()) {
    if (auto r = make_dir(in_root(c, kRuntimeRoot))) return r;
    if (auto r = bind(c.runtime_dir, in_root(c, kRuntimeRoot), kReadOnly, true)) return r;
  }
  return mount_layers(c);
}

// Each component of an absolute path below the root, as directories (mount points).
StepResult make_dirs(const InitConfig& c, const std::string& path) {
  std::string at;
  for (std::size_t start = 1; start <= path.size();) {
    const auto slash = std::min(path.find('/', start), path.size());
    at = path.substr(0, slash);
    if (auto r = make_dir(in_root(c, at))) return r;
    start = slash + 1;
  }
  return std::nullopt;
}

// The function's `mounts`: not recursive, so no host mount below the source comes along.
StepResult bind_mounts(const InitConfig& c) {
  for (const auto& m : c.mounts) {
    struct stat st {};
    if (::stat(m.source.c_str(), &st) < 0) {
      return check(-1, "stat " + m.source + " (a mount's source)");
    }
    if (!S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return check(-1, "stat " + m.source + " (a mount's source must be a directory)");
    }
    if (auto r = make_dirs(c, m.target)) return r;
    const unsigned long flags = m.read_only ? kReadOnly : MS_NOSUID | MS_NODEV;
    if (auto r = bind(m.source, in_root(c, m.target), flags, false)) return r;
  }
  return std::nullopt;
}

// The image's root is read-only: a small tmpfs on its /mnt holds the mount points, and goes
// read-only once they are bound.
StepResult bind_image_mounts(const InitConfig& c) {
  if (c.mounts.empty()) return std::nullopt;
  const std::string mnt = in_root(c, "/mnt");
  struct stat st {};
  if (::stat(mnt.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return check(-1, "stat " + c.image_root + "/mnt (the image must have it to mount on)");
  }
  if (auto r = check(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                             "size=64k,nr_inodes=256,mode=0755"),
                     "mount -t tmpfs " + mnt)) {
    return r;
  }
  if (auto r = bind_mounts(c)) return r;
  return check(::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | kReadOnly, nullptr),
               "mount -o remount,ro " + mnt);
}

StepResult mount_tmp(const InitConfig& c) {
  // Ephemeral storage. tmpfs pages are charged to the sandbox's memory cgroup
  // (docs/isolation.md: "/tmp and memory").
  const std::string options = "size=" + std::to_string(c.tmp_mb) + "m,mode=1777";
  return check(
      ::mount("tmpfs", in_root(c, "/tmp").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()),
      "mount -t tmpfs -o " + options + " " + in_root(c, "/tmp"));
}

StepResult populate_dev(const InitConfig& c) {
  const std::string dev = in_root(c, "/dev");
  if (auto r = check(::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC,
                             "size=64k,nr_inodes=64,mode=0755"),
                     "mount -t tmpfs " + dev)) {
    return r;
  }
  for (const char* node : {"null", "zero", "full", "random", "urandom"}) {
    const std::string target = dev + "/" + node;
    if (auto r = make_file(target)) return r;
    if (auto r = bind(std::string("/dev/") + node, target, MS_NOSUID | MS_NOEXEC, false)) {
      return r;
    }
  }
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"}};
  for (const auto& [target, name] : links) {
    const std::string link = dev + "/" + name;
    if (auto r = check(::symlink(target, link.c_str()), "symlink " + link)) return r;
  }
  return check(::mount(nullptr, dev.c_str(), nullptr,
                       MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr),
               "mount -o remount,ro " + dev);
}

StepResult mount_proc(const InitConfig& c) {
  // A fresh proc for the new pid namespace: only the sandbox's processes are in it.
  const std::string proc = in_root(c, "/proc");
  return check(::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
               "mount -t proc " + proc);
}

// Hides and freezes what a fresh proc shows of the host (proc_masks.hpp), as runc does for
// its containers: a read-only bind of each read-only path onto itself, then /dev/null over
// each masked file and an empty read-only tmpfs over each masked directory. Paths this kernel
// lacks are skipped.
StepResult mask_proc(const InitConfig& c) {
  for (const char* path : kReadOnlyPaths) {
    const std::string target = in_root(c, path);
    if (::access(target.c_str(), F_OK) < 0) continue;
    if (auto r = bind(target, target, kReadOnly, true)) return r;
  }
  for (const char* path : kMaskedPaths) {
    const std::string target = in_root(c, path);
    struct stat st {};
    if (::stat(target.c_str(), &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (auto r = check(::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY | kReadOnly,
                                 "size=0,nr_inodes=1,mode=0555"),
                         "mount -t tmpfs (empty, read-only) " + target)) {
        return r;
      }
    } else if (auto r = check(::mount("/dev/null", target.c_str(), nullptr, MS_BIND, nullptr),
                              "mount --bind /dev/null " + target)) {
      // A plain bind: remounted nodev, /dev/null would no longer open.
      return r;
    }
  }
  return std::nullopt;
}

// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the
// new root, and no path back to the host's file system.
StepResult pivot_to_root(const InitConfig& c) {
  if (auto r = check(::chdir(c.root.c_str()), "chdir " + c.root)) return r;
  if (auto r = check(::syscall(SYS_pivot_root, ".", "."), "pivot_root . .")) return r;
  if (auto r = check(::umount2(".", MNT_DETACH), "umount2 old root")) return r;
  return check(::chdir("/"), "chdir /");
}

StepResult pivot(const InitConfig& c) {
  if (auto r = pivot_to_root(c)) return r;
  // The root is a tmpfs of this sandbox's own: its superblock can go read-only.
  return check(::mount(nullptr, "/", nullptr, MS_REMOUNT | kReadOnly, nullptr),
               "mount -o remount,ro /");
}

// --- an image function's root: the unpacked image, shared by every sandbox that runs it

StepResult bind_image(const InitConfig& c) {
  // A read-only bind: the remount changes this mount only, never the host file system that
  // holds the image (a remount without MS_BIND would make that whole file system read-only).
  if (auto r = bind(c.image_root, c.root, kReadOnly, true)) return r;
  for (const char* dir : {"/proc", "/dev", "/tmp"}) {
    struct stat st {};
    const std::string path = in_root(c, dir);
    if (::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return check(-1, "stat " + c.image_root + dir + " (the image must have it to mount on)");
    }
  }
  return std::nullopt;
}

constexpr Step kImageSteps[] = {
    {"make mounts private", make_private},
    {"bind the image root", bind_image},
    {"bind mounts", bind_image_mounts},
    {"mount /tmp", mount_tmp},
    {"populate /dev", populate_dev},
    {"mount /proc", mount_proc},
    {"mask /proc", mask_proc},
    {"pivot_root", pivot_to_root},
};

constexpr Step kSteps[] = {
    {"make mounts private", make_private},
    {"mount root tmpfs", mount_root},
    {"bind /usr and /lib", bind_system},
    {"populate /etc", populate_etc},
    {"bind function code", bind_function},
    {"bind mounts", bind_mounts},
    {"mount /tmp", mount_tmp},
    {"populate /dev", populate_dev},
    {"mount /proc", mount_proc},
    {"mask /proc", mask_proc},
    {"pivot_root", pivot},
};

}  // namespace

std::span<const Step> rootfs_steps(const InitConfig& config) {
  if (!config.image_root.empty()) return kImageSteps;
  return kSteps;
}

}  // namespace ember::isolation::init
