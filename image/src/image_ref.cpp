#include <algorithm>
#include <array>
#include <utility>

#include "ember/image/image.hpp"

namespace ember::image {
namespace {

constexpr std::array<std::pair<std::string_view, Transport>, 3> kTransports{{
    {"oci", Transport::kOciLayout},
    {"oci-archive", Transport::kOciArchive},
    {"docker-archive", Transport::kDockerArchive},
}};

}  // namespace

ImageRef parse_image_ref(std::string_view text, const std::filesystem::path& relative_to) {
  const auto colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  const auto* known = std::find_if(kTransports.begin(), kTransports.end(),
                                   [&](const auto& entry) { return entry.first == name; });
  if (colon == std::string_view::npos || known == kTransports.end()) {
    throw ImageError(std::string(text) +
                     ": expected oci:DIR[:TAG], oci-archive:FILE[:TAG] or "
                     "docker-archive:FILE[:NAME:TAG]");
  }
  ImageRef ref;
  ref.transport = known->second;
  std::string_view rest = text.substr(colon + 1);
  // The path ends at the first ':'; docker-archive's reference is NAME:TAG after it.
  const auto tag_colon = rest.find(':');
  if (tag_colon != std::string_view::npos) {
    ref.tag = rest.substr(tag_colon + 1);
    rest = rest.substr(0, tag_colon);
  }
  if (rest.empty()) throw ImageError(std::string(text) + ": the path is empty");
  ref.path = (relative_to / rest).lexically_normal();
  return ref;
}

std::string ImageRef::to_string() const {
  std::string out;
  for (const auto& [name, transport_of_name] : kTransports) {
    if (transport_of_name == transport) out = std::string(name);
  }
  out += ":" + path.string();
  if (!tag.empty()) out += ":" + tag;
  return out;
}

}  // namespace ember::image
