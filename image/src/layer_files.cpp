#include "ember/image/image.hpp"
#include "image_source.hpp"
#include "manifest.hpp"

namespace ember::image {

std::vector<std::filesystem::path> layout_layer_files(const ImageRef& ref,
                                                      const Platform& platform) {
  if (ref.transport != Transport::kOciLayout) {
    throw ImageError(ref.to_string() + ": layer files exist only in an OCI layout (oci:DIR)");
  }
  try {
    auto source = open_source(ref);
    std::vector<std::filesystem::path> files;
    for (const LayerBlob& layer : resolve_image(*source, ref, platform).layers) {
      files.push_back(ref.path / layer.path);
    }
    return files;
  } catch (const ImageError& e) {
    throw ImageError(ref.to_string() + ": " + e.what());
  }
}

}  // namespace ember::image
