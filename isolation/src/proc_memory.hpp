// Peak memory of one process, from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ember::isolation {

// VmHWM of /proc/PID/status in bytes (the resident set's high-water mark); 0 if unreadable.
std::uint64_t process_peak_rss_bytes(pid_t pid);

}  // namespace ember::isolation
