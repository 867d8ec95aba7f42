// From a reference to the image it names for a platform: the manifest's digest, the config
// and the layers to apply, every small blob (index, manifest, config) checked against its
// digest and size on the way (docs/images.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/image/image.hpp"
#include "image_source.hpp"

namespace ember::image {

enum class Compression { kNone, kGzip, kZstd, kAny };

struct LayerBlob {
  std::string path;    // inside the source
  std::string digest;  // what the blob's bytes must hash to
  std::uint64_t size = 0;
  Compression compression = Compression::kAny;
};

struct ResolvedImage {
  std::string digest;  // of the platform's image manifest (docker-archive: derived, see .cpp)
  ImageConfig config;
  std::string config_json;  // the config blob as stored
  std::vector<LayerBlob> layers;
};

// Throws ImageError naming the problem (not the reference: the caller adds it).
ResolvedImage resolve_image(ImageSource& source, const ImageRef& ref, const Platform& platform);

}  // namespace ember::image
