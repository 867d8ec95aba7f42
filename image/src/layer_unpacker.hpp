// Applies layers in order onto a root directory, as an overlay would see them: whiteouts and
// opaque directories remove what lower layers made; nothing is ever written outside the root
// (docs/images.md lists what is refused).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "ember/isolation/unique_fd.hpp"
#include "image_source.hpp"
#include "manifest.hpp"

struct archive;
struct archive_entry;

namespace ember::image {

class LayerUnpacker {
 public:
  // `root_fd`: an open directory, the image's root; `max_unpacked_bytes` bounds the sum of
  // the regular files' sizes over all layers.
  LayerUnpacker(int root_fd, std::uint64_t max_unpacked_bytes);

  // Unpacks `blob`, hashing it on the way; throws ImageError naming the layer (and the entry)
  // when an entry is refused, the tar is corrupt, or the digest or size does not match the
  // manifest's. The root is then half-written: the caller throws it away.
  void apply(BlobStream& blob, const LayerBlob& layer);

  // After the last layer: the mount points a sandbox needs (/proc, /dev, /tmp) exist and the
  // root is root-owned, mode 0755.
  void finish();

  [[nodiscard]] std::uint64_t unpacked_bytes() const { return unpacked_bytes_; }

 private:
  void apply_entry(::archive* a, ::archive_entry* entry);
  // The entry's parent directory, opened without following any symlink.
  int parent_fd(const std::string& parent, const std::string& entry_path);
  void whiteout(int dir_fd, const std::string& dir_path, const std::string& name);
  void opaque(int dir_fd, const std::string& dir_path);

  int root_fd_;
  std::uint64_t max_unpacked_bytes_;
  std::uint64_t unpacked_bytes_ = 0;
  // Paths this layer made: its whiteouts apply to lower layers only.
  std::unordered_set<std::string> this_layer_;
  // Layer entries come grouped by directory: the last parent stays open.
  std::string cached_parent_;
  isolation::UniqueFd cached_parent_fd_;
  std::string layer_label_;
  // Whether the layer's blob has been read to its end, while a layer is applied.
  const bool* blob_ended_ = nullptr;
  bool ended_after_last_file_ = false;
};

}  // namespace ember::image
