// The Lambda control plane through unchanged clients: AWS CLI v2 (/usr/bin/aws), v1 (`aws`)
// and boto3 create a function from a zip, invoke it, change it, list, delete it, and get
// Lambda's errors; functions made this way survive a restart of the node.
#include <gtest/gtest.h>

#include "control_plane_support.hpp"

namespace ember::test {
namespace {

// The whole life of a function through one CLI.
void create_invoke_update_list_delete(const Cli& cli, const Node& node) {
  const auto v1 = python_zip(node.dir(), 1);
  const auto v2 = python_zip(node.dir(), 2);
  auto created = cli.lambda({"create-function", "--function-name", "made", "--runtime",
                             "python3.11", "--handler", "lambda_function.lambda_handler", "--role",
                             "arn:aws:iam::000000000000:role/ember", "--zip-file",
                             "fileb://" + v1.string(), "--timeout", "5", "--memory-size", "256",
                             "--environment", "Variables={GREETING=hi}"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto config = json_of(created);
  EXPECT_EQ(config["FunctionName"], "made");
  EXPECT_EQ(config["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:made");
  EXPECT_EQ(config["Runtime"], "python3.11");
  EXPECT_EQ(config["Handler"], "lambda_function.lambda_handler");
  EXPECT_EQ(config["CodeSize"], static_cast<std::int64_t>(fs::file_size(v1)));
  EXPECT_EQ(text(config["CodeSha256"]), code_sha256(v1));
  EXPECT_EQ(config["MemorySize"], 256);
  EXPECT_EQ(config["Timeout"], 5);
  EXPECT_EQ(config["State"], "Active");
  EXPECT_EQ(config["Version"], "$LATEST");
  EXPECT_EQ(config["PackageType"], "Zip");
  EXPECT_EQ(config["Environment"].at("Variables").at("GREETING"), "hi");
  EXPECT_EQ(config["LastModified"].as_string().size(), 28U) << config["LastModified"];

  EXPECT_EQ(cli.invoke("made"), R"({"version": 1, "greeting": "hi"})");

  auto updated = cli.lambda(
      {"update-function-code", "--function-name", "made", "--zip-file", "fileb://" + v2.string()});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(text(json_of(updated)["CodeSha256"]), code_sha256(v2));
  EXPECT_EQ(cli.invoke("made"), R"({"version": 2, "greeting": "hi"})");

  auto reconfigured = cli.lambda({"update-function-configuration", "--function-name", "made",
                                  "--environment", "Variables={GREETING=hello}"});
  ASSERT_EQ(reconfigured.exit_code, 0) << reconfigured.err;
  EXPECT_EQ(cli.invoke("made"), R"({"version": 2, "greeting": "hello"})");

  auto got = cli.lambda({"get-function", "--function-name", "made"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  auto whole = json_of(got);
  EXPECT_EQ(text(whole["Configuration"].at("CodeSha256")), code_sha256(v2));
  EXPECT_EQ(whole["Code"].at("RepositoryType"), "S3");
  auto got_config = cli.lambda({"get-function-configuration", "--function-name", "made"});
  ASSERT_EQ(got_config.exit_code, 0) << got_config.err;
  EXPECT_EQ(json_of(got_config)["Environment"].at("Variables").at("GREETING"), "hello");

  // One function per page: the CLI follows NextMarker until the last page.
  auto listed = cli.lambda({"list-functions", "--page-size", "1"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto functions = json_of(listed)["Functions"].as_array();
  ASSERT_EQ(functions.size(), 2U) << listed.out;
  EXPECT_EQ(functions[0].at("FunctionName"), "hello");
  EXPECT_NE(functions[0].at("Description").as_string().find("Managed by the config file"),
            std::string::npos);
  EXPECT_EQ(functions[1].at("FunctionName"), "made");

  auto deleted = cli.lambda({"delete-function", "--function-name", "made"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  auto gone = cli.lambda({"get-function", "--function-name", "made"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("ResourceNotFoundException"), std::string::npos) << gone.err;
  EXPECT_NE(
      gone.err.find("Function not found: arn:aws:lambda:us-east-1:000000000000:function:made"),
      std::string::npos)
      << gone.err;
  const auto invoked = node.invoke("made", "{}");
  EXPECT_EQ(invoked.status, 404) << invoked.body;
}

TEST(ControlPlaneAwsCliV2, CreateInvokeUpdateListDelete) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  create_invoke_update_list_delete(Cli("/usr/bin/aws", node), node);
}

TEST(ControlPlaneAwsCliV1, CreateInvokeUpdateListDelete) {
  const auto aws = aws_v1();
  if (!aws) GTEST_SKIP() << "no AWS CLI v1 first on PATH";
  Node node({hello()});
  create_invoke_update_list_delete(Cli(*aws, node), node);
}

TEST(ControlPlaneAwsCliV2, ProvidedRuntimeFromAZipWithABootstrap) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const Cli cli("/usr/bin/aws", node);
  const auto zip = node.dir() / "echo.zip";
  const auto built =
      run({"python3", "-c",
           "import sys, zipfile\n"
           "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
           "    i = zipfile.ZipInfo('bootstrap'); i.create_system = 3\n"
           "    i.external_attr = 0o100755 << 16\n"
           "    z.writestr(i, open(sys.argv[2], 'rb').read())\n",
           zip.string(), (source_dir() / "examples/echo-provided/bootstrap").string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto created =
      cli.lambda({"create-function", "--function-name", "echo", "--runtime", "provided.al2023",
                  "--handler", "unused", "--role", "arn:aws:iam::000000000000:role/ember",
                  "--zip-file", "fileb://" + zip.string()});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto reply = node.invoke("echo", R"({"same":"back"})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"same":"back"})");
}

TEST(ControlPlaneAwsCliV2, ErrorsAreLambdas) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  Node node({hello()});
  const Cli cli("/usr/bin/aws", node);
  const auto v1 = python_zip(node.dir(), 1);
  auto create = [&](const std::string& name, const fs::path& zip,
                    const std::string& runtime = "python3.11") {
    return cli.lambda({"create-function", "--function-name", name, "--runtime", runtime,
                       "--handler", "lambda_function.lambda_handler", "--role",
                       "arn:aws:iam::000000000000:role/ember", "--zip-file",
                       "fileb://" + zip.string()});
  };
  ASSERT_EQ(create("once", v1).exit_code, 0);
  auto twice = create("once", v1);
  EXPECT_NE(twice.err.find("(ResourceConflictException)"), std::string::npos) << twice.err;
  EXPECT_NE(twice.err.find("Function already exist: once"), std::string::npos) << twice.err;

  auto file = cli.lambda({"delete-function", "--function-name", "hello"});
  EXPECT_NE(file.err.find("(ResourceConflictException)"), std::string::npos) << file.err;
  EXPECT_NE(file.err.find("managed by the config file"), std::string::npos) << file.err;
  auto file_update = cli.lambda(
      {"update-function-code", "--function-name", "hello", "--zip-file", "fileb://" + v1.string()});
  EXPECT_NE(file_update.err.find("managed by the config file"), std::string::npos)
      << file_update.err;

  const auto evil = node.dir() / "evil.zip";
  make_zip(evil, {{"../escape.py", "'x'"}});
  auto refused = create("evil", evil);
  EXPECT_NE(refused.err.find("(InvalidParameterValueException)"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("entry \"../escape.py\": refused, '..' in the path"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(node.state_dir() / "code" / "escape.py"));

  auto runtime = create("old", v1, "nodejs18.x");
  EXPECT_NE(runtime.err.find("(InvalidParameterValueException)"), std::string::npos) << runtime.err;
  EXPECT_NE(runtime.err.find("unsupported runtime `nodejs18.x`"), std::string::npos) << runtime.err;

  auto missing = cli.lambda({"get-function-configuration", "--function-name", "nope"});
  EXPECT_NE(missing.err.find("(ResourceNotFoundException)"), std::string::npos) << missing.err;
  // The CLI checks MemorySize itself; a Timeout over Lambda's 900 s only the node refuses.
  auto timeout =
      cli.lambda({"update-function-configuration", "--function-name", "once", "--timeout", "1000"});
  EXPECT_NE(timeout.err.find("(InvalidParameterValueException)"), std::string::npos) << timeout.err;
  EXPECT_NE(timeout.err.find("Timeout 1000 must be from 1 to 900"), std::string::npos)
      << timeout.err;
}

TEST(ControlPlaneBoto3, PaginationConcurrencyAndErrorCodes) {
  if (run({"python3", "-c", "import boto3"}).exit_code != 0) GTEST_SKIP() << "boto3 missing";
  Node node({hello()});
  const auto v1 = python_zip(node.dir(), 1);
  const std::string script = R"(
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1])
code = open(sys.argv[2], "rb").read()
for name in ["b", "a", "c"]:
    c.create_function(FunctionName=name, Runtime="python3.11", Role="arn:aws:iam::000000000000:role/x",
                      Handler="lambda_function.lambda_handler", Code={"ZipFile": code})
names, marker, pages = [], None, 0
while True:
    kw = {"MaxItems": 2}
    if marker: kw["Marker"] = marker
    page = c.list_functions(**kw)
    pages += 1
    names += [f["FunctionName"] for f in page["Functions"]]
    marker = page.get("NextMarker")
    if not marker: break
print("list", pages, ",".join(names))
print("put", c.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"])
print("get", c.get_function(FunctionName="a")["Concurrency"]["ReservedConcurrentExecutions"])
try:
    c.invoke(FunctionName="a", Payload=b"{}")
    print("throttled no")
except c.exceptions.TooManyRequestsException:
    print("throttled yes")
c.delete_function_concurrency(FunctionName="a")
print("invoke", c.invoke(FunctionName="a", Payload=b"{}")["Payload"].read().decode())
for call in [lambda: c.get_function(FunctionName="zz"),
             lambda: c.create_function(FunctionName="a", Runtime="python3.11", Role="r",
                                       Handler="lambda_function.lambda_handler", Code={"ZipFile": code}),
             lambda: c.create_function(FunctionName="bad", Runtime="python3.11", Role="r",
                                       Handler="lambda_function.lambda_handler", Code={"ZipFile": b"not a zip"}),
             lambda: c.update_function_configuration(FunctionName="a", RevisionId="stale")]:
    try:
        call()
        print("error none")
    except c.exceptions.ClientError as e:
        print("error", e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
c.delete_function(FunctionName="b")
print("after", ",".join(f["FunctionName"] for f in c.list_functions()["Functions"]))
)";
  auto result = run({"python3", "-c", script, node.endpoint(), v1.string()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("list 2 a,b,c,hello\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("put 0\nget 0\nthrottled yes\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(R"(invoke {"version": 1, "greeting": ""})"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("error ResourceNotFoundException 404\n"
                            "error ResourceConflictException 409\n"
                            "error InvalidParameterValueException 400\n"
                            "error PreconditionFailedException 412\n"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("after a,c,hello\n"), std::string::npos) << result.out;
}

TEST(ControlPlaneBoto3, AZipLargerThanAnInvokeBodyIsTakenAndServed) {
  if (run({"python3", "-c", "import boto3"}).exit_code != 0) GTEST_SKIP() << "boto3 missing";
  Node node({hello()});
  // 8 MB of random bytes stored uncompressed: a body of 11 MB as base64, over the Invoke
  // API's 6 MB, under the control plane's 69905067 bytes.
  const std::string script = R"(
import io, os, sys, zipfile, boto3
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return 'big'\n")
    z.writestr("blob.bin", os.urandom(8 << 20))
c = boto3.client("lambda", endpoint_url=sys.argv[1])
r = c.create_function(FunctionName="big", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/x",
                      Handler="lambda_function.lambda_handler", Code={"ZipFile": buf.getvalue()})
print("size", r["CodeSize"] == len(buf.getvalue()), r["CodeSize"] > (8 << 20))
print("invoke", c.invoke(FunctionName="big", Payload=b"{}")["Payload"].read().decode())
)";
  auto result = run({"python3", "-c", script, node.endpoint()}, Node::aws_env());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "size True True\ninvoke \"big\"\n");
}

TEST(ControlPlaneRestart, AFunctionMadeThroughTheApiIsServedAfterARestart) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "AWS CLI v2 (/usr/bin/aws) missing";
  TempDir state("ember-control-state-");
  const auto zips = state.path() / "zips";
  fs::create_directories(zips);
  const auto v1 = python_zip(zips, 1);
  {
    Node node({hello()}, {}, state.path() / "state");
    const Cli cli("/usr/bin/aws", node);
    auto created = cli.lambda(
        {"create-function", "--function-name", "kept", "--runtime", "python3.11", "--handler",
         "lambda_function.lambda_handler", "--role", "arn:aws:iam::000000000000:role/ember",
         "--zip-file", "fileb://" + v1.string(), "--environment", "Variables={GREETING=again}"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_EQ(node.stop(), 0);
  }
  // Stored by its SHA-256, settings as JSON.
  EXPECT_TRUE(fs::exists(state.path() / "state" / "functions" / "kept.json"));
  Node again({hello()}, {}, state.path() / "state");
  const auto reply = again.invoke("kept", "{}");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, R"({"version": 1, "greeting": "again"})");
  const Cli cli("/usr/bin/aws", again);
  auto got = cli.lambda({"get-function-configuration", "--function-name", "kept"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(text(json_of(got)["CodeSha256"]), code_sha256(v1));
}

}  // namespace
}  // namespace ember::test
