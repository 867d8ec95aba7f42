#include "control_images.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace ember::engine {

namespace {

constexpr std::string_view kForms =
    "oci:/DIR[:TAG], oci-archive:/FILE[:TAG] or docker-archive:/FILE[:NAME:TAG]";

bool is_transport(std::string_view name) {
  constexpr std::array<std::string_view, 3> kTransports = {"oci", "oci-archive", "docker-archive"};
  return std::ranges::any_of(kTransports, [name](std::string_view t) { return t == name; });
}

// A registry's repository (docker://R/NAME:TAG or R/NAME:TAG) as the skopeo command that
// copies it to the node, to show in the refusal.
std::string copy_hint(std::string_view uri) {
  if (uri.starts_with("docker://")) uri.remove_prefix(9);
  std::string_view name =
      uri.substr(uri.rfind('/') == std::string_view::npos ? 0 : uri.rfind('/') + 1);
  name = name.substr(0, name.find('@'));
  std::string dir(name.substr(0, name.find(':')));
  std::string tag = name.find(':') == std::string_view::npos
                        ? "latest"
                        : std::string(name.substr(name.find(':') + 1));
  if (dir.empty()) dir = "image";
  return "skopeo copy docker://" + std::string(uri) + " oci:/var/lib/ember/images/" + dir + ":" +
         tag;
}

std::variant<std::vector<std::string>, std::string> string_list(const boost::json::value& v,
                                                                std::string_view key) {
  if (!v.is_array()) return "ImageConfig." + std::string(key) + " must be a list of strings";
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string() || item.as_string().empty()) {
      return "ImageConfig." + std::string(key) + " must be a list of non-empty strings";
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

}  // namespace

std::variant<image::ImageRef, std::string> parse_image_uri(const std::string& uri) {
  const auto colon = uri.find(':');
  if (colon == std::string::npos || !is_transport(std::string_view(uri).substr(0, colon))) {
    return "ImageUri " + uri +
           " is not an image on this node: ember pulls from no registry (ECR or any other). "
           "Copy the image to the node first, e.g. `" +
           copy_hint(uri) + "`, and give ImageUri as " + std::string(kForms) +
           " with an absolute path";
  }
  if (colon + 1 >= uri.size() || uri[colon + 1] != '/') {
    return "ImageUri " + uri + ": the path must be absolute (" + std::string(kForms) +
           "): a request has no directory a relative path could be relative to";
  }
  try {
    return image::parse_image_ref(uri, "/");
  } catch (const image::ImageError& e) {
    return "ImageUri " + std::string(e.what());
  }
}

std::variant<config::ImageOverrides, std::string> parse_image_config(const boost::json::value& v) {
  config::ImageOverrides out;
  if (v.is_null()) return out;
  if (!v.is_object()) {
    return std::string(
        "ImageConfig must be {\"EntryPoint\": [...], \"Command\": [...], \"WorkingDirectory\": "
        "\"/...\"}");
  }
  for (const auto& [key, value] : v.as_object()) {
    if (value.is_null()) continue;
    if (key == "EntryPoint" || key == "Command") {
      auto list = string_list(value, key);
      if (auto* why = std::get_if<std::string>(&list)) return *why;
      (key == "EntryPoint" ? out.entrypoint : out.command) =
          std::get<std::vector<std::string>>(std::move(list));
    } else if (key == "WorkingDirectory") {
      if (!value.is_string() || (!value.as_string().empty() && value.as_string()[0] != '/')) {
        return std::string("ImageConfig.WorkingDirectory must be an absolute path in the image");
      }
      out.working_directory = value.as_string();
    } else {
      return "ImageConfig." + std::string(key) +
             " is unknown (EntryPoint, Command and WorkingDirectory are)";
    }
  }
  return out;
}

boost::json::object image_code(const std::string& image_uri, const std::string& digest) {
  std::string resolved = image_uri;
  try {
    auto ref = image::parse_image_ref(image_uri, "/");
    ref.tag.clear();
    resolved = ref.to_string();
  } catch (const image::ImageError&) {
    // Stored by this node, so it reads; if not, the reference as stored.
  }
  // "ECR" as Lambda says of every image, so clients that branch on it see an image.
  return {{"RepositoryType", "ECR"},
          {"ImageUri", image_uri},
          {"ResolvedImageUri", resolved + "@" + digest}};
}

}  // namespace ember::engine
