#include "manifest.hpp"

#include <boost/json.hpp>
#include <map>
#include <string_view>

#include "sha256.hpp"

namespace ember::image {

namespace json = boost::json;

namespace {

constexpr std::uint64_t kMaxJsonBlob = 4ULL << 20;  // manifests, indexes, configs

constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";

const std::map<std::string_view, Compression>& layer_types() {
  static const std::map<std::string_view, Compression> kTypes = {
      {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
  };
  return kTypes;
}

json::value parse_json(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) throw ImageError(what + ": not JSON: " + ec.message());
  return value;
}

const json::object& as_object(const json::value& v, const std::string& what) {
  if (!v.is_object()) throw ImageError(what + ": not a JSON object");
  return v.get_object();
}

std::string string_field(const json::object& o, std::string_view key, const std::string& what,
                         bool required = true) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) throw ImageError(what + ": no \"" + std::string(key) + "\"");
    return {};
  }
  if (!v->is_string()) throw ImageError(what + ": \"" + std::string(key) + "\" is not a string");
  return std::string(v->get_string());
}

std::vector<std::string> string_list(const json::object& o, std::string_view key,
                                     const std::string& what) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) throw ImageError(what + ": \"" + std::string(key) + "\" is not a list");
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      throw ImageError(what + ": \"" + std::string(key) + "\" holds a non-string");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

const json::array& array_field(const json::object& o, std::string_view key,
                               const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) {
    throw ImageError(what + ": no \"" + std::string(key) + "\" list");
  }
  return v->get_array();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  const json::object* object = nullptr;
};

Descriptor descriptor(const json::value& v, const std::string& what) {
  const auto& o = as_object(v, what);
  Descriptor d;
  d.object = &o;
  d.media_type = string_field(o, "mediaType", what);
  d.digest = string_field(o, "digest", what);
  if (!is_sha256_digest(d.digest)) {
    throw ImageError(what + ": digest \"" + d.digest + "\" is not sha256:<64 hex digits>");
  }
  const json::value* size = o.if_contains("size");
  if (size == nullptr || !(size->is_int64() || size->is_uint64()) ||
      (size->is_int64() && size->get_int64() < 0)) {
    throw ImageError(what + ": no valid \"size\"");
  }
  d.size = size->is_uint64() ? size->get_uint64() : static_cast<std::uint64_t>(size->get_int64());
  return d;
}

std::string blob_path(const std::string& digest) {
  return "blobs/sha256/" + digest.substr(std::string_view("sha256:").size());
}

std::string short_digest(const std::string& digest) { return digest.substr(0, 19) + ".."; }

// A small blob, checked against its descriptor before anything reads it.
std::string verified_blob(ImageSource& source, const Descriptor& d, const std::string& what) {
  const std::string label = what + " " + short_digest(d.digest);
  auto stream = source.open(blob_path(d.digest));
  if (!stream) throw ImageError(label + ": blob missing (" + blob_path(d.digest) + ")");
  if (stream->size() != d.size) {
    throw ImageError(label + ": size " + std::to_string(stream->size()) + ", descriptor says " +
                     std::to_string(d.size));
  }
  std::string data = read_all(*stream, kMaxJsonBlob, label);
  if (data.size() != d.size) {
    throw ImageError(label + ": read " + std::to_string(data.size()) + " bytes, descriptor says " +
                     std::to_string(d.size));
  }
  const std::string actual = sha256_digest(data);
  if (actual != d.digest) throw ImageError(label + ": digest mismatch (content is " + actual + ")");
  return data;
}

Platform platform_of(const json::object& o, const std::string& what) {
  Platform p;
  p.os = string_field(o, "os", what, false);
  p.architecture = string_field(o, "architecture", what, false);
  p.variant = string_field(o, "variant", what, false);
  return p;
}

// Variants are compared only when both sides name one: arm64 images rarely say "v8".
bool matches(const Platform& image, const Platform& want) {
  return image.os == want.os && image.architecture == want.architecture &&
         (image.variant.empty() || want.variant.empty() || image.variant == want.variant);
}

ImageConfig parse_config(const json::object& config_blob, const Platform& want,
                         const std::string& what) {
  const Platform image = platform_of(config_blob, what);
  // A config without os/architecture is unusual but not wrong; one naming another is.
  if (!image.architecture.empty() && !matches(image, want)) {
    throw ImageError("image is for " + image.to_string() + ", this node is " + want.to_string());
  }
  ImageConfig config;
  const json::value* c = config_blob.if_contains("config");
  if (c == nullptr || c->is_null()) return config;
  const auto& o = as_object(*c, what + " \"config\"");
  config.entrypoint = string_list(o, "Entrypoint", what);
  config.cmd = string_list(o, "Cmd", what);
  config.env = string_list(o, "Env", what);
  config.working_dir = string_field(o, "WorkingDir", what, false);
  config.user = string_field(o, "User", what, false);
  return config;
}

// The index entry for the tag; the only entry when no tag is given.
const json::value& select_tagged(const json::array& manifests, const std::string& tag) {
  std::vector<std::string> tags;
  for (const auto& m : manifests) {
    const auto* o = m.if_object();
    const json::value* ann = o != nullptr ? o->if_contains("annotations") : nullptr;
    const json::value* name =
        ann != nullptr && ann->is_object() ? ann->get_object().if_contains(kRefName) : nullptr;
    const std::string this_tag =
        name != nullptr && name->is_string() ? std::string(name->get_string()) : "";
    if (!tag.empty() && this_tag == tag) return m;
    if (!this_tag.empty()) tags.push_back(this_tag);
  }
  if (tag.empty()) {
    if (manifests.size() == 1) return manifests.front();
    if (manifests.empty()) throw ImageError("index.json lists no image");
    throw ImageError("index.json lists " + std::to_string(manifests.size()) +
                     " images: name one by tag (tags: " + join(tags) + ")");
  }
  throw ImageError("no image tagged \"" + tag + "\" (tags: " + join(tags) + ")");
}

// The entry of a multi-platform index for `want`.
Descriptor select_platform(const json::array& manifests, const Platform& want,
                           const std::string& what) {
  std::vector<std::string> offered;
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    const std::string entry_what = what + " entry " + std::to_string(i);
    const auto& o = as_object(manifests[i], entry_what);
    const json::value* p = o.if_contains("platform");
    if (p == nullptr || !p->is_object()) continue;
    const Platform platform = platform_of(p->get_object(), entry_what);
    if (platform.os == "unknown") continue;  // attestations (buildx), not images
    if (matches(platform, want)) return descriptor(manifests[i], entry_what);
    offered.push_back(platform.to_string());
  }
  throw ImageError("no image for " + want.to_string() + " in the index (it has: " + join(offered) +
                   ")");
}

ResolvedImage resolve_oci(ImageSource& source, const ImageRef& ref, const Platform& want) {
  auto index_stream = source.open("index.json");
  if (!index_stream) throw ImageError("not an OCI image layout: no index.json");
  const json::value index =
      parse_json(read_all(*index_stream, kMaxJsonBlob, "index.json"), "index.json");
  Descriptor d = descriptor(
      select_tagged(array_field(as_object(index, "index.json"), "manifests", "index.json"),
                    ref.tag),
      "index.json entry");
  // At most one level of multi-platform index between the tag and the manifest.
  for (int depth = 0;; ++depth) {
    if (d.media_type == kOciManifest || d.media_type == kDockerManifest) break;
    if ((d.media_type != kOciIndex && d.media_type != kDockerList) || depth == 2) {
      throw ImageError("manifest " + short_digest(d.digest) + ": unknown media type \"" +
                       d.media_type + "\"");
    }
    const std::string what = "index " + short_digest(d.digest);
    const json::value nested = parse_json(verified_blob(source, d, "index"), what);
    d = select_platform(array_field(as_object(nested, what), "manifests", what), want, what);
  }

  ResolvedImage image;
  image.digest = d.digest;
  const std::string what = "manifest " + short_digest(d.digest);
  const json::value manifest_value = parse_json(verified_blob(source, d, "manifest"), what);
  const auto& manifest = as_object(manifest_value, what);
  const json::value* config_descriptor = manifest.if_contains("config");
  if (config_descriptor == nullptr) throw ImageError(what + ": no \"config\"");
  const Descriptor config = descriptor(*config_descriptor, what + " config");
  if (config.media_type != kOciConfig && config.media_type != kDockerConfig) {
    throw ImageError("config " + short_digest(config.digest) + ": unknown media type \"" +
                     config.media_type + "\"");
  }
  image.config_json = verified_blob(source, config, "config");
  const std::string config_what = "config " + short_digest(config.digest);
  image.config = parse_config(as_object(parse_json(image.config_json, config_what), config_what),
                              want, config_what);
  const auto& layers = array_field(manifest, "layers", what);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Descriptor l = descriptor(layers[i], what + " layer " + std::to_string(i));
    const auto type = layer_types().find(l.media_type);
    if (type == layer_types().end()) {
      throw ImageError("layer " + short_digest(l.digest) + ": unknown media type \"" +
                       l.media_type + "\"");
    }
    image.layers.push_back({blob_path(l.digest), l.digest, l.size, type->second});
  }
  return image;
}

// "busybox:latest" and "docker.io/library/busybox:latest" are one name, as in docker.
std::string docker_normal(std::string name) {
  for (const std::string_view prefix : {"docker.io/library/", "docker.io/"}) {
    if (name.substr(0, prefix.size()) == prefix) return name.substr(prefix.size());
  }
  return name;
}

// docker save's manifest.json has no digests of its own: the config's rootfs.diff_ids are
// the sha256 of each (uncompressed) layer tar, and the config is named by its sha256. The
// image's digest is that of the docker schema-2 manifest derived from them (config and
// layer digests and sizes, serialized by Boost.JSON in a fixed order): stable for the same
// content, and not the digest a registry would show for the image.
ResolvedImage resolve_docker(ImageSource& source, const ImageRef& ref, const Platform& want) {
  auto stream = source.open("manifest.json");
  if (!stream) throw ImageError("not a docker archive: no manifest.json");
  const json::value top =
      parse_json(read_all(*stream, kMaxJsonBlob, "manifest.json"), "manifest.json");
  if (!top.is_array()) throw ImageError("manifest.json: not a list");
  const json::object* chosen = nullptr;
  std::vector<std::string> names;
  for (const auto& item : top.get_array()) {
    const auto& o = as_object(item, "manifest.json entry");
    const auto tags = string_list(o, "RepoTags", "manifest.json entry");
    for (const auto& t : tags) {
      names.push_back(t);
      if (!ref.tag.empty() && docker_normal(t) == docker_normal(ref.tag)) chosen = &o;
    }
  }
  if (ref.tag.empty()) {
    if (top.get_array().size() != 1) {
      throw ImageError("manifest.json lists " + std::to_string(top.get_array().size()) +
                       " images: name one as NAME:TAG (tags: " + join(names) + ")");
    }
    chosen = &top.get_array().front().get_object();
  }
  if (chosen == nullptr) {
    throw ImageError("no image tagged \"" + ref.tag + "\" (tags: " + join(names) + ")");
  }

  const std::string config_path = string_field(*chosen, "Config", "manifest.json entry");
  auto config_stream = source.open(config_path);
  if (!config_stream) throw ImageError("config " + config_path + ": missing from the archive");
  ResolvedImage image;
  image.config_json = read_all(*config_stream, kMaxJsonBlob, "config " + config_path);
  const std::string config_digest = sha256_digest(image.config_json);
  // Named by its digest ("HEX.json" from docker, "blobs/sha256/HEX" from newer docker).
  std::string stem = std::filesystem::path(config_path).stem().string();
  if (is_sha256_digest("sha256:" + stem) && "sha256:" + stem != config_digest) {
    throw ImageError("config " + config_path + ": digest mismatch (content is " + config_digest +
                     ")");
  }
  const std::string config_what = "config " + short_digest(config_digest);
  const json::value config_value = parse_json(image.config_json, config_what);
  const auto& config = as_object(config_value, config_what);
  image.config = parse_config(config, want, config_what);
  const json::value* rootfs = config.if_contains("rootfs");
  if (rootfs == nullptr || !rootfs->is_object()) {
    throw ImageError(config_what + ": no \"rootfs\"");
  }
  const auto diff_ids = string_list(rootfs->get_object(), "diff_ids", config_what);
  const auto layer_paths = string_list(*chosen, "Layers", "manifest.json entry");
  if (diff_ids.size() != layer_paths.size()) {
    throw ImageError("manifest.json lists " + std::to_string(layer_paths.size()) +
                     " layers, the config's diff_ids " + std::to_string(diff_ids.size()));
  }
  json::array layers;
  for (std::size_t i = 0; i < layer_paths.size(); ++i) {
    if (!is_sha256_digest(diff_ids[i])) {
      throw ImageError(config_what + ": diff_id \"" + diff_ids[i] + "\" is not sha256");
    }
    auto layer = source.open(layer_paths[i]);
    if (!layer) throw ImageError("layer " + layer_paths[i] + ": missing from the archive");
    image.layers.push_back({layer_paths[i], diff_ids[i], layer->size(), Compression::kAny});
    layers.push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"},
                      {"size", layer->size()},
                      {"digest", diff_ids[i]}});
  }
  const json::object manifest = {{"schemaVersion", 2},
                                 {"mediaType", kDockerManifest},
                                 {"config",
                                  {{"mediaType", kDockerConfig},
                                   {"size", image.config_json.size()},
                                   {"digest", config_digest}}},
                                 {"layers", std::move(layers)}};
  image.digest = sha256_digest(json::serialize(manifest));
  return image;
}

}  // namespace

ResolvedImage resolve_image(ImageSource& source, const ImageRef& ref, const Platform& platform) {
  if (ref.transport == Transport::kDockerArchive) return resolve_docker(source, ref, platform);
  return resolve_oci(source, ref, platform);
}

}  // namespace ember::image
