#include "ember/isolation/sys_error.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ember::isolation {

std::string SysError::message() const {
  std::string text = context;
  if (err != 0) {
    text += ": ";
    text += std::strerror(err);  // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe
  }
  if (!hint.empty()) {
    text += ". Hint: ";
    text += hint;
  }
  return text;
}

SysError last_error(std::string context, std::string hint) {
  return SysError{errno, std::move(context), std::move(hint)};
}

void throw_exception_from_error(const SysError& e, const boost::source_location& /*loc*/) {
  throw std::runtime_error(e.message());
}

}  // namespace ember::isolation
