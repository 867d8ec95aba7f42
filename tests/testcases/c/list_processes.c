/* Lists the processes it can see in /proc: only the sandbox's init and itself, or at most
 * argv[1] processes when it runs under a runtime (init, the runtime, itself). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const int allowed = argc > 1 ? atoi(argv[1]) : 2;
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
  return count <= allowed ? 0 : 1;
}
