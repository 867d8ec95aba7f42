/* Lists the processes it can see in /proc: only the sandbox's init and itself. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>

int main(void) {
  DIR* proc = opendir("/proc");
  if (proc == NULL) return 2;
  int count = 0;
  struct dirent* entry;
  printf("pids:");
  while ((entry = readdir(proc)) != NULL) {
    if (!isdigit((unsigned char)entry->d_name[0])) continue;
    printf(" %s", entry->d_name);
    ++count;
  }
  closedir(proc);
  printf("\ncount=%d\n", count);
  return count <= 2 ? 0 : 1;
}
