// Where the native backend puts the function's pieces inside a sandbox (as Lambda does).
#pragma once

namespace ember::isolation {

inline constexpr const char* kTaskRoot = "/var/task";                // spec.code_dir, read-only
inline constexpr const char* kRuntimeRoot = "/var/runtime";          // spec.runtime_dir, read-only
inline constexpr const char* kRuntimeApiAddress = "127.0.0.1:9001";  // with a netns

}  // namespace ember::isolation
