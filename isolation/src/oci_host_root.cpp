#include "oci_host_root.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "ember_paths.hpp"
#include "host_root_paths.hpp"
#include "sandbox_identity.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

Result<void> make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return SysError{ec.value(), "mkdir -p " + dir.string(), {}};
  return {};
}

Result<void> write_file(const fs::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return SysError{errno, "write " + file.string(), {}};
  return {};
}

// A mount point for host path `host` inside root: a directory or an empty file, as it is.
Result<bool> add_mount_point(const fs::path& root, const std::string& host) {
  struct stat st {};
  if (::stat(host.c_str(), &st) < 0) return {boost::system::in_place_value, false};  // absent: skip
  const fs::path target = root / fs::path(host).relative_path();
  if (S_ISDIR(st.st_mode)) {
    if (auto r = make_dirs(target); !r) return r.error();
  } else {
    if (auto r = make_dirs(target.parent_path()); !r) return r.error();
    if (auto r = write_file(target, ""); !r) return r.error();
  }
  return {boost::system::in_place_value, true};
}

// /bin, /lib* of the host: symlinks copied (merged /usr), directories as mount points.
Result<void> add_system_dirs(OciHostRoot& root) {
  for (const char* top : kHostSystemDirs) {
    struct stat st {};
    if (::lstat(top, &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(top, ec);
      if (ec) return SysError{ec.value(), std::string("readlink ") + top, {}};
      fs::create_symlink(target, root.dir / fs::path(top).relative_path(), ec);
      if (ec) return SysError{ec.value(), "symlink " + target.string() + " " + top, {}};
      continue;
    }
    auto added = add_mount_point(root.dir, top);
    if (!added) return added.error();
    if (*added) root.binds.emplace_back(top);
  }
  return {};
}

Result<void> add_etc(OciHostRoot& root) {
  for (const auto& list :
       {std::span<const char* const>(kHostEtcFiles), std::span<const char* const>(kHostEtcDirs)}) {
    for (const char* host : list) {
      auto added = add_mount_point(root.dir, host);
      if (!added) return added.error();
      if (*added) root.binds.emplace_back(host);
    }
  }
  return {};
}

// Only the sandbox user and root exist inside, as in the native root. With a user per sandbox
// (OciOptions::ids) each bundle binds its own over these.
Result<void> write_identity(const fs::path& dir, uid_t uid, gid_t gid) {
  if (auto r = write_file(dir / "etc/passwd", sandbox_passwd(uid, gid)); !r) return r;
  if (auto r = write_file(dir / "etc/group", sandbox_group(gid, gid)); !r) return r;
  return write_file(dir / "etc/hostname", "sandbox\n");
}

}  // namespace

Result<OciHostRoot> build_oci_host_root(const fs::path& dir, uid_t uid, gid_t gid) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return SysError{ec.value(), "rm -r " + dir.string(), {}};
  OciHostRoot root{dir, {"/usr"}};
  for (const char* inside :
       {"/etc", "/proc", "/dev", "/tmp", "/usr", kTaskRoot, kRuntimeRoot, "/opt"}) {
    if (auto r = make_dirs(dir / fs::path(inside).relative_path()); !r) return r.error();
  }
  // runc gives a tmpfs the mode of its mount point, whatever the mount's mode= option says.
  fs::permissions(dir / "tmp", fs::perms::all | fs::perms::sticky_bit, ec);
  if (ec) return SysError{ec.value(), "chmod 1777 " + (dir / "tmp").string(), {}};
  if (auto r = add_system_dirs(root); !r) return r.error();
  if (auto r = add_etc(root); !r) return r.error();
  if (auto r = write_identity(dir, uid, gid); !r) return r.error();
  fs::permissions(dir,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  return root;
}

}  // namespace ember::isolation
