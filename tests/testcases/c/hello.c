/* The trivial runtime: prints who and where it is, then exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char cwd[256] = "?";
  if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = '?';
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  printf("hello uid=%d gid=%d pid=%d ppid=%d cwd=%s api=%s\n", (int)getuid(), (int)getgid(),
         (int)getpid(), (int)getppid(), cwd, api ? api : "-");
  return 0;
}
