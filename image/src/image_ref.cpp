// References in skopeo's transport syntax, and the node's platform.
#include <sys/utsname.h>

#include "ember/image/image.hpp"

namespace ember::image {

namespace {

struct TransportName {
  Transport transport;
  std::string_view name;
};

constexpr TransportName kTransports[] = {
    {Transport::kOciLayout, "oci"},
    {Transport::kOciArchive, "oci-archive"},
    {Transport::kDockerArchive, "docker-archive"},
};

std::string_view name_of(Transport transport) {
  for (const auto& t : kTransports) {
    if (t.transport == transport) return t.name;
  }
  return "?";
}

// skopeo's default: a docker-archive reference without a tag means NAME:latest. The tag is
// after the last ':' that follows the last '/' (a registry may carry a port).
std::string with_default_tag(std::string name) {
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    name += ":latest";
  }
  return name;
}

}  // namespace

std::string ImageRef::to_string() const {
  std::string text{name_of(transport)};
  text += ':';
  text += path.string();
  if (!tag.empty()) {
    text += ':';
    text += tag;
  }
  return text;
}

ImageRef parse_image_ref(std::string_view text, const std::filesystem::path& relative_to) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    throw ImageError(std::string(text) +
                     ": not an image reference (TRANSPORT:PATH[:TAG], with TRANSPORT one of "
                     "oci, oci-archive, docker-archive)");
  }
  const std::string_view transport_name = text.substr(0, colon);
  ImageRef ref;
  bool known = false;
  for (const auto& t : kTransports) {
    if (t.name == transport_name) {
      ref.transport = t.transport;
      known = true;
    }
  }
  if (!known) {
    throw ImageError(std::string(text) + ": unknown transport '" + std::string(transport_name) +
                     "' (known: oci, oci-archive, docker-archive)");
  }
  // As skopeo does: the path ends at the first ':' after the transport; the rest is the tag
  // (docker-archive's NAME:TAG keeps its own ':').
  const std::string_view rest = text.substr(colon + 1);
  const auto tag_colon = rest.find(':');
  const std::string_view path = rest.substr(0, tag_colon);
  if (path.empty()) throw ImageError(std::string(text) + ": empty path");
  if (tag_colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(tag_colon + 1));
    if (ref.tag.empty()) throw ImageError(std::string(text) + ": empty tag after ':'");
    if (ref.transport == Transport::kDockerArchive) ref.tag = with_default_tag(ref.tag);
  }
  ref.path = (relative_to / std::filesystem::path(path)).lexically_normal();
  if (ref.path.is_relative()) ref.path = std::filesystem::absolute(ref.path).lexically_normal();
  if (!ref.path.has_filename() && ref.path != ref.path.root_path()) {
    ref.path = ref.path.parent_path();  // "dir/" names dir
  }
  return ref;
}

Platform Platform::host() {
  utsname name{};
  ::uname(&name);
  const std::string_view machine = name.machine;
  Platform platform;
  if (machine == "x86_64") {
    platform.architecture = "amd64";
  } else if (machine == "aarch64" || machine == "arm64") {
    platform.architecture = "arm64";
    platform.variant = "v8";
  } else if (machine.substr(0, 5) == "armv7") {
    platform.architecture = "arm";
    platform.variant = "v7";
  } else if (machine.substr(0, 5) == "armv6") {
    platform.architecture = "arm";
    platform.variant = "v6";
  } else if (machine == "i386" || machine == "i686") {
    platform.architecture = "386";
  } else {
    platform.architecture = std::string(machine);  // ppc64le, s390x, riscv64: same names
  }
  return platform;
}

std::string Platform::to_string() const {
  std::string text = os + "/" + architecture;
  if (!variant.empty()) text += "/" + variant;
  return text;
}

}  // namespace ember::image
