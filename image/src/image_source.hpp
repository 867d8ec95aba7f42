// Where an image's files come from: an OCI image layout directory, or a tar of one
// (oci-archive) or of `docker save`'s format (docker-archive), read with libarchive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ember/image/image.hpp"

namespace ember::image {

// One file of the source, read front to back once.
class BlobStream {
 public:
  BlobStream() = default;
  BlobStream(const BlobStream&) = delete;
  BlobStream& operator=(const BlobStream&) = delete;
  BlobStream(BlobStream&&) = delete;
  BlobStream& operator=(BlobStream&&) = delete;
  virtual ~BlobStream() = default;

  // Its size as the directory or the archive's header says.
  [[nodiscard]] virtual std::uint64_t size() const = 0;
  // Up to `capacity` bytes into `buffer`; 0 at the end. Throws ImageError.
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
};

class ImageSource {
 public:
  ImageSource() = default;
  ImageSource(const ImageSource&) = delete;
  ImageSource& operator=(const ImageSource&) = delete;
  ImageSource(ImageSource&&) = delete;
  ImageSource& operator=(ImageSource&&) = delete;
  virtual ~ImageSource() = default;

  // The regular file at `path` inside the layout or archive ("index.json",
  // "blobs/sha256/HEX"), or nullptr when there is none. Throws ImageError when the source
  // cannot be read.
  virtual std::unique_ptr<BlobStream> open(const std::string& path) = 0;
};

// The source `ref` names. Throws ImageError when its file or directory is missing.
std::unique_ptr<ImageSource> open_source(const ImageRef& ref);

// The whole of `stream`; refuses one larger than `limit` (a manifest or a config is small:
// a huge one is an attack on memory, not an image). `what` names it in errors.
std::string read_all(BlobStream& stream, std::uint64_t limit, const std::string& what);

}  // namespace ember::image
