#include <csignal>
#include <cstring>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {

std::string ExitStatus::describe() const {
  if (!signaled) return "exit status " + std::to_string(value);
  // Go's os.ProcessState wording, which Lambda's messages carry: "signal: killed".
  const char* name = sigabbrev_np(value);
  std::string text = "signal: ";
  if (value == SIGKILL) return text + "killed";
  if (value == SIGSEGV) return text + "segmentation fault";
  if (value == SIGABRT) return text + "aborted";
  if (value == SIGTERM) return text + "terminated";
  return text + (name != nullptr ? name : std::to_string(value));
}

}  // namespace ember::isolation
