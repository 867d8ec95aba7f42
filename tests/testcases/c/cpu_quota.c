/* Spins for argv[1] ms of wall time and prints the share of one CPU it got (the cgroup's
 * CPU quota: 1769 MB = one CPU), as "cpu_share=0.NN". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  const double wall = (argc > 1 ? atof(argv[1]) : 500.0) / 1000.0;
  const double start = seconds(CLOCK_MONOTONIC);
  const double cpu_start = seconds(CLOCK_PROCESS_CPUTIME_ID);
  volatile unsigned long spin = 0;
  while (seconds(CLOCK_MONOTONIC) - start < wall) ++spin;
  const double share = (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / wall;
  printf("cpu_share=%.2f\n", share);
  return 0;
}
