/* Tries to mount a tmpfs and to unmount /proc. */
#include <sys/mount.h>

#include "report.h"

int main(void) {
  const int m = report_errno("mount tmpfs /tmp", mount("x", "/tmp", "tmpfs", 0, NULL), EPERM);
  const int u = report_errno("umount2 /proc", umount2("/proc", MNT_DETACH), EPERM);
  return m > u ? m : u;
}
