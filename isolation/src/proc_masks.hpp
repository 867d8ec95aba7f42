// What of a fresh /proc a sandbox does not see or cannot change, for both backends: the
// runtimes' default spec (runc's maskedPaths and readonlyPaths), plus host facts a function
// has no use for (the kernel command line, the host's disks, its boot id).
#pragma once

namespace ember::isolation {

// Hidden: /dev/null over a file, an empty read-only tmpfs over a directory.
inline constexpr const char* kMaskedPaths[] = {"/proc/acpi",
                                               "/proc/asound",
                                               "/proc/kcore",
                                               "/proc/keys",
                                               "/proc/latency_stats",
                                               "/proc/timer_list",
                                               "/proc/timer_stats",
                                               "/proc/sched_debug",
                                               "/proc/scsi",
                                               "/proc/cmdline",
                                               "/proc/diskstats",
                                               "/proc/partitions",
                                               "/proc/sys/kernel/random/boot_id",
                                               "/sys/firmware"};

// Read-only, recursively.
inline constexpr const char* kReadOnlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};

}  // namespace ember::isolation
