#include "seccomp_policy.hpp"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "ember/isolation/unique_fd.hpp"

namespace ember::isolation {
namespace {

using enum SeccompAction;

// Reviewed list. Most of these already fail for lack of a capability; the filter is the
// second wall, and it also blocks what an unprivileged user may do but a function never needs.
constexpr SeccompRule kDefaultRules[] = {
    // --- file system layout: the sandbox's mounts are fixed before exec
    {"mount", kEperm, "the root is assembled before exec; a function never mounts"},
    {"umount2", kEperm, "would uncover what the sandbox's mounts hide"},
    {"pivot_root", kEperm, "changing the root is the sandbox's job, done before exec"},
    {"chroot", kEperm, "classic escape helper when combined with a leaked directory fd"},
    {"move_mount", kEperm, "new mount API: same power as mount"},
    {"open_tree", kEperm, "new mount API: clones mount trees"},
    {"fsopen", kEperm, "new mount API: creates file system contexts"},
    {"fsconfig", kEperm, "new mount API: configures file system contexts"},
    {"fsmount", kEperm, "new mount API: creates mounts"},
    {"fspick", kEperm, "new mount API: reconfigures existing mounts"},
    {"mount_setattr", kEperm, "would make read-only mounts writable"},
    {"open_by_handle_at", kEperm, "opens files by handle, bypassing the mount tree (shocker)"},
    {"name_to_handle_at", kEperm, "only useful together with open_by_handle_at"},
    {"quotactl", kEperm, "disk quota administration"},
    {"swapon", kEperm, "host swap administration"},
    {"swapoff", kEperm, "host swap administration"},
    {"acct", kEperm, "process accounting writes host files"},
    // --- namespaces: the sandbox's are final
    {"setns", kEperm, "joining another namespace leaves the sandbox"},
    {"unshare", kEperm, "new namespaces (user ns especially) widen the kernel attack surface"},
    {"clone", kEpermIfNamespaceFlag, "plain clone (fork, threads) is fine; CLONE_NEW* is not"},
    {"clone3", kEnosys,
     "its flags live in memory a filter cannot read; ENOSYS makes libc fall back to clone"},
    // --- other processes
    {"ptrace", kEperm, "inspecting or steering processes; also the classic seccomp bypass"},
    {"process_vm_readv", kEperm, "reads another process's memory"},
    {"process_vm_writev", kEperm, "writes another process's memory"},
    {"pidfd_getfd", kEperm, "steals file descriptors from another process"},
    {"process_madvise", kEperm, "acts on another process's memory"},
    {"kcmp", kEperm, "compares kernel objects of other processes, an information leak"},
    // --- the kernel itself
    {"kexec_load", kEperm, "replaces the running kernel"},
    {"kexec_file_load", kEperm, "replaces the running kernel"},
    {"init_module", kEperm, "loads kernel code"},
    {"finit_module", kEperm, "loads kernel code"},
    {"delete_module", kEperm, "unloads kernel code"},
    {"bpf", kEperm, "eBPF programs are a large kernel attack surface"},
    {"perf_event_open", kEperm, "side channels and a history of kernel bugs"},
    {"userfaultfd", kEperm, "a tool for widening kernel race windows in exploits"},
    {"lookup_dcookie", kEperm, "profiling interface, needs CAP_SYS_ADMIN"},
    {"io_uring_setup", kEperm, "large attack surface; libuv and others fall back to epoll"},
    {"io_uring_enter", kEperm, "see io_uring_setup"},
    {"io_uring_register", kEperm, "see io_uring_setup"},
    {"reboot", kEperm, "restarts the host (or the pid namespace)"},
    {"syslog", kEperm, "reads the kernel log, which leaks addresses"},
    {"iopl", kEperm, "raw I/O port access"},
    {"ioperm", kEperm, "raw I/O port access"},
    {"fanotify_init", kEperm, "watches file access system-wide"},
    {"personality", kEpermUnlessDefaultPersona,
     "queries are fine; other personas turn off ASLR or change syscall semantics"},
    {"socket", kEpermUnlessKnownFamily,
     "other families (AF_VSOCK reaches the hypervisor whatever the network namespace, AF_PACKET, "
     "AF_ALG, ...) are kernel attack surface a function has no use for"},
    // --- keys
    {"keyctl", kEperm, "the kernel keyring is not namespaced"},
    {"add_key", kEperm, "the kernel keyring is not namespaced"},
    {"request_key", kEperm, "the kernel keyring is not namespaced"},
    // --- host clock and identity
    {"settimeofday", kEperm, "the clock is the host's"},
    {"clock_settime", kEperm, "the clock is the host's"},
    {"clock_adjtime", kEperm, "the clock is the host's"},
    {"adjtimex", kEperm, "the clock is the host's"},
    {"sethostname", kEperm, "the host name is set by the sandbox"},
    {"setdomainname", kEperm, "the domain name is set by the sandbox"},
    {"vhangup", kEperm, "hangs up the controlling terminal"},
};

constexpr std::uint64_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                             CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                             CLONE_NEWNET};

// personality() takes an unsigned int: the low 32 bits of the register are all that count.
constexpr std::uint64_t kLow32 = 0xFFFFFFFFU;

// Address families a function may open sockets of (socketpair only knows AF_UNIX anyway).
constexpr std::uint64_t kAllowedFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
// AF_MAX of the kernels this targets; families at or beyond it fail with EAFNOSUPPORT anyway.
constexpr std::uint64_t kFamilyCount = 46;

bool known_syscall(const std::string& name) {
  return seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR;
}

// Storage for the names extra_deny adds, since rules hold string_views.
std::string_view intern(const std::string& name) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<std::string>> names;
  const std::lock_guard lock(mutex);
  for (const auto& n : names) {
    if (*n == name) return *n;
  }
  names.push_back(std::make_unique<std::string>(name));
  return *names.back();
}

std::string cache_key(const SeccompPolicy& policy) {
  auto deny = policy.extra_deny;
  auto allow = policy.allow;
  std::sort(deny.begin(), deny.end());
  std::sort(allow.begin(), allow.end());
  std::string key = "deny:";
  for (const auto& d : deny) key += d + ",";
  key += ";allow:";
  for (const auto& a : allow) key += a + ",";
  return key;
}

using Context = std::unique_ptr<void, decltype(&seccomp_release)>;

Result<void> add_rule(scmp_filter_ctx ctx, const SeccompRule& rule) {
  const std::string name(rule.syscall);
  const int nr = seccomp_syscall_resolve_name(name.c_str());
  for (const auto& entry : filter_entries(rule)) {
    const scmp_arg_cmp cmp{entry.arg_index, SCMP_CMP_MASKED_EQ, entry.mask, entry.value};
    const unsigned count = entry.arg_masked ? 1 : 0;
    if (int rc =
            seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(static_cast<unsigned>(entry.errno_value)),
                                   nr, count, entry.arg_masked ? &cmp : nullptr);
        rc < 0) {
      return SysError{-rc, "seccomp_rule_add " + name, {}};
    }
  }
  return {};
}

}  // namespace

std::vector<SeccompFilterEntry> filter_entries(const SeccompRule& rule) {
  std::vector<SeccompFilterEntry> entries;
  switch (rule.action) {
    case kEperm:
      entries.push_back({rule.syscall, EPERM});
      break;
    case kEnosys:
      entries.push_back({rule.syscall, ENOSYS});
      break;
    case kEpermIfNamespaceFlag:
      // One rule per flag: a filter cannot say "any of these bits", but rules are or-ed.
      for (const std::uint64_t flag : kNamespaceFlags) {
        entries.push_back({rule.syscall, EPERM, true, 0, flag, flag});
      }
      break;
    case kEpermUnlessDefaultPersona:
      // EPERM unless the 32-bit persona is 0 (PER_LINUX) or 0xffffffff (the query). A rule
      // may compare an argument only once, and rules are or-ed: any other value has, going
      // round its 32 bits, a set bit followed by a clear one, so one rule per such pair
      // (bit i set, bit i+1 mod 32 clear) covers every value but those two, and only those.
      for (unsigned bit = 0; bit < 32; ++bit) {
        const std::uint64_t set = std::uint64_t{1} << bit;
        const std::uint64_t next = std::uint64_t{1} << ((bit + 1) % 32);
        entries.push_back({rule.syscall, EPERM, true, 0, (set | next) & kLow32, set});
      }
      break;
    case kEpermUnlessKnownFamily:
      // One rule per family denied: the domain is an int, compared on its 32 bits.
      for (std::uint64_t family = 0; family < kFamilyCount; ++family) {
        if (std::find(std::begin(kAllowedFamilies), std::end(kAllowedFamilies), family) !=
            std::end(kAllowedFamilies)) {
          continue;
        }
        entries.push_back({rule.syscall, EPERM, true, 0, kLow32, family});
      }
      break;
  }
  return entries;
}

std::span<const SeccompRule> default_seccomp_rules() { return kDefaultRules; }

Result<std::vector<SeccompRule>> resolve_seccomp_rules(const SeccompPolicy& policy) {
  std::vector<SeccompRule> rules(std::begin(kDefaultRules), std::end(kDefaultRules));
  for (const auto& name : policy.allow) {
    if (!known_syscall(name)) {
      return SysError{EINVAL, "seccomp allow: unknown syscall '" + name + "'", {}};
    }
    const auto removed =
        std::erase_if(rules, [&](const SeccompRule& r) { return r.syscall == name; });
    if (removed == 0) {
      return SysError{EINVAL, "seccomp allow: '" + name + "' is not denied by the default policy",
                      "remove it from the allow list"};
    }
  }
  for (const auto& name : policy.extra_deny) {
    if (!known_syscall(name)) {
      return SysError{EINVAL, "seccomp deny: unknown syscall '" + name + "'", {}};
    }
    std::erase_if(rules, [&](const SeccompRule& r) { return r.syscall == name; });
    rules.push_back({intern(name), kEperm, "denied by the function's configuration"});
  }
  return rules;
}

Result<std::shared_ptr<const SeccompProgram>> compile_seccomp_policy(const SeccompPolicy& policy) {
  auto rules = resolve_seccomp_rules(policy);
  if (!rules) return rules.error();
  Context ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) return SysError{ENOMEM, "seccomp_init", {}};
  // A syscall from another ABI (int 0x80 on x86_64) would bypass every rule: kill instead.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return SysError{-rc, "seccomp_attr_set ACT_BADARCH", {}};
  }
  for (const auto& rule : *rules) {
    if (auto r = add_rule(ctx.get(), rule); !r) return r.error();
  }
  // libseccomp 2.5 exports only to a file descriptor; a memfd keeps it in memory.
  UniqueFd memfd(::memfd_create("ember-seccomp", MFD_CLOEXEC));
  if (!memfd) return last_error("memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), memfd.get()); rc < 0) {
    return SysError{-rc, "seccomp_export_bpf", {}};
  }
  const off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size < 0) return last_error("lseek memfd");
  auto program = std::make_shared<SeccompProgram>();
  program->instructions.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  const auto bytes = program->instructions.size() * sizeof(sock_filter);
  if (::pread(memfd.get(), program->instructions.data(), bytes, 0) != static_cast<ssize_t>(bytes)) {
    return last_error("read the exported seccomp program");
  }
  return std::shared_ptr<const SeccompProgram>(std::move(program));
}

Result<std::shared_ptr<const SeccompProgram>> SeccompProgramCache::get(
    const SeccompPolicy& policy) {
  const std::string key = cache_key(policy);
  const std::lock_guard lock(mutex_);
  if (auto it = programs_.find(key); it != programs_.end()) return it->second;
  auto program = compile_seccomp_policy(policy);
  if (!program) return program.error();
  programs_.emplace(key, *program);
  return program;
}

Result<void> validate_seccomp_policy(const SeccompPolicy& policy) {
  auto program = compile_seccomp_policy(policy);
  if (!program) return program.error();
  return {};
}

}  // namespace ember::isolation
