// The program exec_after_idle_bench execs: reports the CLOCK_MONOTONIC time it reached main on
// fd 5 and exits. Static, like the no-op runtime.
#include <unistd.h>

#include <cstdint>
#include <ctime>

int main() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::int64_t ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  return ::write(5, &ns, sizeof ns) == static_cast<ssize_t>(sizeof ns) ? 0 : 1;
}
