// What a native sandbox binds from the host is read-only all the way down: a mount below a
// bound host directory (here a tmpfs below /usr, as a host might mount /usr/local) is not a
// writable way out of the sandbox.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "../support/tmpfs_mount.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;

// Removes the directory the test made, once what was mounted on it is gone.
struct MadeDirectory {
  fs::path path;
  ~MadeDirectory() {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
};

TEST(ReadOnlyMounts, AMountBelowABoundHostDirectoryIsReadOnlyInTheSandbox) {
  if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes and mount(2) need root";
  if (!fs::exists("/sys/fs/cgroup/memory") && !fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    GTEST_SKIP() << "no cgroup hierarchy";
  }
  const MadeDirectory point{fs::path("/usr/local/share") /
                            ("ember-readonly-test-" + std::to_string(::getpid()))};
  fs::create_directories(point.path);
  const TmpfsMount mount(point.path, "1m");
  ASSERT_EQ(mount.error(), 0) << std::strerror(mount.error());
  // Anyone may write there on the host: only the mount's flags can stop the sandbox user.
  ASSERT_EQ(::chmod(point.path.c_str(), 01777), 0);

  const TempDir code_dir("ember-readonly-code-");
  std::ofstream(code_dir.path() / "lambda_function.py")
      << "import errno\n\n\n"
      << "def lambda_handler(event, context):\n"
      << "    try:\n"
      << "        with open(event[\"path\"] + \"/written\", \"w\") as f:\n"
      << "            f.write(\"x\")\n"
      << "        return \"written\"\n"
      << "    except OSError as e:\n"
      << "        return errno.errorcode[e.errno]\n";
  fs::permissions(code_dir.path(), fs::perms::owner_all | fs::perms::others_read |
                                       fs::perms::others_exec | fs::perms::group_read |
                                       fs::perms::group_exec);
  Node node({{.name = "writer", .code = code_dir.path(), .isolation = "native"}});
  const auto reply = node.invoke("writer", R"({"path": ")" + point.path.string() + R"("})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, R"("EROFS")") << "a mount below /usr was writable in the sandbox";
  EXPECT_FALSE(fs::exists(point.path / "written"));
}

}  // namespace
}  // namespace ember::test
