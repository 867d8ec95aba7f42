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
  void finish() const;

  [[nodiscard]] std::uint64_t unpacked_bytes() const { return unpacked_bytes_; }

 private:
  struct Meta;
  void apply_entry(::archive* a, ::archive_entry* entry);
  void make_hard_link(int dir_fd, const std::string& name, const char* target_raw);
  void make_directory(int dir_fd, const std::string& name, const Meta& meta);
  void make_symlink(int dir_fd, const std::string& name, const char* target, const Meta& meta);
  void write_file(::archive* a, ::archive_entry* entry, int dir_fd, const std::string& name,
                  const Meta& meta);
  void copy_data(::archive* a, int fd, std::uint64_t size);
  void set_owner(int dir_fd, const std::string& name, const Meta& meta) const;
  // Throw ImageError naming the layer and the current entry.
  [[noreturn]] void refuse(const std::string& what) const;
  [[noreturn]] void fail_call(const char* call) const;
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
  std::string entry_path_;  // the entry being applied, for errors
  bool chown_allowed_;      // as root: owners kept as the layer says
  // Whether the layer's blob has been read to its end, while a layer is applied.
  const bool* blob_ended_ = nullptr;
  bool ended_after_last_file_ = false;
};

}  // namespace ember::image
