// Image manifests (image/src/manifest.cpp): an OCI layout's index.json or a docker archive's
// manifest.json, the manifests, indexes and configs they name, to the layers to apply or an
// ImageError. Blobs are checked against their digests, which random bytes never match, so
// the input names them by number:
//   the input is parts cut at lines "----"; part 0 is index.json, or manifest.json when it
//   starts with '[' (a docker archive); part N > 0 is the blob blobs/sha256/<its sha256>;
//   in part i, "@N" becomes part N's "sha256:<hex>", "%N" its "<hex>" and "#N" its size
//   (N one digit, N > i).
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ember/image/image.hpp"
#include "manifest.hpp"
#include "memory_blob.hpp"
#include "sha256.hpp"

namespace {

using namespace ember::image;

class MemorySource : public ImageSource {
 public:
  std::map<std::string, std::string> files;
  std::unique_ptr<BlobStream> open(const std::string& path) override {
    const auto it = files.find(path);
    if (it == files.end()) return nullptr;
    return std::make_unique<ember::fuzz::MemoryBlob>(it->second);
  }
};

std::vector<std::string> split_parts(std::string_view input) {
  std::vector<std::string> parts;
  constexpr std::string_view kCut = "\n----\n";
  while (parts.size() < 9) {
    const auto at = input.find(kCut);
    parts.emplace_back(input.substr(0, at));
    if (at == std::string_view::npos) return parts;
    input.remove_prefix(at + kCut.size());
  }
  return parts;
}

// Part i with its references to later parts filled in.
std::string resolve(const std::string& part, std::size_t i, const std::vector<std::string>& hex,
                    const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t k = 0; k < part.size(); ++k) {
    const char c = part[k];
    const bool token = (c == '@' || c == '%' || c == '#') && k + 1 < part.size() &&
                       part[k + 1] > '0' && part[k + 1] <= '9';
    const auto n = token ? static_cast<std::size_t>(part[k + 1] - '0') : 0;
    if (!token || n <= i || n >= parts.size()) {
      out.push_back(c);
      continue;
    }
    if (c == '@') out += "sha256:" + hex[n];
    if (c == '%') out += hex[n];
    if (c == '#') out += std::to_string(parts[n].size());
    ++k;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = split_parts(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<std::string> hex(parts.size());
  for (std::size_t i = parts.size(); i-- > 0;) {
    parts[i] = resolve(parts[i], i, hex, parts);
    hex[i] = sha256_digest(parts[i]).substr(7);
  }
  MemorySource source;
  const bool docker = !parts[0].empty() && parts[0][0] == '[';
  source.files[docker ? "manifest.json" : "index.json"] = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) source.files["blobs/sha256/" + hex[i]] = parts[i];
  ImageRef ref;
  ref.transport = docker ? Transport::kDockerArchive : Transport::kOciLayout;
  ref.path = "/nonexistent/fuzz-image";
  const Platform platform{.os = "linux", .architecture = "amd64", .variant = ""};
  try {
    const ResolvedImage image = resolve_image(source, ref, platform);
    // Every layer it hands on names a blob that is there, by a well-formed digest.
    for (const auto& layer : image.layers) {
      if (!is_sha256_digest(layer.digest) || source.files.count(layer.path) == 0) {
        __builtin_trap();
      }
    }
  } catch (const ImageError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
