// A function's deployment package (package type Zip): unpacked into a code directory so that
// nothing lands outside it, within Lambda's size limits (docs/operating.md#control-plane).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>

namespace ember::image {

struct ZipLimits {
  // Lambda's: the sum of the unpacked files' sizes (262144000 bytes = 250 MB).
  std::uint64_t max_unpacked_bytes = 262144000;
  // Entries of any kind; Lambda documents none, ember keeps a zip bomb of empty files out.
  std::uint64_t max_entries = 20000;
};

struct UnpackedZip {
  std::uint64_t unpacked_bytes = 0;
  std::uint64_t entries = 0;
};

// Unpacks `zip` (the archive's bytes) into `root`, an existing empty directory. Refuses,
// naming the entry: absolute paths and '..', writing through a symlink, a symlink whose
// target leaves the root, hard links, devices and fifos, a duplicate entry, and going over
// `limits`. On refusal returns the reason (the root is half-written: the caller removes it).
std::variant<UnpackedZip, std::string> unpack_zip(std::string_view zip,
                                                  const std::filesystem::path& root,
                                                  const ZipLimits& limits = {});

// The SHA-256 of `bytes`, as 32 raw bytes (CodeSha256 is their base64; runtime_api::hex_encode
// gives the hex that names the stored code).
std::string sha256_raw(std::string_view bytes);

}  // namespace ember::image
