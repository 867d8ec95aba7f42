/* Tries to read a host file that is outside the sandbox's mounts (argv[1]). */
#include <fcntl.h>

#include "report.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  return report_errno(argv[1], open(argv[1], O_RDONLY), ENOENT);
}
