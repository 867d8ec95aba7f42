// Image functions (package type Image) end to end: images built here with umoci and skopeo
// (examples/images/build-echo-image.sh: BusyBox and a shell runtime), served by a real
// `ember serve`, invoked by a real client.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ember/client/oci_image.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;

class ImageFunction : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    images_ = new TempDir("ember-test-images-");
    const fs::path layout = images_->path() / "echo";
    const auto built =
        run({"bash", (source_dir() / "examples" / "images" / "build-echo-image.sh").string(),
             layout.string()});
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    for (const auto& [transport, file] :
         {std::pair{"docker-archive", "echo-docker.tar:echo:latest"},
          std::pair{"oci-archive", "echo-oci.tar:latest"}}) {
      const auto copied = run({"skopeo", "copy", "--quiet", "oci:" + layout.string() + ":latest",
                               std::string(transport) + ":" + (images_->path() / file).string()});
      ASSERT_EQ(copied.exit_code, 0) << copied.out << copied.err;
    }
  }
  static void TearDownTestSuite() {
    delete images_;
    images_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
    ASSERT_NE(images_, nullptr);
  }

  static std::string ref(const std::string& transport, const std::string& rest) {
    return transport + ":" + (images_->path() / rest).string();
  }
  static std::string echo_layout() { return ref("oci", "echo:latest"); }

  static FunctionSpec image_function(std::string name, std::string image) {
    FunctionSpec spec;
    spec.name = std::move(name);
    spec.image = std::move(image);
    return spec;
  }

  // What `ember serve` printed when it refused to start.
  static std::string refusal(const FunctionSpec& function) {
    try {
      const Node node({function});
    } catch (const std::exception& e) {
      return e.what();
    }
    ADD_FAILURE() << "ember serve started with " << function.image;
    return {};
  }

  static TempDir* images_;
};

TempDir* ImageFunction::images_ = nullptr;

TEST_F(ImageFunction, EachTransportRunsTheImageUnchanged) {
  Node node({image_function("layout", echo_layout()),
             image_function("docker", ref("docker-archive", "echo-docker.tar:echo:latest")),
             image_function("archive", ref("oci-archive", "echo-oci.tar:latest"))});
  for (const std::string name : {"layout", "docker", "archive"}) {
    const std::string payload = R"({"from":")" + name + R"("})";
    const auto reply = node.invoke(name, payload);
    EXPECT_EQ(reply.status, 200) << name << ": " << reply.body;
    EXPECT_EQ(reply.body, payload) << name;
    // The AWS base images' convention: the entrypoint ran the runtime with the command.
    EXPECT_NE(node.wait_for_log(name, "handler echo.handler in /var/task")
                  .find("echo runtime: handler echo.handler in /var/task"),
              std::string::npos)
        << node.logs(name);
  }
  // The OCI layout and the OCI archive hold the same manifest: one unpacked copy.
  std::size_t unpacked = 0;
  for (const auto& entry : fs::directory_iterator(node.dir() / "state" / "images")) {
    if (entry.path().filename().string().starts_with("sha256-")) ++unpacked;
  }
  EXPECT_EQ(unpacked, 2U);
}

TEST_F(ImageFunction, ImageConfigOverridesTheImagesCommandAndWorkingDirectory) {
  auto spec = image_function("custom", echo_layout());
  spec.image_config.command = {"other.handler"};
  spec.image_config.working_directory = "/tmp";
  Node node({spec});
  EXPECT_EQ(node.invoke("custom", "{}").status, 200);
  EXPECT_NE(node.wait_for_log("custom", "other.handler")
                .find("echo runtime: handler other.handler in /tmp"),
            std::string::npos)
      << node.logs("custom");
}

TEST_F(ImageFunction, TheRootIsTheImageReadOnlyWithAWritableTmp) {
  auto spec = image_function("probe", echo_layout());
  spec.image_config.entrypoint = {
      "sh", "-c",
      "touch /written 2>/dev/null && echo root-writable || echo root-read-only; "
      "touch /tmp/x && echo tmp-writable; "
      "test -e /usr/bin/python3 && echo sees-host-usr || echo own-root; "
      "echo \"env: PATH=$PATH task=$LAMBDA_TASK_ROOT fn=$AWS_LAMBDA_FUNCTION_NAME\"; "
      "exec /var/runtime/bootstrap"};
  Node node({spec});
  EXPECT_EQ(node.invoke("probe", R"("x")").body, R"("x")");
  const std::string logs = node.wait_for_log("probe", "own-root");
  EXPECT_NE(logs.find("root-read-only"), std::string::npos) << logs;
  EXPECT_NE(logs.find("tmp-writable"), std::string::npos) << logs;
  EXPECT_NE(logs.find("own-root"), std::string::npos) << logs;
  // The image's Env (PATH=/bin) over ember's default PATH; Lambda's variables on top.
  EXPECT_NE(logs.find("env: PATH=/bin task=/var/task fn=probe"), std::string::npos) << logs;
}

// `isolation: oci`: the same image, and a code function, through runc (crun cannot start a
// container on a cgroup v1 host such as this one; serve's refusal of it is tested below).
TEST_F(ImageFunction, TheOciBackendRunsImageAndCodeFunctions) {
  auto image = image_function("oci-image", echo_layout());
  image.isolation = "oci";
  FunctionSpec code;
  code.name = "oci-code";
  code.runtime = "provided";
  code.handler.clear();
  code.code = source_dir() / "examples" / "echo-provided";
  code.isolation = "oci";
  NodeSettings settings;
  settings.oci_runtime = "runc";
  Node node({image, code}, settings);
  for (const std::string name : {"oci-image", "oci-code"}) {
    const auto reply = node.invoke(name, R"({"via":"runc"})");
    EXPECT_EQ(reply.status, 200) << name << ": " << reply.body;
    EXPECT_EQ(reply.body, R"({"via":"runc"})") << name;
    EXPECT_NE(node.wait_for_log(name, "Init Duration").find("Init Duration"), std::string::npos)
        << node.logs(name);
  }
  EXPECT_NE(node.stdout_text().find("isolation: oci runs oci-image, oci-code"), std::string::npos)
      << node.stdout_text();
}

TEST_F(ImageFunction, ServeRefusesAnOciRuntimeThatCannotRunAContainerInItsOwnWords) {
  auto image = image_function("crun-image", echo_layout());
  image.isolation = "oci";
  NodeSettings settings;
  settings.oci_runtime = "crun";
  std::string message;
  try {
    const Node node({image}, settings);
    GTEST_SKIP() << "crun can start containers on this host";
  } catch (const std::exception& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("cannot run crun-image with isolation: oci (node.oci_runtime: crun"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("crun"), std::string::npos) << message;
}

TEST_F(ImageFunction, ServeRefusesABadImageNamingTheFunctionAndTheImage) {
  const std::string missing_tag = echo_layout().substr(0, echo_layout().size() - 6) + "nope";
  const std::string message = refusal(image_function("badtag", missing_tag));
  EXPECT_NE(message.find("function badtag: image " + missing_tag), std::string::npos) << message;

  const std::string missing_file = ref("oci-archive", "no-such.tar");
  const std::string gone = refusal(image_function("nofile", missing_file));
  EXPECT_NE(gone.find("function nofile: image " + missing_file), std::string::npos) << gone;

  auto not_found = image_function("noprogram", echo_layout());
  not_found.image_config.entrypoint = {"no-such-program"};
  const std::string path_message = refusal(not_found);
  EXPECT_NE(path_message.find("no-such-program is not in the image's PATH"), std::string::npos)
      << path_message;
}

TEST_F(ImageFunction, ServeRefusesAnImageWithNothingToRun) {
  const fs::path root = images_->path() / "bare-root";
  fs::create_directories(root / "bin");
  fs::copy_file("/bin/busybox", root / "bin" / "busybox", fs::copy_options::overwrite_existing);
  client::build_oci_image(root, images_->path() / "bare", "latest", {});
  const std::string bare = ref("oci", "bare:latest");
  const std::string message = refusal(image_function("bare", bare));
  EXPECT_NE(message.find("function bare: image " + bare +
                         ": the image has no entrypoint and no command; set "
                         "image_config.entrypoint or image_config.command"),
            std::string::npos)
      << message;
}

// ember image ls names the functions using each stored image; prune keeps what a running node
// leases (another process) and removes what no function of the file uses.
TEST_F(ImageFunction, ImageLsAndPruneFollowTheFunctionsAndTheRunningNode) {
  client::LocalNodeSpec spec;
  spec.ember = ember_exe();
  client::NodeFunction echo;
  echo.name = "echo";
  echo.image = echo_layout();
  spec.functions.push_back(echo);
  auto node = std::make_unique<client::LocalNode>(spec);
  // The same state directory as the running node's, with or without the image function.
  const TempDir dir("ember-test-image-cli-");
  const std::string config = (dir.path() / "ember.yaml").string();
  const auto write_config = [&](bool with_function) {
    std::ofstream(config) << client::node_yaml(with_function
                                                   ? std::vector<client::NodeFunction>{echo}
                                                   : std::vector<client::NodeFunction>{},
                                               node->dir() / "state");
  };
  const auto image = [&](const std::string& action) {
    return run({ember_exe().string(), "image", action, "--config", config});
  };
  write_config(true);
  const auto ls = image("ls");
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("sha256:"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" echo "), std::string::npos) << ls.out;

  write_config(false);  // no function of the file uses it any more
  const auto kept = image("prune");
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_NE(kept.out.find("0 image(s) removed"), std::string::npos) << "the node leases it\n"
                                                                    << kept.out;
  node->stop();  // its lease ends (its directory stays until the object goes)
  const auto pruned = image("prune");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("1 image(s) removed"), std::string::npos) << pruned.out;
  EXPECT_EQ(image("ls").out.find("sha256:"), std::string::npos);
}

// The realistic image: Debian's Node.js and the aws-lambda-ric npm package, with the image
// config AWS documents for non-AWS base images (npx aws-lambda-ric, CMD index.handler).
// scripts/test.sh builds it (examples/images/build-node-image.sh) before the tests run.
TEST_F(ImageFunction, TheNodeJsRuntimeInterfaceClientImageRunsUnchanged) {
  const char* configured = std::getenv("EMBER_NODE_IMAGE_DIR");
  const fs::path layout = configured != nullptr ? configured : "/var/cache/ember/images/node";
  if (!fs::exists(layout / "index.json")) {
    GTEST_SKIP() << "no Node.js image at " << layout
                 << "; build it with: bash examples/images/build-node-image.sh " << layout;
  }
  auto spec = image_function("node", "oci:" + layout.string() + ":latest");
  spec.memory_mb = 512;
  spec.timeout_s = 10;
  Node node({spec});
  const auto reply = node.invoke("node", R"({"key1":"value1"})");
  EXPECT_EQ(reply.status, 200) << reply.body << node.logs("node");
  EXPECT_NE(reply.body.find("value1"), std::string::npos) << reply.body;
  const std::string logs = node.wait_for_log("node", "REPORT");
  EXPECT_NE(logs.find("Init Duration"), std::string::npos) << logs;
  // Warm: the same runtime answers again.
  EXPECT_EQ(node.invoke("node", R"({"key1":"again"})").status, 200);
}

}  // namespace
}  // namespace ember::test
