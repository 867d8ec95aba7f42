#include "test_images.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"
#include "sha256.hpp"  // image/src: the library's own hashing

namespace ember::test {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Stores `data` as a blob; returns its descriptor's digest.
std::string put_blob(const fs::path& layout, const std::string& data) {
  const std::string digest = sha256_of(data);
  write_text(blob_path(layout, digest), data);
  return digest;
}

json::object& index_entry(json::value& index, const std::string& tag) {
  for (auto& m : index.at("manifests").as_array()) {
    const auto* ann = m.as_object().if_contains("annotations");
    if (ann != nullptr && ann->as_object().if_contains(kRefName) != nullptr &&
        ann->at(kRefName).as_string() == tag) {
      return m.as_object();
    }
  }
  throw std::runtime_error("no tag " + tag + " in the layout's index.json");
}

la_ssize_t append_to_string(archive* /*a*/, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

std::optional<std::string> missing_image_tools() {
  for (const char* tool : {"umoci", "skopeo"}) {
    if (!client::find_program(tool)) return std::string(tool) + " is not installed";
  }
  if (!fs::exists("/bin/busybox")) return std::string("busybox-static is not installed");
  return std::nullopt;
}

void make_busybox_root(const fs::path& root) {
  fs::create_directories(root / "bin");
  fs::create_directories(root / "etc");
  fs::copy_file("/bin/busybox", root / "bin/busybox", fs::copy_options::overwrite_existing);
  fs::permissions(root / "bin/busybox", fs::perms(0755));
  if (!fs::is_symlink(root / "bin/sh")) fs::create_symlink("busybox", root / "bin/sh");
  write_text(root / "etc/hello", "hello from the image\n");
}

std::string make_tar(const std::vector<TarEntry>& entries, LayerCompression compression) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == LayerCompression::kGzip) archive_write_add_filter_gzip(a);
  if (compression == LayerCompression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, append_to_string, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error(std::string("archive_write_open: ") + archive_error_string(a));
  }
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, e.mode);
    archive_entry_set_mtime(entry, 1700000000, 0);
    archive_entry_set_uid(entry, 0);
    archive_entry_set_gid(entry, 0);
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
        break;
      case TarEntry::Type::kDirectory:
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.data.c_str());
        break;
      case TarEntry::Type::kHardLink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.data.c_str());
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        break;
    }
    if (archive_write_header(a, entry) != ARCHIVE_OK) {
      throw std::runtime_error("archive_write_header " + e.path + ": " + archive_error_string(a));
    }
    if (e.type == TarEntry::Type::kFile && !e.data.empty()) {
      archive_write_data(a, e.data.data(), e.data.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string sha256_of(const std::string& data) { return image::sha256_digest(data); }

fs::path blob_path(const fs::path& layout, const std::string& digest) {
  return layout / "blobs/sha256" / digest.substr(std::string_view("sha256:").size());
}

std::string manifest_digest(const fs::path& layout, const std::string& tag) {
  json::value index = json::parse(read_text(layout / "index.json"));
  return std::string(index_entry(index, tag).at("digest").as_string());
}

std::string append_layer(const fs::path& layout, const std::string& tag,
                         const std::vector<TarEntry>& entries, LayerCompression compression,
                         const std::string& media_type) {
  std::string type = media_type;
  if (type.empty()) {
    type = "application/vnd.oci.image.layer.v1.tar";
    if (compression == LayerCompression::kGzip) type += "+gzip";
    if (compression == LayerCompression::kZstd) type += "+zstd";
  }
  return append_raw_layer(layout, tag, make_tar(entries, compression),
                          sha256_of(make_tar(entries, LayerCompression::kNone)), type);
}

std::string append_raw_layer(const fs::path& layout, const std::string& tag,
                             const std::string& blob, const std::string& diff_id,
                             const std::string& media_type) {
  const std::string layer_digest = put_blob(layout, blob);
  json::value index = json::parse(read_text(layout / "index.json"));
  json::object& entry = index_entry(index, tag);
  json::value manifest =
      json::parse(read_text(blob_path(layout, std::string(entry.at("digest").as_string()))));
  auto& config_descriptor = manifest.at("config").as_object();
  json::value config = json::parse(
      read_text(blob_path(layout, std::string(config_descriptor.at("digest").as_string()))));
  config.at("rootfs").at("diff_ids").as_array().emplace_back(diff_id);
  const std::string config_text = json::serialize(config);
  config_descriptor["digest"] = put_blob(layout, config_text);
  config_descriptor["size"] = config_text.size();
  manifest.at("layers").as_array().push_back(
      json::object{{"mediaType", media_type}, {"digest", layer_digest}, {"size", blob.size()}});
  const std::string manifest_text = json::serialize(manifest);
  entry["digest"] = put_blob(layout, manifest_text);
  entry["size"] = manifest_text.size();
  write_text(layout / "index.json", json::serialize(index));
  return layer_digest;
}

void wrap_in_index(const fs::path& layout, const std::string& tag, const std::string& platform,
                   const std::vector<std::string>& others) {
  const auto platform_object = [](const std::string& text) {
    json::object p;
    const auto first = text.find('/');
    const auto second = text.find('/', first + 1);
    p["os"] = text.substr(0, first);
    p["architecture"] = text.substr(first + 1, second - first - 1);
    if (second != std::string::npos) p["variant"] = text.substr(second + 1);
    return p;
  };
  json::value index = json::parse(read_text(layout / "index.json"));
  json::object& entry = index_entry(index, tag);
  json::array manifests;
  for (const auto& other : others) {
    manifests.push_back(json::object{{"mediaType", kOciManifest},
                                     {"digest", sha256_of("no such manifest: " + other)},
                                     {"size", 1234},
                                     {"platform", platform_object(other)}});
  }
  manifests.push_back(json::object{{"mediaType", kOciManifest},
                                   {"digest", entry.at("digest")},
                                   {"size", entry.at("size")},
                                   {"platform", platform_object(platform)}});
  const std::string nested = json::serialize(
      json::object{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}});
  entry["mediaType"] = kOciIndex;
  entry["digest"] = put_blob(layout, nested);
  entry["size"] = nested.size();
  write_text(layout / "index.json", json::serialize(index));
}

}  // namespace ember::test
