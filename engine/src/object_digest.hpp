// An object's `size` and `eTag` (hex MD5 of the content, as S3's for single-part uploads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ember::engine {

struct ObjectDigest {
  std::uint64_t size = 0;
  std::string etag;  // 32 lowercase hex digits, no quotes
};

// Reads the regular file `file` once; nullopt when it is gone, not a regular file, or cannot
// be read (what happened is not the event's business: a later event tells).
std::optional<ObjectDigest> digest_object(const std::filesystem::path& file);

}  // namespace ember::engine
