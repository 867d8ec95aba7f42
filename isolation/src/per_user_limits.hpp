// Limits the kernel counts per user, whatever the process: with a uid of its own
// (NativeOptions::ids) each sandbox has them to itself, and these keep what root's defaults
// would allow (root's RLIMIT_SIGPENDING grows with the host's memory) to a sandbox's size.
// Set on every worker, native (init/arm.cpp) and OCI (oci_config.cpp).
#pragma once

namespace ember::isolation {

inline constexpr unsigned long kSigPendingLimit = 1024;  // as pids.max
inline constexpr unsigned long kMsgQueueBytes = 819200;  // Linux's default

}  // namespace ember::isolation
