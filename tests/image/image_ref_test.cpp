#include <gtest/gtest.h>

#include "ember/image/image.hpp"

namespace ember::image {
namespace {

TEST(ImageRef, ParsesEachTransportRelativeToTheGivenDirectory) {
  const auto oci = parse_image_ref("oci:img:v1", "/etc/ember");
  EXPECT_EQ(oci.transport, Transport::kOciLayout);
  EXPECT_EQ(oci.path, "/etc/ember/img");
  EXPECT_EQ(oci.tag, "v1");

  const auto archive = parse_image_ref("oci-archive:/srv/img.tar", "/etc/ember");
  EXPECT_EQ(archive.transport, Transport::kOciArchive);
  EXPECT_EQ(archive.path, "/srv/img.tar");
  EXPECT_EQ(archive.tag, "");

  const auto docker = parse_image_ref("docker-archive:../save.tar:localhost:5000/fn:2", "/a/b");
  EXPECT_EQ(docker.transport, Transport::kDockerArchive);
  EXPECT_EQ(docker.path, "/a/save.tar");
  EXPECT_EQ(docker.tag, "localhost:5000/fn:2");
}

TEST(ImageRef, DockerArchiveNameWithoutTagMeansLatest) {
  EXPECT_EQ(parse_image_ref("docker-archive:s.tar:fn", "/").tag, "fn:latest");
  EXPECT_EQ(parse_image_ref("docker-archive:s.tar:localhost:5000/fn", "/").tag,
            "localhost:5000/fn:latest");
}

TEST(ImageRef, ToStringParsesBackToTheSameReference) {
  for (const char* text : {"oci:/x/img:v1", "oci-archive:/x/a.tar", "docker-archive:/s.tar:fn:1"}) {
    const auto ref = parse_image_ref(text, "/");
    EXPECT_EQ(ref.to_string(), text);
    EXPECT_EQ(parse_image_ref(ref.to_string(), "/"), ref);
  }
}

std::string error_of(const char* text) {
  try {
    (void)parse_image_ref(text, "/");
  } catch (const ImageError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(ImageRef, RefusesUnknownTransportsEmptyPathsAndEmptyTags) {
  EXPECT_EQ(error_of("docker://busybox"),
            "docker://busybox: unknown transport 'docker' (known: oci, oci-archive, "
            "docker-archive)");
  EXPECT_EQ(error_of("busybox"),
            "busybox: not an image reference (TRANSPORT:PATH[:TAG], with TRANSPORT one of oci, "
            "oci-archive, docker-archive)");
  EXPECT_EQ(error_of("oci:"), "oci:: empty path");
  EXPECT_EQ(error_of("oci::v1"), "oci::v1: empty path");
  EXPECT_EQ(error_of("oci:img:"), "oci:img:: empty tag after ':'");
}

TEST(Platform, NamesTheHostInGoArchitectureNames) {
  const Platform host = Platform::host();
  EXPECT_EQ(host.os, "linux");
#if defined(__x86_64__)
  EXPECT_EQ(host.to_string(), "linux/amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(host.to_string(), "linux/arm64/v8");
#endif
}

}  // namespace
}  // namespace ember::image
