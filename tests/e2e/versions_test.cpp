// Versions and aliases through unchanged clients (AWS CLI v2, v1, boto3): publish-version
// freezes code and settings as NAME:1, NAME:2; aliases name one version or split invocations
// between two by weight; NAME:QUALIFIER, --qualifier and qualified ARNs run the version they
// name and say so in ExecutedVersion; each version has its own pool; all of it survives a
// restart; Lambda's errors for what does not exist or is not allowed.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "control_plane_support.hpp"

namespace ember::test {
namespace {

const std::string kArn = "arn:aws:lambda:us-east-1:000000000000:function:";

CommandResult create(const Cli& cli, const std::string& name, const fs::path& zip) {
  return cli.lambda({"create-function", "--function-name", name, "--runtime", "python3.11",
                     "--handler", "lambda_function.lambda_handler", "--role",
                     "arn:aws:iam::000000000000:role/ember", "--zip-file",
                     "fileb://" + zip.string()});
}

// `name` with version 1 from v1.zip and version 2 from v2.zip published; $LATEST is v2.
void two_versions(const Cli& cli, const Node& node, const std::string& name) {
  const auto v1 = python_zip(node.dir(), 1);
  const auto v2 = python_zip(node.dir(), 2);
  ASSERT_EQ(create(cli, name, v1).exit_code, 0);
  ASSERT_EQ(cli.lambda({"publish-version", "--function-name", name}).exit_code, 0);
  ASSERT_EQ(cli.lambda({"update-function-code", "--function-name", name, "--zip-file",
                        "fileb://" + v2.string()})
                .exit_code,
            0);
  ASSERT_EQ(cli.lambda({"publish-version", "--function-name", name}).exit_code, 0);
}

// The status JSON's pools (`ember ps`): their names.
std::vector<std::string> pools(const Node& node) {
  const auto reply = client::http_request({.url = node.endpoint() + "/ember/v1/functions"});
  const auto status = boost::json::parse(reply.body);
  std::vector<std::string> names;
  for (const auto& f : status.at("functions").as_array()) {
    names.emplace_back(f.at("name").as_string());
  }
  return names;
}

// Polls the status JSON (at most 30 s) until `pool` shows a succeeded asynchronous event.
bool wait_for_event_success(const Node& node, const std::string& pool) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    const auto reply = client::http_request({.url = node.endpoint() + "/ember/v1/functions"});
    const auto status = boost::json::parse(reply.body);
    for (const auto& f : status.at("functions").as_array()) {
      const auto* async = f.as_object().if_contains("async");
      if (text(f.at("name")) == pool && async != nullptr &&
          async->at("succeeded").to_number<int>() > 0) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void error_is(const CommandResult& r, const std::string& type, const std::string& text) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("(" + type + ")"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
}

void publish_alias_invoke(const Cli& cli, const Node& node) {
  const auto v1 = python_zip(node.dir(), 1);
  const auto v2 = python_zip(node.dir(), 2);
  ASSERT_EQ(create(cli, "canary", v1).exit_code, 0);

  auto first = cli.lambda({"publish-version", "--function-name", "canary", "--description", "one"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto one = json_of(first);
  EXPECT_EQ(one["Version"], "1");
  EXPECT_EQ(text(one["FunctionArn"]), kArn + "canary:1");
  EXPECT_EQ(one["Description"], "one");
  EXPECT_EQ(text(one["CodeSha256"]), code_sha256(v1));
  // Nothing changed: Lambda answers with the version it has.
  auto again = cli.lambda({"publish-version", "--function-name", "canary"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json_of(again)["Version"], "1");

  ASSERT_EQ(cli.lambda({"update-function-code", "--function-name", "canary", "--zip-file",
                        "fileb://" + v2.string()})
                .exit_code,
            0);
  error_is(cli.lambda(
               {"publish-version", "--function-name", "canary", "--code-sha256", code_sha256(v1)}),
           "InvalidParameterValueException", "is different from current CodeSHA256 in $LATEST");
  auto second = cli.lambda(
      {"publish-version", "--function-name", "canary", "--code-sha256", code_sha256(v2)});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(json_of(second)["Version"], "2");

  auto listed = cli.lambda({"list-versions-by-function", "--function-name", "canary"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::string versions;
  const auto listing = json_of(listed);
  for (const auto& v : listing.at("Versions").as_array()) {
    versions += std::string(v.at("Version").as_string()) + " ";
  }
  EXPECT_EQ(versions, "$LATEST 1 2 ");

  auto alias = cli.lambda({"create-alias", "--function-name", "canary", "--name", "live",
                           "--function-version", "1", "--routing-config",
                           "AdditionalVersionWeights={2=0.25}"});
  ASSERT_EQ(alias.exit_code, 0) << alias.err;
  auto live = json_of(alias);
  EXPECT_EQ(text(live["AliasArn"]), kArn + "canary:live");
  EXPECT_EQ(live["FunctionVersion"], "1");
  EXPECT_EQ(live["RoutingConfig"].at("AdditionalVersionWeights").at("2"), 0.25);

  // Each way of naming a version runs it and says which one ran.
  const std::vector<std::pair<std::vector<std::string>, std::string>> named = {
      {{"canary:1"}, "1"},
      {{"canary", "--qualifier", "2"}, "2"},
      {{kArn + "canary:1"}, "1"},
      {{"canary:$LATEST"}, "$LATEST"},
      {{"canary"}, "$LATEST"}};
  for (const auto& [args, version] : named) {
    const std::vector<std::string> extra(args.begin() + 1, args.end());
    const auto [body, out] = cli.invoke_reporting(args[0], extra);
    EXPECT_EQ(text(out.at("ExecutedVersion")), version) << args[0];
    const auto number = version == "$LATEST" ? "2" : version;
    EXPECT_EQ(body, R"({"version": )" + std::string(number) + R"(, "greeting": ""})") << args[0];
  }
  // Through the alias: version 1 or 2, and the body agrees with ExecutedVersion.
  const auto [body, out] = cli.invoke_reporting("canary:live");
  const std::string ran(out.at("ExecutedVersion").as_string());
  EXPECT_TRUE(ran == "1" || ran == "2") << ran;
  EXPECT_EQ(body, R"({"version": )" + ran + R"(, "greeting": ""})");

  auto got = cli.lambda({"get-function", "--function-name", "canary", "--qualifier", "1"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(text(json_of(got)["Configuration"].at("CodeSha256")), code_sha256(v1));
  EXPECT_EQ(json_of(got)["Configuration"].at("Version"), "1");
  auto via_alias = cli.lambda(
      {"get-function-configuration", "--function-name", "canary", "--qualifier", "live"});
  ASSERT_EQ(via_alias.exit_code, 0) << via_alias.err;
  EXPECT_EQ(json_of(via_alias)["Version"], "1");
  EXPECT_EQ(text(json_of(via_alias)["FunctionArn"]), kArn + "canary:live");

  // Each version has its own pool.
  const auto names = pools(node);
  for (const std::string pool : {"canary", "canary:1", "canary:2"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), pool), names.end()) << pool;
  }

  auto moved =
      cli.lambda({"update-alias", "--function-name", "canary", "--name", "live",
                  "--function-version", "2", "--routing-config", "AdditionalVersionWeights={}"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(json_of(moved)["FunctionVersion"], "2");
  EXPECT_FALSE(json_of(moved).contains("RoutingConfig"));
  EXPECT_EQ(cli.invoke_reporting("canary:live").second.at("ExecutedVersion"), "2");
  auto aliases = cli.lambda({"list-aliases", "--function-name", "canary"});
  ASSERT_EQ(aliases.exit_code, 0) << aliases.err;
  ASSERT_EQ(json_of(aliases)["Aliases"].as_array().size(), 1U);
  auto fetched = cli.lambda({"get-alias", "--function-name", "canary", "--name", "live"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(json_of(fetched)["FunctionVersion"], "2");

  // Lambda's errors.
  error_is(cli.lambda({"get-alias", "--function-name", "canary", "--name", "nope"}),
           "ResourceNotFoundException", "Alias not found: " + kArn + "canary:nope");
  error_is(cli.lambda({"get-function", "--function-name", "canary", "--qualifier", "9"}),
           "ResourceNotFoundException", "Function not found: " + kArn + "canary:9");
  error_is(cli.lambda({"invoke", "--function-name", "canary:9", (node.dir() / "x").string()}),
           "ResourceNotFoundException", "Function not found: " + kArn + "canary:9");
  error_is(cli.lambda({"create-alias", "--function-name", "canary", "--name", "123",
                       "--function-version", "1"}),
           "ValidationException", "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  error_is(cli.lambda({"create-alias", "--function-name", "canary", "--name", "heavy",
                       "--function-version", "1", "--routing-config",
                       "AdditionalVersionWeights={2=1.5}"}),
           "InvalidParameterValueException", "it must be from 0.0 to 1.0");
  error_is(cli.lambda({"create-alias", "--function-name", "canary", "--name", "self",
                       "--function-version", "1", "--routing-config",
                       "AdditionalVersionWeights={1=0.5}"}),
           "InvalidParameterValueException", "the alias's own FunctionVersion");
  error_is(cli.lambda({"create-alias", "--function-name", "canary", "--name", "ghost",
                       "--function-version", "7"}),
           "ResourceNotFoundException", "Function not found: " + kArn + "canary:7");
  error_is(cli.lambda({"delete-function", "--function-name", "canary", "--qualifier", "2"}),
           "ResourceConflictException", "the following aliases reference it: [live]");
  // The config file's functions are changed there, not through the API.
  error_is(cli.lambda({"publish-version", "--function-name", "hello"}), "ResourceConflictException",
           "managed by the config file");
  error_is(cli.lambda({"create-alias", "--function-name", "hello", "--name", "x",
                       "--function-version", "$LATEST"}),
           "ResourceConflictException", "managed by the config file");

  // One version goes; then the alias and the version it held; then the whole function.
  ASSERT_EQ(
      cli.lambda({"delete-function", "--function-name", "canary", "--qualifier", "1"}).exit_code,
      0);
  error_is(cli.lambda({"get-function", "--function-name", "canary", "--qualifier", "1"}),
           "ResourceNotFoundException", "canary:1");
  ASSERT_EQ(cli.lambda({"delete-alias", "--function-name", "canary", "--name", "live"}).exit_code,
            0);
  ASSERT_EQ(
      cli.lambda({"delete-function", "--function-name", "canary", "--qualifier", "2"}).exit_code,
      0);
  ASSERT_EQ(cli.lambda({"publish-version", "--function-name", "canary"}).exit_code, 0);
  ASSERT_EQ(cli.lambda({"delete-function", "--function-name", "canary"}).exit_code, 0);
  const auto left = pools(node);
  EXPECT_EQ(std::count_if(left.begin(), left.end(),
                          [](const std::string& n) { return n.starts_with("canary"); }),
            0);
  // Made again, it starts from version 1.
  ASSERT_EQ(create(cli, "canary", v1).exit_code, 0);
  EXPECT_EQ(json_of(cli.lambda({"publish-version", "--function-name", "canary"}))["Version"], "1");
}

TEST(VersionsAwsCliV2, PublishAliasInvokeAndErrors) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  publish_alias_invoke(Cli("/usr/bin/aws", node), node);
}

TEST(VersionsAwsCliV1, PublishAliasInvokeAndErrors) {
  const auto aws = aws_v1();
  if (!aws) GTEST_SKIP() << "no AWS CLI v1 first on PATH";
  Node node({hello()});
  publish_alias_invoke(Cli(*aws, node), node);
}

// 200 invocations of an alias giving version 2 half of them. The count of version 2 is
// Binomial(200, 0.5): mean 100, standard deviation 7.07; 60..140 is 5.7 standard deviations
// each side (a false failure about once in 10^8 runs).
TEST(VersionsBoto3, WeightedAliasSplitsInvocationsAndEventsRunTheirVersion) {
  if (run({"python3", "-c", "import boto3"}).exit_code != 0) GTEST_SKIP() << "boto3 missing";
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  two_versions(Cli("/usr/bin/aws", node), node, "split");
  const std::string script = R"(
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1])
c.create_alias(FunctionName="split", Name="half", FunctionVersion="1",
               RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
counts, mismatched = {"1": 0, "2": 0}, 0
for _ in range(200):
    r = c.invoke(FunctionName="split", Qualifier="half", Payload=b"{}")
    ran = r["ExecutedVersion"]
    counts[ran] += 1
    if json.loads(r["Payload"].read())["version"] != int(ran):
        mismatched += 1
print("counts", counts["1"], counts["2"], "mismatched", mismatched)
print("event", c.invoke(FunctionName="split:1", InvocationType="Event", Payload=b"{}")["StatusCode"])
try:
    c.delete_function(FunctionName="split", Qualifier="1")
except c.exceptions.ResourceConflictException as e:
    print("conflict", e.response["ResponseMetadata"]["HTTPStatusCode"])
)";
  auto result = run({"python3", "-c", script, node.endpoint()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  int ones = 0;
  int twos = 0;
  int mismatched = -1;
  ASSERT_EQ(
      std::sscanf(result.out.c_str(), "counts %d %d mismatched %d", &ones, &twos, &mismatched), 3)
      << result.out;
  RecordProperty("version_2_of_200", twos);
  std::printf("version 2 ran %d of 200 invocations of the alias (weight 0.5)\n", twos);
  EXPECT_EQ(ones + twos, 200);
  EXPECT_GE(twos, 60) << result.out;
  EXPECT_LE(twos, 140) << result.out;
  EXPECT_EQ(mismatched, 0);
  EXPECT_NE(result.out.find("event 202\nconflict 409\n"), std::string::npos) << result.out;
  // The event ran in version 1's pool (its events are counted under split:1).
  EXPECT_TRUE(wait_for_event_success(node, "split:1"));
  EXPECT_NE(node.logs("split").find("Version: 2"), std::string::npos);
  // /metrics tells the versions apart by a `version` label.
  const auto metrics = client::http_request({.url = node.endpoint() + "/metrics"});
  EXPECT_NE(
      metrics.body.find(
          R"(ember_function_invocations_total{function="split",version="2",outcome="success"})"),
      std::string::npos)
      << metrics.body;
}

TEST(VersionsRestart, VersionsAndAliasesAreServedAfterARestart) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  TempDir state("ember-versions-state-");
  {
    Node node({hello()}, {}, state.path() / "state");
    const Cli cli("/usr/bin/aws", node);
    two_versions(cli, node, "kept");
    ASSERT_EQ(cli.lambda({"create-alias", "--function-name", "kept", "--name", "prod",
                          "--function-version", "1"})
                  .exit_code,
              0);
    EXPECT_EQ(node.stop(), 0);
  }
  EXPECT_TRUE(fs::exists(state.path() / "state" / "versions" / "kept.json"));
  Node again({hello()}, {}, state.path() / "state");
  const Cli cli("/usr/bin/aws", again);
  const auto [body, out] = cli.invoke_reporting("kept:prod");
  EXPECT_EQ(out.at("ExecutedVersion"), "1");
  EXPECT_EQ(body, R"({"version": 1, "greeting": ""})");
  EXPECT_EQ(cli.invoke_reporting("kept:2").first, R"({"version": 2, "greeting": ""})");
  auto listed = cli.lambda({"list-versions-by-function", "--function-name", "kept"});
  EXPECT_EQ(json_of(listed)["Versions"].as_array().size(), 3U) << listed.out;
  error_is(cli.lambda({"delete-function", "--function-name", "kept", "--qualifier", "1"}),
           "ResourceConflictException", "[prod]");
  // Numbers go on from the last one.
  ASSERT_EQ(
      cli.lambda({"update-function-configuration", "--function-name", "kept", "--timeout", "9"})
          .exit_code,
      0);
  EXPECT_EQ(json_of(cli.lambda({"publish-version", "--function-name", "kept"}))["Version"], "3");
}

}  // namespace
}  // namespace ember::test
