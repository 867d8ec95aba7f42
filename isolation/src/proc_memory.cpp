#include "proc_memory.hpp"

#include <charconv>
#include <fstream>
#include <string>

namespace ember::isolation {

std::uint64_t process_peak_rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  constexpr std::string_view kKey = "VmHWM:";
  while (std::getline(status, line)) {
    if (!line.starts_with(kKey)) continue;
    const auto first = line.find_first_of("0123456789");
    if (first == std::string::npos) return 0;
    std::uint64_t kib = 0;
    std::from_chars(line.data() + first, line.data() + line.size(), kib);
    return kib * 1024;
  }
  return 0;
}

}  // namespace ember::isolation
