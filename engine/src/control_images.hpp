// What the control plane reads and shows of image functions (PackageType Image): ImageUri,
// which names an image on the node's disk in ember's reference syntax (no registry is ever
// pulled from), ImageConfig, and GetFunction's Code of an image.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <variant>

#include "ember/config/config.hpp"
#include "ember/image/image.hpp"

namespace ember::engine {

// ImageUri as a reference with an absolute path, or why it is refused: a registry's URI
// (ember has no registry access; the message says how to copy the image to the node first), a
// relative path (there is no file it could be relative to), or a reference that does not read.
std::variant<image::ImageRef, std::string> parse_image_uri(const std::string& uri);

// Lambda's ImageConfig {"EntryPoint": [...], "Command": [...], "WorkingDirectory": "/..."},
// or why it is refused. Null or {} is no override.
std::variant<config::ImageOverrides, std::string> parse_image_config(const boost::json::value& v);

// GetFunction's Code of an image function: RepositoryType, ImageUri, and ResolvedImageUri (the
// reference without its tag, @ the manifest digest "sha256:HEX").
boost::json::object image_code(const std::string& image_uri, const std::string& digest);

}  // namespace ember::engine
