/* Tries to load a kernel module (the call is denied before the kernel reads the image). */
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"

int main(void) {
  const int i = report_errno("init_module", syscall(SYS_init_module, NULL, 0, ""), EPERM);
  const int f = report_errno("finit_module", syscall(SYS_finit_module, 0, "", 0), EPERM);
  return i > f ? i : f;
}
