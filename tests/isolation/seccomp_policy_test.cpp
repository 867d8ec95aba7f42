#include "seccomp_policy.hpp"

#include <gtest/gtest.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <sys/personality.h>
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
  EXPECT_EQ(run_filtered(*program_, [] { return errno_of(::personality(ADDR_NO_RANDOMIZE)); }),
            EPERM);
}

}  // namespace
}  // namespace ember::isolation
