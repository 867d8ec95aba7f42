#include "ember/client/local_node.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "ember/client/http.hpp"

namespace ember::client {
namespace {

namespace fs = std::filesystem;

TEST(NodeYaml, WritesTheKeysGivenAndLeavesTheRestToTheNode) {
  NodeFunction f;
  f.name = "echo";
  f.code = "/code/echo";
  f.max_reuse = 1;
  NodeSettings settings;
  settings.shutdown_grace_s = 3;
  const auto doc = YAML::Load(node_yaml({f}, "/state", settings));
  EXPECT_EQ(doc["node"]["listen"].as<std::string>(), "127.0.0.1:0");
  EXPECT_EQ(doc["node"]["state_dir"].as<std::string>(), "/state");
  EXPECT_EQ(doc["node"]["shutdown_grace_s"].as<int>(), 3);
  EXPECT_FALSE(doc["node"]["max_workers"]);
  const auto function = doc["functions"][0];
  EXPECT_EQ(function["name"].as<std::string>(), "echo");
  EXPECT_EQ(function["runtime"].as<std::string>(), "provided");
  EXPECT_EQ(function["max_reuse"].as<int>(), 1);
  EXPECT_FALSE(function["handler"]);
  EXPECT_FALSE(function["zygote"]);
  EXPECT_FALSE(function["timeout_s"]);
  EXPECT_FALSE(function["environment"]);
}

TEST(NodeYaml, KeepsAwkwardTextAsTheSameStrings) {
  NodeFunction f;
  f.name = "f";
  f.handler = "app.handler # not a comment";
  f.code = "/tmp/a dir: with \"quotes\"/and #hash";
  f.environment = {{"NUMBER", "1e5"}, {"BOOL", "true"}, {"EMPTY", ""}, {"COLON", "a: b"}};
  const auto doc = YAML::Load(node_yaml({f}, "/state: odd"));
  const auto function = doc["functions"][0];
  EXPECT_EQ(doc["node"]["state_dir"].as<std::string>(), "/state: odd");
  EXPECT_EQ(function["handler"].as<std::string>(), f.handler);
  EXPECT_EQ(function["code"].as<std::string>(), f.code.string());
  for (const auto& [key, value] : f.environment) {
    const auto node = function["environment"][key];
    EXPECT_EQ(node.Tag(), "!") << key;  // quoted: a string, never a number or a bool
    EXPECT_EQ(node.as<std::string>(), value) << key;
  }
}

fs::path ember_exe() { return fs::path(EMBER_BINARY_DIR) / "ember"; }

TEST(LocalNode, ServesUntilStoppedAndCleansUp) {
  LocalNodeSpec spec;
  spec.ember = ember_exe();
  NodeFunction f;
  f.name = "noop";
  f.code = fs::path(EMBER_BINARY_DIR) / "bench" / "runtimes" / "noop";
  f.isolation = "none";
  spec.functions = {f};
  fs::path dir;
  {
    LocalNode node(spec);
    dir = node.dir();
    HttpRequest request;
    request.url = "http://" + node.address() + "/2015-03-31/functions/noop/invocations";
    request.body = "{}";
    const auto reply = http_request(request);
    EXPECT_EQ(reply.status, 200) << reply.error << node.stderr_text();
    EXPECT_EQ(reply.body, R"({"ok":true})");
    EXPECT_EQ(node.stop(), 0);
    EXPECT_EQ(node.pid(), -1);
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(LocalNode, ThrowsWithWhatTheNodeSaidWhenItDoesNotStart) {
  LocalNodeSpec spec;
  spec.ember = ember_exe();
  NodeFunction f;
  f.name = "broken";
  f.runtime = "cobol";
  f.code = "/";
  spec.functions = {f};
  try {
    LocalNode node(spec);
    FAIL() << "a node with an unknown runtime started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cobol"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ember::client
