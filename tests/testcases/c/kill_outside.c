/* Tries to signal a host process (argv[1], a host pid: invisible here) and the sandbox's
 * own pid 1 (another uid). */
#include <signal.h>

#include "report.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int host = report_errno("kill host pid", kill(atoi(argv[1]), SIGKILL), ESRCH);
  const int init = report_errno("kill pid 1", kill(1, SIGKILL), EPERM);
  return host > init ? host : init;
}
