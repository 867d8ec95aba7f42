// The Python zygote's own start: it loads the arming library its workers arm themselves with
// (libember-arm.so) before it says it is ready. Forking into sandboxes is tested end to end
// (tests/e2e/sandbox_test.cpp).
#include "python_zygote.hpp"

#include <gtest/gtest.h>

namespace ember::engine {
namespace {

namespace fs = std::filesystem;

PythonZygote::Paths paths_with(fs::path arm_library) {
  return {"/usr/bin/python3", fs::path(EMBER_SOURCE_DIR) / "runtimes", std::move(arm_library)};
}

TEST(PythonZygote, StartsWithTheArmingLibraryBuiltBesideEmber) {
  auto zygote = PythonZygote::start(paths_with(fs::path(EMBER_BINARY_DIR) / "libember-arm.so"));
  EXPECT_TRUE(zygote) << zygote.error().message();
}

TEST(PythonZygote, DoesNotStartWithoutItsArmingLibraryAndSaysWhy) {
  const fs::path missing = fs::path(EMBER_BINARY_DIR) / "no-such-libember-arm.so";
  auto zygote = PythonZygote::start(paths_with(missing));
  ASSERT_FALSE(zygote);
  const std::string message = zygote.error().message();
  EXPECT_NE(message.find("load the arming library"), std::string::npos) << message;
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
}

TEST(PythonZygote, RefusesALibraryThatIsNotTheArmingLibrary) {
  // ember-sandbox-init's own arming is linked in statically; a shared object without the C
  // ABI (here: the C library) must not be taken for it.
  auto zygote = PythonZygote::start(paths_with("libc.so.6"));
  ASSERT_FALSE(zygote);
  EXPECT_NE(zygote.error().message().find("ember_arm_abi_version"), std::string::npos)
      << zygote.error().message();
}

TEST(PythonZygote, NeedsAnArmingLibrary) {
  auto zygote = PythonZygote::start(paths_with({}));
  ASSERT_FALSE(zygote);
  EXPECT_NE(zygote.error().message().find("libember-arm.so"), std::string::npos)
      << zygote.error().message();
}

}  // namespace
}  // namespace ember::engine
