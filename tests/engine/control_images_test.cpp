// What the control plane reads of image functions (engine/src/control_images.*): ImageUri
// (ember's references with absolute paths; registries and relative paths refused with the way
// out), ImageConfig, GetFunction's Code, and how an image function is stored and versioned.
#include "control_images.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "function_store.hpp"
#include "function_versions.hpp"

namespace ember::engine {
namespace {

std::string refusal(const std::string& uri) {
  const auto parsed = parse_image_uri(uri);
  const auto* why = std::get_if<std::string>(&parsed);
  return why == nullptr ? "" : *why;
}

std::string config_refusal(const std::string& json) {
  const auto parsed = parse_image_config(boost::json::parse(json));
  const auto* why = std::get_if<std::string>(&parsed);
  return why == nullptr ? "" : *why;
}

TEST(ControlImages, ImageUriTakesEmbersReferencesWithAbsolutePaths) {
  const auto layout = std::get<image::ImageRef>(parse_image_uri("oci:/srv/images/fn:v1"));
  EXPECT_EQ(layout.transport, image::Transport::kOciLayout);
  EXPECT_EQ(layout.path, "/srv/images/fn");
  EXPECT_EQ(layout.tag, "v1");
  const auto docker = std::get<image::ImageRef>(parse_image_uri("docker-archive:/a/b.tar:fn"));
  EXPECT_EQ(docker.tag, "fn:latest");
  EXPECT_EQ(std::get<image::ImageRef>(parse_image_uri("oci-archive:/a/b.tar")).to_string(),
            "oci-archive:/a/b.tar");
}

TEST(ControlImages, ARegistryIsRefusedWithTheCopyThatWouldWork) {
  const auto ecr = refusal("123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag");
  EXPECT_NE(ecr.find("ember pulls from no registry"), std::string::npos) << ecr;
  EXPECT_NE(ecr.find("skopeo copy docker://123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag "
                     "oci:/var/lib/ember/images/repo:tag"),
            std::string::npos)
      << ecr;
  EXPECT_NE(ecr.find("oci:/DIR[:TAG], oci-archive:/FILE[:TAG] or docker-archive:/FILE[:NAME:TAG]"),
            std::string::npos)
      << ecr;
  for (const char* uri : {"docker://busybox:1", "busybox", "public.ecr.aws/lambda/python:3.12",
                          "localhost:5000/fn:v1"}) {
    EXPECT_NE(refusal(uri).find("ember pulls from no registry"), std::string::npos) << uri;
  }
  EXPECT_NE(refusal("docker://busybox").find("oci:/var/lib/ember/images/busybox:latest"),
            std::string::npos);
}

TEST(ControlImages, ARelativePathIsRefused) {
  for (const char* uri : {"oci:images/fn:v1", "oci-archive:fn.tar", "docker-archive:./fn.tar"}) {
    EXPECT_NE(refusal(uri).find(std::string("ImageUri ") + uri + ": the path must be absolute"),
              std::string::npos)
        << uri << ": " << refusal(uri);
  }
  EXPECT_NE(refusal("oci:").find("the path must be absolute"), std::string::npos);
  EXPECT_NE(refusal("oci:/x:").find("empty tag"), std::string::npos) << refusal("oci:/x:");
}

TEST(ControlImages, ImageConfigIsLambdasShape) {
  const auto c = std::get<config::ImageOverrides>(parse_image_config(boost::json::parse(
      R"({"EntryPoint":["/bin/sh","-c"],"Command":["app.handler"],"WorkingDirectory":"/w"})")));
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(c.command, (std::vector<std::string>{"app.handler"}));
  EXPECT_EQ(c.working_directory, "/w");
  EXPECT_EQ(std::get<config::ImageOverrides>(parse_image_config(boost::json::parse("{}"))),
            config::ImageOverrides{});
  EXPECT_NE(config_refusal(R"({"Command":"app.handler"})").find("must be a list of strings"),
            std::string::npos);
  EXPECT_NE(config_refusal(R"({"Command":[""]})").find("non-empty"), std::string::npos);
  EXPECT_NE(config_refusal(R"({"WorkingDirectory":"w"})").find("absolute"), std::string::npos);
  EXPECT_NE(config_refusal(R"({"Entrypoint":["x"]})").find("ImageConfig.Entrypoint is unknown"),
            std::string::npos);
  EXPECT_NE(config_refusal("[]").find("ImageConfig must be"), std::string::npos);
}

TEST(ControlImages, TheResolvedUriIsTheReferenceAtItsDigest) {
  const auto code = image_code("oci:/srv/fn:v1", "sha256:abc");
  EXPECT_EQ(code.at("RepositoryType"), "ECR");
  EXPECT_EQ(code.at("ImageUri"), "oci:/srv/fn:v1");
  EXPECT_EQ(code.at("ResolvedImageUri"), "oci:/srv/fn@sha256:abc");
  EXPECT_EQ(image_code("docker-archive:/a.tar:fn:v2", "sha256:abc").at("ResolvedImageUri"),
            "docker-archive:/a.tar@sha256:abc");
}

TEST(ControlImages, AnImageFunctionIsStoredAndReadBack) {
  StoredFunction f;
  f.name = "img";
  f.role = "r";
  f.code_sha256_hex = "ab12";
  f.image_uri = "oci:/srv/fn:v1";
  f.image_config.command = {"app.handler"};
  f.image_config.working_directory = "/w";
  const auto back = stored_function_from_json(to_json(f));
  EXPECT_TRUE(back.is_image());
  EXPECT_EQ(back.image_uri, f.image_uri);
  EXPECT_EQ(back.image_config, f.image_config);
  // A zip's record (also one written before images) reads as a zip.
  StoredFunction zip = f;
  zip.image_uri.clear();
  zip.image_config = {};
  auto json = to_json(zip);
  EXPECT_FALSE(json.contains("ImageUri"));
  EXPECT_FALSE(stored_function_from_json(json).is_image());
}

TEST(ControlImages, PublishingAgainAfterAnImageChangeMakesANewVersion) {
  StoredFunction f;
  f.name = "img";
  f.code_sha256_hex = "ab12";
  f.image_uri = "oci:/srv/fn:v1";
  FunctionVersions versions;
  versions.last_number = 1;
  versions.versions.emplace(1, f);
  EXPECT_EQ(versions.same_as_newest(f), 1U);
  StoredFunction configured = f;
  configured.image_config.command = {"other.handler"};
  EXPECT_FALSE(versions.same_as_newest(configured));
  StoredFunction retagged = f;
  retagged.image_uri = "oci:/srv/fn:v2";  // the same digest under another tag
  EXPECT_FALSE(versions.same_as_newest(retagged));
}

}  // namespace
}  // namespace ember::engine
