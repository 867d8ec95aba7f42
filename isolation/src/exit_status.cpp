#include <cctype>
#include <csignal>
#include <cstring>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {

std::string ExitStatus::describe() const {
  if (!signaled) return "exit status " + std::to_string(value);
  // Go's os.ProcessState wording, which Lambda's messages carry: "signal: killed". Go's
  // names are glibc's descriptions with a lower-case first letter.
  const char* description = sigdescr_np(value);
  std::string name = description != nullptr ? description : "signal " + std::to_string(value);
  if (!name.empty()) name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return "signal: " + name;
}

}  // namespace ember::isolation
