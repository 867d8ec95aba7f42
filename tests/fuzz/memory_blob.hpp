// A blob held in memory, as the image code reads blobs from an archive or a directory.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "image_source.hpp"

namespace ember::fuzz {

class MemoryBlob : public image::BlobStream {
 public:
  explicit MemoryBlob(std::string_view bytes) : bytes_(bytes) {}
  [[nodiscard]] std::uint64_t size() const override { return bytes_.size(); }
  std::size_t read(char* buffer, std::size_t capacity) override {
    const std::size_t n = std::min(capacity, bytes_.size() - at_);
    if (n > 0) std::memcpy(buffer, bytes_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

}  // namespace ember::fuzz
