// Deployment packages (image/src/zip_archive.cpp): a zip from a client, unpacked into a fresh
// directory that is removed after each input. Whatever lands stays inside it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <variant>

#include "ember/client/temp_dir.hpp"
#include "ember/image/zip_archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ember::client::TempDir parent("ember-fuzz-zip-");
  const auto root = parent.path() / "code";
  std::filesystem::create_directory(root);
  const std::string_view zip(reinterpret_cast<const char*>(data), size);
  // Small limits, so a bomb is refused quickly rather than filling the disk.
  auto result =
      ember::image::unpack_zip(zip, root, {.max_unpacked_bytes = 1U << 20U, .max_entries = 200});
  if (auto* why = std::get_if<std::string>(&result); why != nullptr && why->empty()) {
    __builtin_trap();
  }
  // Nothing was written beside the root.
  for (const auto& entry : std::filesystem::directory_iterator(parent.path())) {
    if (entry.path() != root) __builtin_trap();
  }
  std::filesystem::remove_all(root);
  return 0;
}
