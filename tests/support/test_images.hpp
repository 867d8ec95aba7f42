// Building container images inside tests, without Docker or a registry: a root directory
// made into an OCI layout with umoci, converted with skopeo, and layers crafted entry by entry
// with libarchive's writer (hostile ones too) with every digest fixed up.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ember/client/oci_image.hpp"

namespace ember::test {

// Why image tests cannot run here (umoci, skopeo or busybox-static missing), or nullopt.
std::optional<std::string> missing_image_tools();

// Tools and image building shared with the bench (ember::client).
using client::build_oci_image;
using client::copy_image;
using client::run_tool;
using ImageSpec = client::OciImageSpec;

// A root with a static busybox at /bin/busybox, /bin/sh -> busybox, and /etc/hello.
void make_busybox_root(const std::filesystem::path& root);

// One entry of a crafted layer.
struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardLink, kFifo };
  std::string path;
  Type type = Type::kFile;
  std::string data;  // file content, or the link's target
  mode_t mode = 0644;
};

enum class LayerCompression { kNone, kGzip, kZstd };

// A tar of `entries`, compressed as asked (libarchive's writer; nothing refused here).
std::string make_tar(const std::vector<TarEntry>& entries, LayerCompression compression);

// "sha256:<hex>" of `data`.
std::string sha256_of(const std::string& data);

// Appends a layer of `entries` to the image `tag` of the OCI layout: the blob, the config's
// diff_ids, the manifest and index.json are rewritten so every digest matches. `media_type`
// overrides the layer's (to test an unknown one). Returns the layer's digest.
std::string append_layer(const std::filesystem::path& layout, const std::string& tag,
                         const std::vector<TarEntry>& entries,
                         LayerCompression compression = LayerCompression::kGzip,
                         const std::string& media_type = {});

// Appends raw bytes as a layer (a truncated tar, say), digests fixed up as above.
std::string append_raw_layer(const std::filesystem::path& layout, const std::string& tag,
                             const std::string& blob, const std::string& diff_id,
                             const std::string& media_type);

// The blob file of `digest` in the layout.
std::filesystem::path blob_path(const std::filesystem::path& layout, const std::string& digest);

// The digest of the manifest index.json names for `tag`.
std::string manifest_digest(const std::filesystem::path& layout, const std::string& tag);

// Replaces the index.json entry of `tag` by a multi-platform index listing the current
// manifest under `platform` ("linux/arm64") and, when given, `others` with made-up digests.
void wrap_in_index(const std::filesystem::path& layout, const std::string& tag,
                   const std::string& platform, const std::vector<std::string>& others = {});

}  // namespace ember::test
