// The error type of every fallible isolation call: errno plus what was being done.
#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace ember::isolation {

struct SysError {
  int err = 0;          // errno value, 0 when the failure is not a system call's
  std::string context;  // the call and its arguments, e.g. "mkdir /sys/fs/cgroup/x"
  std::string hint;     // how to fix it, when known
  // The function's own program could not be executed (missing, not executable, bad
  // interpreter line): the function's fault, not the node's.
  bool bad_entrypoint = false;

  // "CONTEXT: strerror(err). Hint: HINT"
  [[nodiscard]] std::string message() const;
};

// Captures errno right after a failed call.
SysError last_error(std::string context, std::string hint = {});

// Lets result<T, SysError>::value() throw a std::runtime_error carrying message().
[[noreturn]] void throw_exception_from_error(const SysError& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, SysError>;

}  // namespace ember::isolation
