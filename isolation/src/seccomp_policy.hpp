// The seccomp policy of a sandbox as reviewed data, and its compilation to a BPF program.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {

enum class SeccompAction {
  kEperm,                      // fail with EPERM
  kEnosys,                     // pretend the kernel lacks it, so libc falls back
  kEpermIfNamespaceFlag,       // clone: EPERM when arg0 carries any CLONE_NEW* flag
  kEpermUnlessDefaultPersona,  // personality: only PER_LINUX and the query 0xffffffff
  kEpermUnlessKnownFamily,     // socket: only AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK
};

struct SeccompRule {
  std::string_view syscall;
  SeccompAction action;
  std::string_view reason;  // why a function never needs it; shown in docs and reviews
};

// One filter rule as libseccomp and the OCI runtime-spec both express it: the syscall fails
// with errno_value, when arg_masked (if set) holds: (args[arg_index] & mask) == value.
// Several entries for one syscall are or-ed.
struct SeccompFilterEntry {
  std::string_view syscall;
  int errno_value = 0;
  bool arg_masked = false;
  unsigned arg_index = 0;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
};

// The entries a rule compiles to; the one translation both backends use.
std::vector<SeccompFilterEntry> filter_entries(const SeccompRule& rule);

// The default: everything not listed here is allowed.
std::span<const SeccompRule> default_seccomp_rules();

// The default rules with policy applied: allow removes entries, extra_deny adds EPERM ones.
// Unknown syscall names and allows of names the default does not deny are errors.
Result<std::vector<SeccompRule>> resolve_seccomp_rules(const SeccompPolicy& policy);

// A BPF program ready for seccomp(SECCOMP_SET_MODE_FILTER): the child only loads it.
struct SeccompProgram {
  std::vector<sock_filter> instructions;
};

// Compiles with libseccomp for the native architecture (other ABIs are killed).
Result<std::shared_ptr<const SeccompProgram>> compile_seccomp_policy(const SeccompPolicy& policy);

// One compiled program per distinct policy, shared by every sandbox that uses it.
class SeccompProgramCache {
 public:
  Result<std::shared_ptr<const SeccompProgram>> get(const SeccompPolicy& policy);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const SeccompProgram>> programs_;
};

}  // namespace ember::isolation
