/* Tries to write into the function's code at /var/task (read-only) and to / (read-only). */
#include <fcntl.h>

#include "report.h"

int main(void) {
  const int task =
      report_errno("create /var/task/x", open("/var/task/x", O_CREAT | O_WRONLY, 0644), EROFS);
  const int root = report_errno("create /x", open("/x", O_CREAT | O_WRONLY, 0644), EROFS);
  return task > root ? task : root;
}
