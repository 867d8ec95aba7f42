/* libember-arm.so: a native sandbox's worker arming (isolation/src/init/arm.cpp), for a
   process that takes the place of ember-sandbox-init's worker without being exec'd by it:
   the Python zygote's worker (runtimes/python/zygote.py, through ctypes). A C ABI, so any
   language's fork server can call it; docs/isolation.md says why it is a library. */
#ifndef EMBER_ARM_H
#define EMBER_ARM_H

/* C headers: this file is C as much as C++. */
#include <stddef.h> /* NOLINT(modernize-deprecated-headers) */
#include <stdint.h> /* NOLINT(modernize-deprecated-headers) */

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever struct ember_arm_spec or the calls' meaning changes. */
#define EMBER_ARM_ABI_VERSION 2 /* NOLINT(cppcoreguidelines-macro-usage): C has no constexpr */

struct ember_arm_spec {
  uint32_t abi_version; /* EMBER_ARM_ABI_VERSION */
  uint32_t uid;         /* SandboxEntry::uid, gid, group */
  uint32_t gid;
  uint32_t group;       /* supplementary besides gid; gid when none */
  const void* seccomp;  /* SandboxEntry::seccomp: struct sock_filter[], raw bytes */
  size_t seccomp_bytes; /* a multiple of sizeof(struct sock_filter) */
};

/* The library's EMBER_ARM_ABI_VERSION: a caller checks it once, when it loads the library. */
uint32_t ember_arm_abi_version(void);

/* Arms the calling process as ember-sandbox-init arms its worker, with the same steps in the
   same order (arm.hpp's arm_worker). The caller is single-threaded, root, already inside the
   sandbox's namespaces and cgroup, and has put its report pipe at fd 3 and the launch pipe's
   read end at fd 4: every fd above 4 is closed. Every signal's disposition is reset to the
   default, so a language runtime re-installs its own afterwards.
   Returns 0 once armed; otherwise the failed call's errno (EINVAL for a bad spec), with
   "step: call" in err (NUL-terminated, truncated to errlen). A failure leaves the process
   half-armed: it must exit. */
int ember_arm_worker(const struct ember_arm_spec* spec, char* err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_ARM_H */
