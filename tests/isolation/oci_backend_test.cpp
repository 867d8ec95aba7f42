// The OCI backend's own behaviour: its seccomp translation, clean-up after a killed node, the
// refusal of a runtime that cannot work here, image roots. Real runc and crun; needs root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>

#include "background_queue.hpp"
#include "ember/isolation/sandbox.hpp"
#include "oci_config.hpp"
#include "oci_runtime.hpp"
#include "seccomp_policy.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kTestcases = fs::path(EMBER_BINARY_DIR) / "tests/testcases/c";

OciOptions options(const std::string& runtime = "runc") {
  OciOptions o;
  o.runtime = runtime;
  // Per test process: ctest runs tests in parallel, and a new backend deletes every ember
  // container of its state directory.
  o.state_dir = "/run/ember/oci-unit-" + std::to_string(::getpid()) + "-" + runtime;
  o.cgroup_parent = "ember-test-oci-unit";
  return o;
}

// Each rule of the native policy becomes entries with the same errno and argument test.
TEST(OciSeccomp, TranslatesEveryRuleOfTheNativePolicy) {
  auto rules = resolve_seccomp_rules({});
  ASSERT_TRUE(rules);
  const auto seccomp = oci_seccomp(*rules);
  EXPECT_EQ(seccomp.at("defaultAction"), "SCMP_ACT_ALLOW");
  const auto& syscalls = seccomp.at("syscalls").as_array();
  std::size_t expected = 0;
  for (const auto& rule : *rules) expected += filter_entries(rule).size();
  ASSERT_EQ(syscalls.size(), expected);
  const auto find = [&](const std::string& name) {
    std::vector<json::object> found;
    for (const auto& s : syscalls) {
      if (s.at("names").as_array().at(0) == name.c_str()) found.push_back(s.as_object());
    }
    return found;
  };
  const auto mount = find("mount");
  ASSERT_EQ(mount.size(), 1U);
  EXPECT_EQ(mount[0].at("action"), "SCMP_ACT_ERRNO");
  EXPECT_EQ(mount[0].at("errnoRet"), EPERM);
  EXPECT_FALSE(mount[0].contains("args"));
  const auto clone3 = find("clone3");
  ASSERT_EQ(clone3.size(), 1U);
  EXPECT_EQ(clone3[0].at("errnoRet"), ENOSYS);
  const auto clone = find("clone");
  ASSERT_EQ(clone.size(), 7U);  // one per CLONE_NEW* flag
  for (const auto& entry : clone) {
    const auto& arg = entry.at("args").as_array().at(0).as_object();
    EXPECT_EQ(arg.at("index"), 0);
    EXPECT_EQ(arg.at("op"), "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(arg.at("value"), arg.at("valueTwo"));  // mask and value: the flag
  }
  const auto personality = find("personality");
  ASSERT_EQ(personality.size(), 32U);  // one per pair of neighbouring bits, set then clear
  for (const auto& entry : personality) {
    const auto& arg = entry.at("args").as_array().at(0).as_object();
    const auto mask = arg.at("value").to_number<std::uint64_t>();
    const auto value = arg.at("valueTwo").to_number<std::uint64_t>();
    EXPECT_EQ(mask >> 32U, 0U);  // the low 32 bits only: personality takes an unsigned int
    EXPECT_EQ(__builtin_popcountll(mask), 2);
    EXPECT_EQ(__builtin_popcountll(value), 1);
    EXPECT_EQ(mask & value, value);
  }
  const auto socket = find("socket");
  EXPECT_EQ(socket.size(), 42U);  // every family below AF_MAX but unix, inet, inet6, netlink
  for (const auto& entry : socket) {
    const auto& arg = entry.at("args").as_array().at(0).as_object();
    EXPECT_EQ(arg.at("value").to_number<std::uint64_t>(), 0xffffffffU);
  }
}

TEST(OciSeccomp, FollowsTheFunctionsChanges) {
  auto rules = resolve_seccomp_rules({.extra_deny = {"getpid"}, .allow = {"ptrace"}});
  ASSERT_TRUE(rules);
  const auto text = json::serialize(oci_seccomp(*rules));
  EXPECT_NE(text.find("\"getpid\""), std::string::npos);
  EXPECT_EQ(text.find("\"ptrace\""), std::string::npos);
}

class OciBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "OCI containers need root";
    output_ = UniqueFd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(output_.valid());
  }

  std::string output() const {
    std::string text(1 << 16, '\0');
    const ssize_t n = ::pread(output_.get(), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }

  std::optional<ExitStatus> run(SandboxBackend& backend, const SandboxSpec& spec) {
    auto sandbox = backend.create(spec);
    EXPECT_TRUE(sandbox) << sandbox.error().message();
    if (!sandbox) return std::nullopt;
    pollfd pfd{(*sandbox)->exit_fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 10'000) <= 0) return std::nullopt;
    return (*sandbox)->try_reap();
  }

  void TearDown() override {
    BackgroundQueue::instance().drain();
    for (const char* runtime : {"runc", "crun", ""}) fs::remove_all(options(runtime).state_dir);
  }

  UniqueFd output_;
};

// A node killed with containers running leaves them in the runtime's state root; the next
// backend deletes every one with ember's prefix, and their cgroups and bundles.
TEST_F(OciBackendTest, ANewBackendDeletesContainersALeftBehind) {
  const auto o = options();
  {
    auto backend = make_oci_backend(o);
    ASSERT_TRUE(backend) << backend.error().message();
  }
  // A container made by hand as a killed node would have left it: created, never started.
  const fs::path bundle = o.state_dir / "bundles" / "ember-crashed";
  fs::create_directories(bundle);
  std::ofstream(bundle / "cgroup") << "/ember-test-oci-unit/ember-crashed";
  const std::string config = R"({"ociVersion":"1.0.2","process":{"args":["/bin/sh"],"cwd":"/",
    "user":{"uid":0,"gid":0}},"root":{"path":")" +
                             (o.state_dir / "root").string() +
                             R"(","readonly":true},"mounts":[{"destination":"/usr","type":"bind",
    "source":"/usr","options":["rbind","ro"]},{"destination":"/proc","type":"proc","source":"proc"}],
    "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],
    "cgroupsPath":"/ember-test-oci-unit/ember-crashed/container"}})";
  std::ofstream(bundle / "config.json") << config;
  auto runtime = OciRuntime::find("runc", o.state_dir);
  ASSERT_TRUE(runtime);
  ASSERT_TRUE(runtime->command({"create", "--bundle", bundle.string(), "ember-crashed"},
                               std::chrono::seconds(10)));
  ASSERT_TRUE(fs::exists(o.state_dir / "runc" / "ember-crashed"));
  const fs::path cgroup = "/sys/fs/cgroup/pids/ember-test-oci-unit/ember-crashed/container";
  ASSERT_TRUE(fs::exists(cgroup));
  std::vector<pid_t> pids;
  {
    std::ifstream procs(cgroup / "cgroup.procs");
    for (pid_t pid = 0; procs >> pid;) pids.push_back(pid);
  }
  ASSERT_FALSE(pids.empty());

  auto backend = make_oci_backend(o);
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_FALSE(fs::exists(o.state_dir / "runc" / "ember-crashed"));
  EXPECT_FALSE(fs::exists(bundle));
  EXPECT_FALSE(fs::exists(cgroup.parent_path()));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/devices/ember-test-oci-unit/ember-crashed"));
  for (const pid_t pid : pids) {
    // runc's init was the runtime's orphan: gone, or a zombie of the host's pid 1 at most.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    EXPECT_TRUE(line.empty() || line.find(") Z ") != std::string::npos) << line;
  }
}

// crun cannot start a container on a cgroup v1 hybrid host; the error is crun's own.
TEST_F(OciBackendTest, ARuntimeThatCannotWorkHereIsRefusedWithItsOwnMessage) {
  auto crun = detect_oci_support(options("crun"));
  if (crun) GTEST_SKIP() << "crun works on this host (" << crun->string() << "): nothing to refuse";
  const std::string message = crun.error().message();
  EXPECT_NE(message.find("crun"), std::string::npos) << message;
  if (!fs::exists("/sys/fs/cgroup/unified")) return;  // the hybrid layout's own words below
  EXPECT_NE(
      message.find("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"),
      std::string::npos)
      << message;
  // With no runtime named, detection goes on to runc, which works here.
  auto o = options("");
  auto any = detect_oci_support(o);
  ASSERT_TRUE(any) << any.error().message();
  EXPECT_EQ(any->filename(), "runc");
}

TEST_F(OciBackendTest, AnUnknownRuntimeIsNamed) {
  auto missing = make_oci_backend(options("no-such-runtime"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("OCI runtime no-such-runtime: not found in PATH"),
            std::string::npos)
      << missing.error().message();
}

// An image function's root: a tiny root dir (busybox-static, a static C program), read-only,
// with a writable /tmp.
TEST_F(OciBackendTest, AnImageRootIsTheReadOnlyRootWithAWritableTmp) {
  const fs::path busybox = "/bin/busybox";
  if (!fs::exists(busybox)) GTEST_SKIP() << "needs busybox-static (Debian: busybox-static)";
  const fs::path image = "/run/ember/oci-unit-image-" + std::to_string(::getpid());
  fs::remove_all(image);
  for (const char* dir : {"bin", "tmp", "proc", "dev", "var/task"})
    fs::create_directories(image / dir);
  fs::permissions(image / "tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file(busybox, image / "bin/busybox");
  fs::create_symlink("busybox", image / "bin/sh");
  std::ofstream(image / "marker") << "from the image\n";
  auto backend = make_oci_backend(options());
  ASSERT_TRUE(backend) << backend.error().message();
  SandboxSpec spec;
  spec.id = "image-" + std::to_string(::getpid());
  spec.image_root = image;
  spec.argv = {"/bin/sh", "-c",
               "cat /marker; (echo x > /marker) 2>/dev/null || echo root-ro; echo t > /tmp/t && "
               "echo tmp-rw; ls /usr 2>/dev/null || echo no-usr; pwd"};
  spec.env = {"PATH=/bin"};
  spec.working_dir = "/var/task";
  spec.output_fd = output_.get();
  const auto status = run(**backend, spec);
  ASSERT_TRUE(status) << output();
  EXPECT_EQ(status->describe(), "exit status 0") << output();
  EXPECT_EQ(output(), "from the image\nroot-ro\ntmp-rw\nno-usr\n/var/task\n");
  BackgroundQueue::instance().drain();
  fs::remove_all(image);
}

}  // namespace
}  // namespace ember::isolation
