// Image functions (PackageType Image) through the control plane with unchanged clients (AWS CLI
// v2, v1, boto3): ImageUri names an image on the node's disk (built here with umoci, no Docker,
// no registry); create, invoke, get-function (the digest), update-function-code to another
// image, publish-version and invoke each version, ImageConfig; Lambda's errors for a registry
// URI, a relative path and a corrupt image while the node goes on serving; a restart keeps the
// function even when the image it came from is gone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "control_plane_support.hpp"
#include "test_images.hpp"

namespace ember::test {
namespace {

// A runtime in BusyBox sh that answers every event with {"image":"two"}.
constexpr const char* kSecondBootstrap = R"(#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  wget -q -S -O /tmp/event "$api/invocation/next" 2>/tmp/headers || exit 1
  id=$(sed -n 's/^ *[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\([^[:space:]]*\).*/\1/p' /tmp/headers)
  wget -q -O /dev/null --post-data='{"image":"two"}' "$api/invocation/$id/response" || exit 1
done
)";

const std::string kRole = "arn:aws:iam::000000000000:role/ember";

class ControlPlaneImage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0 || missing_image_tools()) return;
    images_ = new TempDir("ember-test-api-images-");
    // The first image: BusyBox and a runtime that returns each event (examples/images).
    const auto built =
        run({"bash", (source_dir() / "examples" / "images" / "build-echo-image.sh").string(),
             (images_->path() / "echo").string()});
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    // The second: BusyBox and a runtime that answers {"image":"two"}.
    const fs::path root = images_->path() / "two-root";
    make_busybox_root(root);
    for (const char* applet : {"wget", "sed"}) fs::create_symlink("busybox", root / "bin" / applet);
    {
      std::ofstream out(root / "bootstrap");
      out << kSecondBootstrap;
    }
    fs::permissions(root / "bootstrap", fs::perms(0755));
    ImageSpec spec;
    spec.entrypoint = {"/bootstrap"};
    spec.env = {"PATH=/bin"};
    build_oci_image(root, images_->path() / "two", "v2", spec);
  }
  static void TearDownTestSuite() {
    delete images_;
    images_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
    if (auto missing = missing_image_tools()) GTEST_SKIP() << *missing;
    ASSERT_NE(images_, nullptr);
  }

  static std::string echo_uri() { return "oci:" + (images_->path() / "echo").string() + ":latest"; }
  static std::string two_uri() { return "oci:" + (images_->path() / "two").string() + ":v2"; }
  static std::string echo_digest() { return manifest_digest(images_->path() / "echo", "latest"); }
  static std::string two_digest() { return manifest_digest(images_->path() / "two", "v2"); }

  static CommandResult create(const Cli& cli, const std::string& name, const std::string& uri,
                              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"create-function", "--function-name", name,
                                     "--package-type",  "Image",           "--code",
                                     "ImageUri=" + uri, "--role",          kRole};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli.lambda(args);
  }

  static TempDir* images_;
};

TempDir* ControlPlaneImage::images_ = nullptr;

// Create, invoke, get-function, publish, update to the second image, publish, invoke each.
void image_function_life(const Cli& cli, const Node& node, const std::string& name,
                         const std::string& echo_uri, const std::string& echo_digest,
                         const std::string& two_uri, const std::string& two_digest) {
  auto created = cli.lambda({"create-function", "--function-name", name, "--package-type", "Image",
                             "--code", "ImageUri=" + echo_uri, "--role", kRole});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto config = json_of(created);
  EXPECT_EQ(config["PackageType"], "Image");
  EXPECT_EQ(text(config["CodeSha256"]), echo_digest.substr(7));
  EXPECT_FALSE(config.contains("Runtime")) << created.out;
  EXPECT_FALSE(config.contains("ImageConfigResponse")) << created.out;

  const auto first = node.invoke(name, R"({"say":"one"})");
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, R"({"say":"one"})");

  auto got = cli.lambda({"get-function", "--function-name", name});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  auto whole = json_of(got);
  EXPECT_EQ(whole["Configuration"].at("PackageType"), "Image");
  EXPECT_EQ(whole["Code"].at("RepositoryType"), "ECR");
  EXPECT_EQ(text(whole["Code"].at("ImageUri")), echo_uri);
  const std::string resolved = text(whole["Code"].at("ResolvedImageUri"));
  EXPECT_EQ(resolved, echo_uri.substr(0, echo_uri.rfind(':')) + "@" + echo_digest);

  auto published = cli.lambda({"publish-version", "--function-name", name});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_EQ(json_of(published)["Version"], "1");

  auto updated =
      cli.lambda({"update-function-code", "--function-name", name, "--image-uri", two_uri});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(text(json_of(updated)["CodeSha256"]), two_digest.substr(7));
  const auto second = node.invoke(name, R"({"say":"one"})");
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.body, R"({"image":"two"})");

  auto again = cli.lambda({"publish-version", "--function-name", name});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json_of(again)["Version"], "2");

  // Each version runs the image it froze, in its own pool.
  const auto [v1, v1_out] = cli.invoke_reporting(name, {"--qualifier", "1"});
  EXPECT_EQ(v1, "{}");  // the CLI's payload, echoed
  EXPECT_EQ(v1_out.at("ExecutedVersion"), "1");
  const auto [v2, v2_out] = cli.invoke_reporting(name + ":2");
  EXPECT_EQ(v2, R"({"image":"two"})");
  EXPECT_EQ(v2_out.at("ExecutedVersion"), "2");
  auto got_v1 = cli.lambda({"get-function", "--function-name", name, "--qualifier", "1"});
  ASSERT_EQ(got_v1.exit_code, 0) << got_v1.err;
  EXPECT_EQ(text(json_of(got_v1)["Code"].at("ImageUri")), echo_uri);
}

TEST_F(ControlPlaneImage, AwsCliV2CreatesUpdatesAndPublishesAnImageFunction) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  image_function_life(Cli("/usr/bin/aws", node), node, "img", echo_uri(), echo_digest(), two_uri(),
                      two_digest());
}

TEST_F(ControlPlaneImage, AwsCliV1CreatesUpdatesAndPublishesAnImageFunction) {
  const auto aws = aws_v1();
  if (!aws) GTEST_SKIP() << "no AWS CLI v1 first on PATH";
  Node node({hello()});
  image_function_life(Cli(*aws, node), node, "img", echo_uri(), echo_digest(), two_uri(),
                      two_digest());
}

TEST_F(ControlPlaneImage, Boto3CreatesUpdatesAndPublishesAnImageFunction) {
  if (run({"python3", "-c", "import boto3"}).exit_code != 0) GTEST_SKIP() << "boto3 missing";
  Node node({hello()});
  const std::string script = R"(
import json, sys, boto3
endpoint, one, two = sys.argv[1:4]
c = boto3.client("lambda", endpoint_url=endpoint)
r = c.create_function(FunctionName="img", PackageType="Image", Code={"ImageUri": one},
                      Role="arn:aws:iam::000000000000:role/x",
                      ImageConfig={"Command": ["boto.handler"], "WorkingDirectory": "/tmp"})
print("created", r["PackageType"], r["CodeSha256"], json.dumps(r["ImageConfigResponse"], sort_keys=True))
print("invoke", c.invoke(FunctionName="img", Payload=b'{"n":1}')["Payload"].read().decode())
f = c.get_function(FunctionName="img")
print("code", f["Code"]["RepositoryType"], f["Code"]["ResolvedImageUri"])
print("v", c.publish_version(FunctionName="img")["Version"])
c.update_function_code(FunctionName="img", ImageUri=two)
print("invoke", c.invoke(FunctionName="img", Payload=b'{"n":2}')["Payload"].read().decode())
print("v", c.publish_version(FunctionName="img")["Version"])
print("invoke1", c.invoke(FunctionName="img", Qualifier="1", Payload=b'{"n":3}')["Payload"].read().decode())
for call in [lambda: c.update_function_code(FunctionName="img", ZipFile=b"PK"),
             lambda: c.create_function(FunctionName="bad", PackageType="Image", Role="r",
                                       Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag"})]:
    try:
        call()
        print("error none")
    except c.exceptions.ClientError as e:
        print("error", e.response["Error"]["Code"], e.response["Error"]["Message"])
)";
  auto result = run({"python3", "-c", script, node.endpoint(), echo_uri(), two_uri()},
                    Node::aws_env(), std::chrono::seconds(120));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(
                "created Image " + echo_digest().substr(7) +
                R"( {"ImageConfig": {"Command": ["boto.handler"], "WorkingDirectory": "/tmp"}})"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("invoke {\"n\":1}\n"), std::string::npos) << result.out;
  EXPECT_NE(
      node.wait_for_log("img", "boto.handler").find("echo runtime: handler boto.handler in /tmp"),
      std::string::npos)
      << node.logs("img");
  EXPECT_NE(result.out.find("code ECR " + echo_uri().substr(0, echo_uri().rfind(':')) + "@" +
                            echo_digest()),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("v 1\ninvoke {\"image\":\"two\"}\nv 2\ninvoke1 {\"n\":3}\n"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("error InvalidParameterValueException Please provide ImageUri when "
                            "updating a function with packageType Image"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("error InvalidParameterValueException ImageUri "
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag is not an image "
                            "on this node: ember pulls from no registry"),
            std::string::npos)
      << result.out;
}

TEST_F(ControlPlaneImage, ImageConfigOverridesTheImageAndIsShown) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const Cli cli("/usr/bin/aws", node);
  auto created = create(cli, "custom", echo_uri(),
                        {"--image-config",
                         "EntryPoint=/lambda-entrypoint.sh,Command=other.handler,"
                         "WorkingDirectory=/tmp"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto shown = json_of(created)["ImageConfigResponse"].at("ImageConfig");
  EXPECT_EQ(shown.at("EntryPoint").as_array(), boost::json::array{"/lambda-entrypoint.sh"});
  EXPECT_EQ(shown.at("Command").as_array(), boost::json::array{"other.handler"});
  EXPECT_EQ(shown.at("WorkingDirectory"), "/tmp");
  EXPECT_EQ(node.invoke("custom", "{}").status, 200);
  EXPECT_NE(node.wait_for_log("custom", "other.handler")
                .find("echo runtime: handler other.handler in /tmp"),
            std::string::npos)
      << node.logs("custom");

  // UpdateFunctionConfiguration replaces it; a program that is not in the image is refused.
  auto missing = cli.lambda({"update-function-configuration", "--function-name", "custom",
                             "--image-config", "EntryPoint=no-such-program"});
  EXPECT_NE(missing.err.find("(InvalidParameterValueException)"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("no-such-program is not in the image's PATH"), std::string::npos)
      << missing.err;
  auto changed = cli.lambda({"update-function-configuration", "--function-name", "custom",
                             "--image-config", "Command=third.handler"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(node.invoke("custom", "{}").status, 200);
  EXPECT_NE(node.wait_for_log("custom", "third.handler")
                .find("echo runtime: handler third.handler in /var/task"),
            std::string::npos)
      << node.logs("custom");
  // Runtime and Handler are not for images.
  auto runtime = cli.lambda(
      {"update-function-configuration", "--function-name", "custom", "--runtime", "python3.11"});
  EXPECT_NE(runtime.err.find("Runtime is not for PackageType Image"), std::string::npos)
      << runtime.err;
}

TEST_F(ControlPlaneImage, BadImagesAreRefusedWithTheReasonAndTheNodeServesOn) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const Cli cli("/usr/bin/aws", node);

  const std::string registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag";
  auto pulled = create(cli, "reg", registry);
  EXPECT_NE(pulled.err.find("(InvalidParameterValueException)"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("ember pulls from no registry"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("skopeo copy docker://" + registry + " oci:"), std::string::npos)
      << pulled.err;
  EXPECT_NE(pulled.err.find("oci:/DIR[:TAG], oci-archive:/FILE[:TAG] or "
                            "docker-archive:/FILE[:NAME:TAG]"),
            std::string::npos)
      << pulled.err;

  auto relative = create(cli, "rel", "oci:images/echo:latest");
  EXPECT_NE(relative.err.find("(InvalidParameterValueException)"), std::string::npos)
      << relative.err;
  EXPECT_NE(relative.err.find("ImageUri oci:images/echo:latest: the path must be absolute"),
            std::string::npos)
      << relative.err;

  const std::string missing = "oci:" + (node.dir() / "no-such-layout").string() + ":latest";
  auto absent = create(cli, "absent", missing);
  EXPECT_NE(absent.err.find("(InvalidParameterValueException)"), std::string::npos) << absent.err;
  EXPECT_NE(absent.err.find("ImageUri " + missing + ": "), std::string::npos) << absent.err;

  auto tag = create(cli, "tag", echo_uri().substr(0, echo_uri().rfind(':')) + ":nope");
  EXPECT_NE(tag.err.find("no image tagged \"nope\" (tags: latest)"), std::string::npos) << tag.err;

  // A copy of the first image with its layer's bytes changed: the digest does not match.
  const fs::path corrupt = node.dir() / "corrupt";
  fs::copy(images_->path() / "echo", corrupt, fs::copy_options::recursive);
  fs::path layer;
  for (const auto& blob : fs::directory_iterator(corrupt / "blobs" / "sha256")) {
    if (layer.empty() || fs::file_size(blob.path()) > fs::file_size(layer)) layer = blob.path();
  }
  {
    std::fstream out(layer, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(static_cast<std::streamoff>(fs::file_size(layer) / 2));
    out.write("corrupted!", 10);
  }
  auto bad = create(cli, "bad", "oci:" + corrupt.string() + ":latest");
  EXPECT_NE(bad.err.find("(InvalidParameterValueException)"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("layer sha256:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("digest mismatch"), std::string::npos) << bad.err;

  // An image for another architecture.
  const fs::path s390x_root = node.dir() / "s390x-root";
  make_busybox_root(s390x_root);
  build_oci_image(s390x_root, node.dir() / "s390x", "v1",
                  ImageSpec{.entrypoint = {"/bin/sh"}, .architecture = "s390x"});
  auto arch = create(cli, "arch", "oci:" + (node.dir() / "s390x").string() + ":v1");
  EXPECT_NE(arch.err.find("(InvalidParameterValueException)"), std::string::npos) << arch.err;
  EXPECT_NE(arch.err.find("image is for linux/s390x, this node is linux/"), std::string::npos)
      << arch.err;

  // A hostile layer on top of the first image: an entry that would write outside the root.
  const fs::path hostile = node.dir() / "hostile";
  fs::copy(images_->path() / "echo", hostile, fs::copy_options::recursive);
  append_layer(hostile, "latest", {{.path = "../escaped", .data = "x"}});
  auto escape = create(cli, "escape", "oci:" + hostile.string() + ":latest");
  EXPECT_NE(escape.err.find("(InvalidParameterValueException)"), std::string::npos) << escape.err;
  EXPECT_NE(escape.err.find("entry \"../escaped\": refused, '..' in the path"), std::string::npos)
      << escape.err;
  EXPECT_FALSE(fs::exists(node.state_dir() / "escaped"));
  EXPECT_FALSE(fs::exists(node.state_dir() / "images" / "escaped"));

  // Nothing half made: no function, no unpacked leftovers; the node serves on.
  for (const std::string name : {"reg", "rel", "absent", "tag", "bad", "arch", "escape"}) {
    EXPECT_NE(cli.lambda({"get-function", "--function-name", name}).exit_code, 0) << name;
    EXPECT_FALSE(fs::exists(node.state_dir() / "functions" / (name + ".json"))) << name;
  }
  for (const auto& entry : fs::directory_iterator(node.state_dir() / "images")) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("tmp-")) << entry.path();
  }
  const auto served = node.invoke("hello", R"({"key1":"still"})");
  EXPECT_EQ(served.status, 200) << served.body;
  ASSERT_EQ(create(cli, "good", echo_uri()).exit_code, 0);
  EXPECT_EQ(node.invoke("good", R"("fine")").body, R"("fine")");
}

TEST_F(ControlPlaneImage, ARestartKeepsTheFunctionEvenWhenItsSourceIsGone) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  TempDir state("ember-control-image-state-");
  const fs::path copy = state.path() / "echo";
  fs::copy(images_->path() / "echo", copy, fs::copy_options::recursive);
  const std::string uri = "oci:" + copy.string() + ":latest";
  {
    Node node({hello()}, {}, state.path() / "state");
    const Cli cli("/usr/bin/aws", node);
    ASSERT_EQ(create(cli, "kept", uri, {"--image-config", "Command=kept.handler"}).exit_code, 0);
    ASSERT_EQ(cli.lambda({"publish-version", "--function-name", "kept"}).exit_code, 0);
    EXPECT_EQ(node.invoke("kept", R"("before")").body, R"("before")");
    EXPECT_EQ(node.stop(), 0);
  }
  EXPECT_TRUE(fs::exists(state.path() / "state" / "functions" / "kept.json"));
  // The image the function runs is in the node's store; the layout it came from may go.
  fs::remove_all(copy);
  // `ember image prune` keeps what the stored functions use, with no node running.
  const fs::path config = state.path() / "ember.yaml";
  {
    std::ofstream out(config);
    out << "node:\n  state_dir: \"" << (state.path() / "state").string() << "\"\nfunctions: []\n";
  }
  const auto ls = run({ember_exe().string(), "image", "ls", "--config", config.string()});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find(echo_digest().substr(0, 19) + "  "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("kept,kept:1"), std::string::npos) << ls.out;
  const auto pruned = run({ember_exe().string(), "image", "prune", "--config", config.string()});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("0 image(s) removed"), std::string::npos) << pruned.out;
  Node again({hello()}, {}, state.path() / "state");
  // Loaded without a warning (they go to stderr).
  const std::string warnings = read(again.dir() / "stderr");
  EXPECT_EQ(warnings.find("control plane"), std::string::npos) << warnings;
  const auto reply = again.invoke("kept", R"("after")");
  EXPECT_EQ(reply.status, 200) << reply.body << again.stdout_text();
  EXPECT_EQ(reply.body, R"("after")");
  EXPECT_EQ(again.invoke("kept:1", R"("version")").body, R"("version")");
  EXPECT_NE(again.wait_for_log("kept", "kept.handler").find("handler kept.handler"),
            std::string::npos);
  const Cli cli("/usr/bin/aws", again);
  auto got = cli.lambda({"get-function", "--function-name", "kept"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  auto whole = json_of(got);
  EXPECT_EQ(whole["Configuration"].at("PackageType"), "Image");
  EXPECT_EQ(text(whole["Configuration"].at("CodeSha256")), echo_digest().substr(7));
  EXPECT_EQ(text(whole["Code"].at("ImageUri")), uri);
}

}  // namespace
}  // namespace ember::test
