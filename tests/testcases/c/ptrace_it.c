/* Tries to ptrace pid 1 of the sandbox. */
#include <sys/ptrace.h>

#include "report.h"

int main(void) {
  return report_errno("ptrace attach 1", ptrace(PTRACE_ATTACH, 1, NULL, NULL), EPERM);
}
