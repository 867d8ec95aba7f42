// The config loader (config/): YAML text to a Config or a ConfigError naming the problem;
// any other exception, or a crash, is a bug. The text is read as examples/ember.yaml, so the
// examples' relative code paths name real directories and the checks behind them run. The
// loader only reads the file system.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ember/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)ember::config::parse_config(text, EMBER_SOURCE_DIR "/examples/ember.yaml");
  } catch (const ember::config::ConfigError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
