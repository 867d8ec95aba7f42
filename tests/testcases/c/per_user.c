/* The limits the kernel counts per user. `hold` takes what one user may have of each and
 * waits to be killed: every inotify instance (fs.inotify.max_user_instances), pipe buffers
 * past fs.pipe-user-pages-soft (1 MiB pipes), and real-time signals queued to itself up to its
 * RLIMIT_SIGPENDING. `probe` then asks for one of each: exit 0 when all were given (a fresh
 * inotify instance, a pipe of the default 64 KiB, a queued signal), 1 when any was refused. */
#define _GNU_SOURCE /* F_SETPIPE_SZ, F_GETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

enum { kPipes = 100, kMiB = 1 << 20 };

static _Noreturn void hold(void) {
  int instances = 0;
  while (inotify_init1(IN_CLOEXEC) >= 0) ++instances;
  int big_pipes = 0;
  for (int i = 0; i < kPipes; ++i) {
    int fds[2];
    if (pipe(fds) != 0) break;
    if (fcntl(fds[1], F_SETPIPE_SZ, kMiB) < 0) break;
    ++big_pipes;
  }
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  int signals = 0;
  const union sigval value = {0};
  while (sigqueue(getpid(), SIGRTMIN, value) == 0) ++signals;
  printf("held inotify=%d pipes=%d signals=%d\n", instances, big_pipes, signals);
  fflush(stdout);
  for (;;) pause();
}

static int probe(void) {
  const int instance = inotify_init1(IN_CLOEXEC);
  const int inotify_errno = instance < 0 ? errno : 0;
  int fds[2];
  const int pipe_size = pipe(fds) == 0 ? fcntl(fds[0], F_GETPIPE_SZ) : -1;
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &rt, NULL);
  const union sigval value = {0};
  const int queued = sigqueue(getpid(), SIGRTMIN, value);
  const int queue_errno = queued < 0 ? errno : 0;
  printf("probe inotify=%s pipe=%d sigqueue=%s\n", instance >= 0 ? "ok" : strerror(inotify_errno),
         pipe_size, queued == 0 ? "ok" : strerror(queue_errno));
  fflush(stdout);
  return instance >= 0 && pipe_size == 65536 && queued == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "hold") == 0) hold();
  if (argc == 2 && strcmp(argv[1], "probe") == 0) return probe();
  fprintf(stderr, "usage: per_user hold|probe\n");
  return 2;
}
