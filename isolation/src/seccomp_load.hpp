// Loading a prebuilt seccomp program: all a sandbox's child does, with no libseccomp.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>

namespace ember::isolation {

// Needs PR_SET_NO_NEW_PRIVS (or CAP_SYS_ADMIN) first. Returns -1 with errno on failure.
inline int load_seccomp_program(const sock_filter* instructions, std::size_t count) {
  if (count == 0 || count > USHRT_MAX) {
    errno = EINVAL;
    return -1;
  }
  // The kernel's sock_fprog points to non-const instructions; seccomp() only reads them.
  sock_fprog program{static_cast<unsigned short>(count),
                     const_cast<sock_filter*>(instructions)};  // NOLINT(*-const-cast)
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program));
}

}  // namespace ember::isolation
