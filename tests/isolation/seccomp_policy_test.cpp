#include "seccomp_policy.hpp"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "seccomp_load.hpp"

namespace ember::isolation {
namespace {

bool denies(const std::vector<SeccompRule>& rules, std::string_view name) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const SeccompRule& r) { return r.syscall == name; });
}

TEST(SeccompPolicy, EveryDefaultRuleHasAReasonAndAKnownName) {
  std::set<std::string_view> seen;
  for (const auto& rule : default_seccomp_rules()) {
    EXPECT_FALSE(rule.reason.empty()) << rule.syscall;
    EXPECT_TRUE(seen.insert(rule.syscall).second) << "listed twice: " << rule.syscall;
  }
  auto rules = resolve_seccomp_rules({});
  ASSERT_TRUE(rules) << rules.error().message();
  for (const char* name : {"mount", "ptrace", "bpf", "unshare", "setns", "clone3", "keyctl",
                           "init_module", "open_by_handle_at", "userfaultfd"}) {
    EXPECT_TRUE(denies(*rules, name)) << name;
  }
}

TEST(SeccompPolicy, AllowLiftsANamedDenial) {
  auto rules = resolve_seccomp_rules({.extra_deny = {}, .allow = {"perf_event_open"}});
  ASSERT_TRUE(rules) << rules.error().message();
  EXPECT_FALSE(denies(*rules, "perf_event_open"));
  EXPECT_TRUE(denies(*rules, "ptrace"));
}

TEST(SeccompPolicy, ExtraDenyAddsAnEpermRule) {
  auto rules = resolve_seccomp_rules({.extra_deny = {"getcpu"}, .allow = {}});
  ASSERT_TRUE(rules) << rules.error().message();
  EXPECT_TRUE(denies(*rules, "getcpu"));
}

TEST(SeccompPolicy, UnknownNamesAreErrorsThatNameTheName) {
  auto deny = resolve_seccomp_rules({.extra_deny = {"no_such_call"}, .allow = {}});
  ASSERT_FALSE(deny);
  EXPECT_NE(deny.error().message().find("'no_such_call'"), std::string::npos);
  auto allow = resolve_seccomp_rules({.extra_deny = {}, .allow = {"frobnicate"}});
  ASSERT_FALSE(allow);
  EXPECT_NE(allow.error().message().find("'frobnicate'"), std::string::npos);
}

TEST(SeccompPolicy, AllowingWhatIsNotDeniedIsAnError) {
  auto rules = resolve_seccomp_rules({.extra_deny = {}, .allow = {"read"}});
  ASSERT_FALSE(rules);
  EXPECT_NE(rules.error().message().find("not denied"), std::string::npos);
}

TEST(SeccompPolicy, CompilesOncePerDistinctPolicy) {
  SeccompProgramCache cache;
  auto a = cache.get({});
  auto b = cache.get({});
  auto c = cache.get({.extra_deny = {"getcpu"}, .allow = {}});
  auto d = cache.get({.extra_deny = {"getcpu"}, .allow = {}});
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(c->get(), d->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_GT((*a)->instructions.size(), 50u);
}

// Runs body in a forked child after loading the program; returns the child's exit code.
template <class Body>
int run_filtered(const SeccompProgram& program, Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(200);
    if (load_seccomp_program(program.instructions.data(), program.instructions.size()) < 0) {
      ::_exit(201);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 300 + WTERMSIG(status);
}

// The errno of a failed call, or 0 when it succeeded.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

class LoadedFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto program = compile_seccomp_policy({.extra_deny = {"getcpu"}, .allow = {}});
    ASSERT_TRUE(program) << program.error().message();
    program_ = *program;
  }
  std::shared_ptr<const SeccompProgram> program_;
};

TEST_F(LoadedFilter, DeniedSyscallsFailWithEperm) {
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::unshare(0)); }), EPERM);
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::syscall(SYS_ptrace, 0, 0, 0, 0)); }),
            EPERM);
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::syscall(SYS_getcpu, 0, 0, 0)); }),
            EPERM);
}

TEST_F(LoadedFilter, Clone3IsEnosysAndCloneWithANamespaceFlagIsEperm) {
  EXPECT_EQ(run_filtered(*program_,
                         [] {
                           clone_args args{};
                           return errno_of(::syscall(SYS_clone3, &args, sizeof args));
                         }),
            ENOSYS);
  EXPECT_EQ(run_filtered(
                *program_,
                [] { return errno_of(::syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0)); }),
            EPERM);
}

TEST_F(LoadedFilter, ForkThreadsAndPersonaQueriesStillWork) {
  EXPECT_EQ(run_filtered(*program_,
                         [] {
                           const pid_t child = ::fork();
                           if (child == 0) ::_exit(7);
                           int status = 0;
                           ::waitpid(child, &status, 0);
                           return WEXITSTATUS(status) == 7 ? 0 : 1;
                         }),
            0);
  EXPECT_EQ(run_filtered(*program_,
                         [] {
                           pthread_t thread;
                           auto fn = [](void*) -> void* { return nullptr; };
                           if (::pthread_create(&thread, nullptr, fn, nullptr) != 0) return 1;
                           return ::pthread_join(thread, nullptr);
                         }),
            0);
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::personality(0xffffffff)); }), 0);
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::personality(PER_LINUX)); }), 0);
}

// personality() takes 32 bits: every value but PER_LINUX and the query fails, bit 31 set or
// not, whatever the register's upper half holds.
TEST_F(LoadedFilter, OnlyTheDefaultPersonaAndTheQueryPass) {
  const auto persona = [this](std::uint64_t value) {
    return run_filtered(*program_, [value] { return errno_of(::syscall(SYS_personality, value)); });
  };
  for (const std::uint64_t value :
       {std::uint64_t{ADDR_NO_RANDOMIZE}, std::uint64_t{READ_IMPLIES_EXEC},
        std::uint64_t{PER_LINUX32}, std::uint64_t{0x80040000}, std::uint64_t{0x80400000},
        std::uint64_t{0x80000000}, std::uint64_t{0x7fffffff}, std::uint64_t{0xfffffffe},
        std::uint64_t{1}, (std::uint64_t{1} << 32) | ADDR_NO_RANDOMIZE}) {
    EXPECT_EQ(persona(value), EPERM) << std::hex << value;
  }
  EXPECT_EQ(persona(0xffffffff), 0);
  EXPECT_EQ(persona(0), 0);
  EXPECT_EQ(persona(std::uint64_t{1} << 32), 0);  // the kernel sees 0: PER_LINUX
}

// Sockets of the families a function uses open; the rest (AF_VSOCK reaches the hypervisor
// whatever the network namespace) fail, upper register bits or not.
TEST_F(LoadedFilter, OnlyUnixInetAndNetlinkSocketsOpen) {
  const auto open_socket = [this](std::uint64_t family, int type, int protocol) {
    return run_filtered(*program_, [family, type, protocol] {
      const auto fd = ::syscall(SYS_socket, family, type, protocol);
      if (fd >= 0) ::close(static_cast<int>(fd));
      return fd >= 0 ? 0 : errno;
    });
  };
  EXPECT_EQ(open_socket(AF_UNIX, SOCK_STREAM, 0), 0);
  EXPECT_EQ(open_socket(AF_INET, SOCK_STREAM, 0), 0);
  EXPECT_EQ(open_socket(AF_INET6, SOCK_DGRAM, 0), 0);
  EXPECT_EQ(open_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), 0);
  EXPECT_EQ(open_socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
  EXPECT_EQ(open_socket((std::uint64_t{1} << 32) | AF_VSOCK, SOCK_STREAM, 0), EPERM);
  EXPECT_EQ(open_socket(AF_PACKET, SOCK_RAW, 0), EPERM);
  EXPECT_EQ(open_socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
  EXPECT_EQ(open_socket(AF_UNSPEC, SOCK_STREAM, 0), EPERM);
}

}  // namespace
}  // namespace ember::isolation
