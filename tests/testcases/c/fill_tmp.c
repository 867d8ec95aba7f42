/* Writes /tmp/fill until the write fails: /tmp is a tmpfs of the sandbox's ephemeral size. */
#include <fcntl.h>
#include <unistd.h>

#include "report.h"

int main(void) {
  const int fd = open("/tmp/fill", O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) return report_errno("open /tmp/fill", -1, 0);
  static char chunk[1 << 20];
  memset(chunk, 'x', sizeof chunk);
  long long total = 0;
  ssize_t n = 0;
  while ((n = write(fd, chunk, sizeof chunk)) > 0) total += n;
  printf("wrote %lld MB\n", total >> 20);
  return report_errno("write /tmp/fill", n, ENOSPC);
}
