#include "ember_arm.h"

#include <linux/filter.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "../init/arm.hpp"

namespace {

int fail(int err, const std::string& text, char* out, std::size_t size) {
  if (out != nullptr && size > 0) {
    const std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
  }
  return err != 0 ? err : EINVAL;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) uint32_t ember_arm_abi_version() {
  return EMBER_ARM_ABI_VERSION;
}

__attribute__((visibility("default"))) int ember_arm_worker(const ember_arm_spec* spec, char* err,
                                                            size_t errlen) {
  using ember::isolation::init::ArmSpec;
  if (spec == nullptr || spec->abi_version != EMBER_ARM_ABI_VERSION) {
    return fail(EINVAL, "arm: spec of another ABI version", err, errlen);
  }
  if (spec->seccomp == nullptr || spec->seccomp_bytes == 0 ||
      spec->seccomp_bytes % sizeof(sock_filter) != 0) {
    return fail(EINVAL, "arm: seccomp program of " + std::to_string(spec->seccomp_bytes) + " bytes",
                err, errlen);
  }
  const ArmSpec arm{
      spec->uid,
      spec->gid,
      spec->group,
      {static_cast<const sock_filter*>(spec->seccomp), spec->seccomp_bytes / sizeof(sock_filter)}};
  if (auto failed = ember::isolation::init::arm_worker(arm)) {
    return fail(failed->err, failed->step + ": " + failed->call, err, errlen);
  }
  return 0;
}

}  // extern "C"
