/* Forks until fork fails; the children sleep. Contained when fork fails with EAGAIN
 * (pids.max) after at most about 1024 processes. */
#include <signal.h>
#include <unistd.h>

#include "report.h"

int main(void) {
  int children = 0;
  for (;;) {
    const pid_t pid = fork();
    if (pid == 0) {
      /* Let go of the output, so whoever reads it sees EOF when the parent exits. */
      close(1);
      close(2);
      pause();
      _exit(0);
    }
    if (pid < 0) break;
    ++children;
    if (children > 100000) break;
  }
  printf("forked %d children\n", children);
  const int rc = report_errno("fork", -1, EAGAIN);
  return children <= 1024 ? rc : 1;
}
