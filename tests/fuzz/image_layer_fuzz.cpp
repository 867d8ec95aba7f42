// Image layers (image/src/layer_unpacker.cpp): a tar (plain, gzip or zstd) from an image
// applied onto a fresh root that is removed after each input; nothing lands outside it.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ember/client/temp_dir.hpp"
#include "ember/image/image.hpp"
#include "layer_unpacker.hpp"
#include "manifest.hpp"
#include "memory_blob.hpp"
#include "sha256.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::image;
  static const ember::client::TempDir parent("ember-fuzz-layer-");
  const auto root = parent.path() / "rootfs";
  std::filesystem::create_directory(root);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const LayerBlob layer{.path = "layer.tar",
                        .digest = sha256_digest(bytes),
                        .size = size,
                        .compression = Compression::kAny};
  const int root_fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) __builtin_trap();
  try {
    LayerUnpacker unpacker(root_fd, 1U << 20U);
    ember::fuzz::MemoryBlob blob(bytes);
    unpacker.apply(blob, layer);
    unpacker.finish();
  } catch (const ImageError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  ::close(root_fd);
  for (const auto& entry : std::filesystem::directory_iterator(parent.path())) {
    if (entry.path() != root) __builtin_trap();
  }
  std::filesystem::remove_all(root);
  return 0;
}
