#include "cgroup.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cgroup_files.hpp"

namespace ember::isolation {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void put(const fs::path& file, std::string_view text) { std::ofstream(file) << text; }

// A temporary directory that plays cgroupfs: the test is the kernel, creating each new
// directory's control files and emptying directories before rmdir.
class FakeCgroupFs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ember-fake-cgroupfs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  CgroupOptions options(std::vector<std::string> files) {
    CgroupOptions options;
    options.hooks.after_mkdir = [this, files](const fs::path& dir) {
      made_.insert(dir);
      for (const auto& name : files) put(dir / name, "");
    };
    options.hooks.before_rmdir = [this](const fs::path& dir) {
      removed_.insert(dir);
      for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file()) fs::remove(entry.path());
      }
    };
    return options;
  }

  fs::path root_;
  std::set<fs::path> made_;
  std::set<fs::path> removed_;
};

const std::vector<std::string> kV1Files = {"cgroup.procs",
                                           "memory.limit_in_bytes",
                                           "memory.memsw.limit_in_bytes",
                                           "memory.max_usage_in_bytes",
                                           "memory.oom_control",
                                           "memory.failcnt",
                                           "cpu.cfs_period_us",
                                           "cpu.cfs_quota_us",
                                           "pids.max",
                                           "freezer.state"};

const std::vector<std::string> kV2Files = {
    "cgroup.procs", "cgroup.subtree_control", "cgroup.freeze", "cgroup.events",  "cgroup.kill",
    "memory.max",   "memory.swap.max",        "memory.events", "memory.current", "cpu.max",
    "pids.max"};

class CgroupV1Fake : public FakeCgroupFs {
 protected:
  std::map<std::string, fs::path> mounts() {
    std::map<std::string, fs::path> m;
    for (const char* c : {"memory", "cpu", "pids", "freezer"}) {
      m[c] = root_ / c;
      fs::create_directories(root_ / c);
    }
    m["cpuacct"] = root_ / "cpu";  // co-mounted, as "cpu,cpuacct" often is
    return m;
  }
};

TEST(CpuQuota, IsProportionalToMemoryWithOneCpuAt1769Mb) {
  EXPECT_EQ(cpu_quota_us(1769, 100'000), 100'000u);
  EXPECT_EQ(cpu_quota_us(128, 100'000), 7'235u);
  EXPECT_EQ(cpu_quota_us(10'240, 100'000), 578'858u);
  EXPECT_EQ(cpu_quota_us(1, 100'000), 1'000u);  // the kernel's minimum
}

TEST_F(CgroupV1Fake, CreateWritesLimitsIntoEachHierarchy) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{128, 1024});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(slurp(root_ / "memory/ember/sb1/memory.limit_in_bytes"), "134217728");
  EXPECT_EQ(slurp(root_ / "memory/ember/sb1/memory.memsw.limit_in_bytes"), "134217728");
  EXPECT_EQ(slurp(root_ / "cpu/ember/sb1/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(slurp(root_ / "cpu/ember/sb1/cpu.cfs_quota_us"), "7235");
  EXPECT_EQ(slurp(root_ / "pids/ember/sb1/pids.max"), "1024");
  EXPECT_EQ((*cgroup)->path(), root_ / "memory/ember/sb1");
}

TEST_F(CgroupV1Fake, InitBurstStartsWithoutQuotaUntilLimitCpu) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{128, 1024, true});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(slurp(root_ / "cpu/ember/sb1/cpu.cfs_quota_us"), "-1");
  ASSERT_TRUE((*cgroup)->limit_cpu(128));
  EXPECT_EQ(slurp(root_ / "cpu/ember/sb1/cpu.cfs_quota_us"), "7235");
}

TEST_F(CgroupV1Fake, WithoutSwapAccountingSetsSwappinessZero) {
  auto files = kV1Files;
  std::erase(files, "memory.memsw.limit_in_bytes");
  files.push_back("memory.swappiness");
  auto manager = make_cgroup_v1_manager(mounts(), options(files));
  auto cgroup = manager->create("sb1", CgroupLimits{256, 1024});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(slurp(root_ / "memory/ember/sb1/memory.swappiness"), "0");
  EXPECT_EQ(slurp(root_ / "memory/ember/sb1/memory.limit_in_bytes"), "268435456");
}

TEST_F(CgroupV1Fake, AttachWritesThePidIntoEveryHierarchy) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  // A pid beyond pid_max: a fake cgroup.procs must never name a real process to SIGKILL.
  ASSERT_TRUE((*cgroup)->attach(999999999));
  for (const char* c : {"memory", "cpu", "pids", "freezer"}) {
    EXPECT_EQ(slurp(root_ / c / "ember/sb1/cgroup.procs"), "999999999") << c;
    put(root_ / c / "ember/sb1/cgroup.procs",
        "");  // the kernel empties it; no such pid exists anyway
  }
}

TEST_F(CgroupV1Fake, FreezeAndThawWriteTheFreezerState) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  ASSERT_TRUE((*cgroup)->freeze());
  EXPECT_EQ(slurp(root_ / "freezer/ember/sb1/freezer.state"), "FROZEN");
  ASSERT_TRUE((*cgroup)->thaw());
  EXPECT_EQ(slurp(root_ / "freezer/ember/sb1/freezer.state"), "THAWED");
}

TEST_F(CgroupV1Fake, RequestFreezeWritesTheFreezerState) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  put(root_ / "freezer/ember/sb1/freezer.state", "THAWED");
  ASSERT_TRUE((*cgroup)->request_freeze());
  EXPECT_EQ(slurp(root_ / "freezer/ember/sb1/freezer.state"), "FROZEN");
}

TEST_F(CgroupV1Fake, ReadsPeakMemoryAndOomKills) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  put(root_ / "memory/ember/sb1/memory.max_usage_in_bytes", "5242880\n");
  put(root_ / "memory/ember/sb1/memory.oom_control",
      "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  EXPECT_EQ((*cgroup)->peak_memory_bytes(), 5242880u);
  EXPECT_FALSE((*cgroup)->oom_killed());
  put(root_ / "memory/ember/sb1/memory.oom_control",
      "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  EXPECT_TRUE((*cgroup)->oom_killed());
}

TEST_F(CgroupV1Fake, DestructionRemovesEveryDirectoryItMade) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  {
    auto cgroup = manager->create("sb1", CgroupLimits{});
    ASSERT_TRUE(cgroup);
    EXPECT_TRUE(fs::exists(root_ / "pids/ember/sb1"));
  }
  for (const char* c : {"memory", "cpu", "pids", "freezer"}) {
    EXPECT_FALSE(fs::exists(root_ / c / "ember/sb1")) << c;
    EXPECT_TRUE(fs::exists(root_ / c / "ember")) << "the shared parent stays";
  }
}

TEST_F(CgroupV1Fake, AFailedWriteNamesTheFileAndRemovesTheCgroup) {
  auto files = kV1Files;
  std::erase(files, "pids.max");  // open(O_WRONLY) of a missing control file fails
  auto manager = make_cgroup_v1_manager(mounts(), options(files));
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_FALSE(cgroup);
  EXPECT_NE(cgroup.error().message().find("pids/ember/sb1/pids.max"), std::string::npos)
      << cgroup.error().message();
  EXPECT_EQ(cgroup.error().err, ENOENT);
  EXPECT_FALSE(fs::exists(root_ / "memory/ember/sb1"));
}

TEST_F(CgroupV1Fake, AnExistingCgroupIsAnErrorWithAHint) {
  auto manager = make_cgroup_v1_manager(mounts(), options(kV1Files));
  fs::create_directories(root_ / "cpu/ember/sb1");
  auto cgroup = manager->create("sb1", CgroupLimits{});
  ASSERT_FALSE(cgroup);
  EXPECT_EQ(cgroup.error().err, EEXIST);
  EXPECT_NE(cgroup.error().hint.find("leftover"), std::string::npos);
}

class CgroupV2Fake : public FakeCgroupFs {};

TEST_F(CgroupV2Fake, EnablesControllersAndWritesLimits) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager) << manager.error().message();
  EXPECT_EQ((*manager)->version(), CgroupVersion::kV2);
  EXPECT_EQ(slurp(root_ / "cgroup.subtree_control"), "+memory +cpu +pids");
  EXPECT_EQ(slurp(root_ / "ember/cgroup.subtree_control"), "+memory +cpu +pids");
  auto cgroup = (*manager)->create("sb2", CgroupLimits{1769, 1024});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  const auto dir = root_ / "ember/sb2";
  EXPECT_EQ(slurp(dir / "memory.max"), std::to_string(1769ull << 20));
  EXPECT_EQ(slurp(dir / "memory.swap.max"), "0");
  EXPECT_EQ(slurp(dir / "cpu.max"), "100000 100000");
  EXPECT_EQ(slurp(dir / "pids.max"), "1024");
  ASSERT_TRUE((*cgroup)->attach(999999998));
  EXPECT_EQ(slurp(dir / "cgroup.procs"), "999999998");
  put(dir / "cgroup.procs", "");  // the kernel empties it; no such pid exists anyway
}

TEST_F(CgroupV2Fake, InitBurstStartsWithoutQuotaUntilLimitCpu) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager);
  auto cgroup = (*manager)->create("sb2", CgroupLimits{128, 1024, true});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(slurp(root_ / "ember/sb2/cpu.max"), "max 100000");
  ASSERT_TRUE((*cgroup)->limit_cpu(128));
  EXPECT_EQ(slurp(root_ / "ember/sb2/cpu.max"), "7235 100000");
}

TEST_F(CgroupV2Fake, FreezesThroughCgroupFreeze) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager);
  auto cgroup = (*manager)->create("sb2", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  put(root_ / "ember/sb2/cgroup.events", "populated 1\nfrozen 1\n");  // the kernel's answer
  ASSERT_TRUE((*cgroup)->freeze());
  EXPECT_EQ(slurp(root_ / "ember/sb2/cgroup.freeze"), "1");
  ASSERT_TRUE((*cgroup)->thaw());
  EXPECT_EQ(slurp(root_ / "ember/sb2/cgroup.freeze"), "0");
}

TEST_F(CgroupV2Fake, PeakFallsBackToSampledCurrentWithoutMemoryPeak) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager);
  auto cgroup = (*manager)->create("sb2", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  put(root_ / "ember/sb2/memory.current", "3000\n");
  EXPECT_EQ((*cgroup)->peak_memory_bytes(), 3000u);
  put(root_ / "ember/sb2/memory.current", "1000\n");
  EXPECT_EQ((*cgroup)->peak_memory_bytes(), 3000u);
  put(root_ / "ember/sb2/memory.peak", "9000\n");
  EXPECT_EQ((*cgroup)->peak_memory_bytes(), 9000u);
}

TEST_F(CgroupV2Fake, OomKillComesFromMemoryEvents) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager);
  auto cgroup = (*manager)->create("sb2", CgroupLimits{});
  ASSERT_TRUE(cgroup);
  put(root_ / "ember/sb2/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
  EXPECT_FALSE((*cgroup)->oom_killed());
  put(root_ / "ember/sb2/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  EXPECT_TRUE((*cgroup)->oom_killed());
}

TEST_F(CgroupV2Fake, KillWritesCgroupKillAndDestructionRemovesTheDirectory) {
  for (const auto& name : kV2Files) put(root_ / name, "");
  auto manager = make_cgroup_v2_manager(root_, options(kV2Files));
  ASSERT_TRUE(manager);
  {
    auto cgroup = (*manager)->create("sb2", CgroupLimits{});
    ASSERT_TRUE(cgroup);
    ASSERT_TRUE((*cgroup)->kill_all());
    EXPECT_EQ(slurp(root_ / "ember/sb2/cgroup.kill"), "1");
  }
  EXPECT_FALSE(fs::exists(root_ / "ember/sb2"));
  EXPECT_TRUE(fs::exists(root_ / "ember"));
}

TEST(CgroupDetection, HybridHostWithEmptyUnifiedMountIsV1) {
  const std::string mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
      "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  const auto mounts = parse_cgroup_mounts(mountinfo, [](const fs::path&) { return "hugetlb\n"; });
  EXPECT_TRUE(mounts.unified.empty());
  EXPECT_EQ(mounts.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts.v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(mounts.v1.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_FALSE(mounts.v1.contains("name=systemd"));
}

TEST(CgroupDetection, UnifiedMountWithControllersIsV2) {
  const std::string mountinfo =
      "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  const auto mounts = parse_cgroup_mounts(
      mountinfo, [](const fs::path&) { return "cpuset cpu io memory hugetlb pids rdma misc\n"; });
  EXPECT_EQ(mounts.unified, "/sys/fs/cgroup");
}

TEST(CgroupDetection, OwnUnifiedCgroupIsTheZeroLine) {
  EXPECT_EQ(own_unified_cgroup("4:memory:/x\n0::/system.slice/ember.service\n"),
            "/system.slice/ember.service");
  EXPECT_EQ(own_unified_cgroup("4:memory:/x\n"), "");
}

// --- the real hierarchy of this machine

class RealCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    auto manager = detect_cgroup_manager();
    if (!manager) GTEST_SKIP() << "no usable cgroup hierarchy: " << manager.error().message();
    manager_ = std::move(*manager);
  }
  std::string id(std::string_view what) {
    return "test-" + std::string(what) + "-" + std::to_string(::getpid());
  }
  std::unique_ptr<CgroupManager> manager_;
};

// Forks a child that waits for one byte on a pipe, then runs body and exits 0.
template <class Body>
pid_t fork_waiting_child(int& go_fd, Body body) {
  int fds[2];
  if (::pipe(fds) < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[1]);
    char c = 0;
    if (::read(fds[0], &c, 1) != 1) ::_exit(3);
    body();
    ::_exit(0);
  }
  ::close(fds[0]);
  go_fd = fds[1];
  return pid;
}

// Gone, or a zombie that only waits for its (new) parent to reap it.
bool ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST_F(RealCgroup, DestructionKillsEveryProcessAndRemovesTheCgroup) {
  // The child forks a grandchild inside the cgroup and reports its pid on this pipe.
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  int go = -1;
  const pid_t child = fork_waiting_child(go, [&] {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      for (;;) ::pause();
    }
    if (::write(report[1], &grandchild, sizeof grandchild) != sizeof grandchild) ::_exit(4);
    for (;;) ::pause();
  });
  ASSERT_GT(child, 0);
  ::close(report[1]);
  fs::path dir;
  pid_t grandchild = 0;
  {
    auto cgroup = manager_->create(id("kill"), CgroupLimits{64, 64});
    ASSERT_TRUE(cgroup) << cgroup.error().message();
    dir = (*cgroup)->path();
    ASSERT_TRUE((*cgroup)->attach(child)) << "attach";
    ASSERT_EQ(::write(go, "x", 1), 1);
    ::close(go);
    ASSERT_TRUE((*cgroup)->freeze());
    ASSERT_TRUE((*cgroup)->thaw());
    // The grandchild exists (and joined the cgroup at fork) once its pid arrives.
    ASSERT_EQ(::read(report[0], &grandchild, sizeof grandchild),
              static_cast<ssize_t>(sizeof grandchild));
    ::close(report[0]);
    EXPECT_NE(slurp(dir / "cgroup.procs").find(std::to_string(grandchild)), std::string::npos);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_TRUE(ended(grandchild)) << "grandchild " << grandchild;
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(RealCgroup, MemoryOverTheLimitIsOomKilledAndPeakIsReported) {
  int go = -1;
  const pid_t child = fork_waiting_child(go, [] {
    constexpr std::size_t kSize = 128u << 20;
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) std::memset(p, 1, kSize);
  });
  ASSERT_GT(child, 0);
  auto cgroup = manager_->create(id("oom"), CgroupLimits{32, 64});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  ASSERT_TRUE((*cgroup)->attach(child));
  ASSERT_EQ(::write(go, "x", 1), 1);
  ::close(go);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_TRUE((*cgroup)->oom_killed());
  EXPECT_GE((*cgroup)->peak_memory_bytes(), 30u << 20);
  EXPECT_LE((*cgroup)->peak_memory_bytes(), 32u << 20);
}

TEST_F(RealCgroup, CpuQuotaIsVisibleInTheHierarchy) {
  auto cgroup = manager_->create(id("cpu"), CgroupLimits{128, 1024});
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  if (manager_->version() == CgroupVersion::kV2) {
    EXPECT_EQ(slurp((*cgroup)->path() / "cpu.max"), "7235 100000\n");
  } else {
    const auto cpu = (*cgroup)->path().parent_path().parent_path().parent_path() / "cpu";
    EXPECT_EQ(slurp(cpu / "ember" / id("cpu") / "cpu.cfs_quota_us"), "7235\n");
  }
}

}  // namespace
}  // namespace ember::isolation
