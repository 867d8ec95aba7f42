/* Tries to create namespaces: unshare, clone with CLONE_NEWUSER, clone3. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

int main(void) {
  int worst = report_errno("unshare CLONE_NEWUSER", unshare(CLONE_NEWUSER), EPERM);
  const long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (rc == 0) _exit(0);
  int r = report_errno("clone CLONE_NEWUSER", rc, EPERM);
  worst = r > worst ? r : worst;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  const long rc3 = syscall(SYS_clone3, &args, sizeof args);
  if (rc3 == 0) _exit(0);
  r = report_errno("clone3", rc3, ENOSYS);
  return r > worst ? r : worst;
}
