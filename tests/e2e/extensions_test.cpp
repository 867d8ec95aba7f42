// Lambda layers and external extensions end to end: a real node, native sandboxes, the example
// extension (examples/layers/logger, a Python script) in layer directories made here, and a
// Python function that reports what it sees at /opt.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "ember/client/oci_image.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kLogger = "logger";

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

// Readable (and the extension executable) by the sandbox's user.
void open_up(const fs::path& root) {
  const auto everyone = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(root, everyone);
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    fs::permissions(entry.path(), everyone);
  }
}

class Extensions : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "native sandboxes need root";
    if (!fs::exists("/sys/fs/cgroup/memory") && !fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
      GTEST_SKIP() << "no cgroup hierarchy";
    }
    // Two layers: the first brings the extension and two files, the second replaces one.
    first_ = dir_.path() / "first";
    second_ = dir_.path() / "second";
    fs::create_directories(first_ / "extensions");
    fs::copy_file(source_dir() / "examples" / "layers" / "logger" / "extensions" / kLogger,
                  first_ / "extensions" / kLogger);
    write_file(first_ / "a.txt", "from first");
    write_file(first_ / "b.txt", "from first");
    write_file(second_ / "b.txt", "from second");
    open_up(dir_.path());
  }

  [[nodiscard]] FunctionSpec function(std::map<std::string, std::string> environment = {}) const {
    FunctionSpec spec{.name = "layered", .code = testcases_dir() / "python" / "layers_probe"};
    spec.layers = {first_, second_};
    spec.environment = std::move(environment);
    spec.reserved_concurrency = 1;  // one worker: every invocation after the first reuses it
    return spec;
  }

  TempDir dir_{"ember-layers-"};
  fs::path first_;
  fs::path second_;
};

TEST_F(Extensions, LayersAreMergedInOrderAndReadOnly) {
  Node node({function()});
  const auto reply = node.invoke("layered", R"({"files":["a.txt","b.txt","c.txt"]})");
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  const auto out = json::parse(reply.body).as_object();
  EXPECT_EQ(out.at("files").at("a.txt"), "from first");
  EXPECT_EQ(out.at("files").at("b.txt"), "from second");  // the later layer wins
  EXPECT_TRUE(out.at("files").at("c.txt").is_null());
  EXPECT_EQ(out.at("write"), "Read-only file system");
  EXPECT_EQ(out.at("extensions"), json::parse(R"(["logger"])"));
}

TEST_F(Extensions, ExtensionRegistersAndReceivesEachInvokeWithItsRequestId) {
  Node node({function()});
  for (int i = 0; i < 2; ++i) {
    const auto reply = node.invoke("layered", "{}");
    ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
    const auto id = reply.header("x-amzn-requestid");
    ASSERT_FALSE(id.empty());
    const auto logs = node.wait_for_log("layered", "[logger] INVOKE " + id);
    EXPECT_NE(logs.find("[logger] INVOKE " + id +
                        " arn:aws:lambda:us-east-1:000000000000:function:layered Root=1-"),
              std::string::npos)
        << logs;
  }
  const auto logs = node.logs("layered");
  EXPECT_EQ(count(logs, "EXTENSION\tName: logger\tState: Registered\tEvents: [INVOKE,SHUTDOWN]"),
            1U)
      << logs;
  EXPECT_EQ(count(logs, "[logger] registered for layered"), 1U) << logs;
  // Registration comes before the first START: the init phase waited for it.
  EXPECT_LT(logs.find("[logger] registered"), logs.find("START RequestId")) << logs;
}

TEST_F(Extensions, CallerDoesNotWaitForASlowExtensionButTheNextInvocationDoes) {
  Node node({function({{"LOGGER_AFTER_INVOKE_MS", "1500"}})});
  ASSERT_EQ(node.invoke("layered", "{}").status, 200);  // cold start out of the way
  node.wait_for_log("layered", "[logger] done");

  const auto started = Steady::now();
  const auto first = node.invoke("layered", "{}");
  const auto first_took = Steady::now() - started;
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_LT(first_took, std::chrono::milliseconds(1000));

  const auto second = node.invoke("layered", "{}");
  const auto both_took = Steady::now() - started;
  ASSERT_EQ(second.status, 200) << second.body;
  // The one worker is back for the second only once the extension called next again.
  EXPECT_GE(both_took, std::chrono::milliseconds(1400));
  const auto logs =
      node.wait_for_log("layered", "[logger] done " + second.header("x-amzn-requestid"));
  const auto done_first = logs.find("[logger] done " + first.header("x-amzn-requestid"));
  const auto start_second = logs.find("START RequestId: " + second.header("x-amzn-requestid"));
  ASSERT_NE(done_first, std::string::npos) << logs;
  EXPECT_LT(done_first, start_second) << logs;
  // REPORT's Duration is the runtime's; the extension's time after the answer follows it.
  const std::string post =
      "ember: RequestId: " + first.header("x-amzn-requestid") + " PostRuntimeExtensionsDuration: ";
  const auto at = logs.find(post);
  ASSERT_NE(at, std::string::npos) << logs;
  EXPECT_GE(std::stod(logs.substr(at + post.size())), 1400.0) << logs.substr(at, 120);
}

TEST_F(Extensions, ShutdownIsDeliveredWhenTheNodeStops) {
  Node node({function()});
  ASSERT_EQ(node.invoke("layered", "{}").status, 200);
  const auto stopping = Steady::now();
  EXPECT_EQ(node.stop(), 0);
  // The logger exits on SHUTDOWN (rather than calling next again): the phase ends with it,
  // not at its 2 s limit.
  EXPECT_LT(Steady::now() - stopping, std::chrono::milliseconds(1500));
  const auto logs = node.logs("layered");
  EXPECT_NE(logs.find("[logger] SHUTDOWN spindown"), std::string::npos) << logs;
  EXPECT_TRUE(node.worker_processes_end());
}

TEST_F(Extensions, ATimeoutShutsTheExtensionsDownWithReasonTimeout) {
  auto spec = function();
  spec.timeout_s = 1;
  Node node({spec});
  const auto reply = node.invoke("layered", R"({"sleep_s":5})");
  EXPECT_EQ(json::parse(reply.body).at("errorType"), "Sandbox.Timedout") << reply.body;
  const auto logs = node.wait_for_log("layered", "[logger] SHUTDOWN");
  EXPECT_NE(logs.find("[logger] SHUTDOWN timeout"), std::string::npos) << logs;
  EXPECT_TRUE(node.worker_processes_end());
}

TEST_F(Extensions, InitErrorOfAnExtensionFailsTheInitWithItsErrorType) {
  Node node({function({{"LOGGER_INIT_ERROR", "Extension.LoggerBroken"}})});
  const auto reply = node.invoke("layered", "{}");
  EXPECT_EQ(reply.header("x-amz-function-error"), "Unhandled") << reply.body;
  const auto body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("errorType"), "Extension.LoggerBroken") << reply.body;
  EXPECT_NE(reply.body.find("logger refused to start"), std::string::npos) << reply.body;
  const auto logs = node.logs("layered");
  EXPECT_NE(logs.find("State: InitError\tError Type: Extension.LoggerBroken"), std::string::npos)
      << logs;
}

// Lambda resets the environment once the invocation during which an extension failed is over:
// its caller is answered, and the next invocation gets a fresh worker.
TEST_F(Extensions, AnExtensionsExitErrorEndsItsWorkerAfterTheInvocation) {
  Node node({function({{"LOGGER_EXIT_ERROR", "Extension.LoggerCrashed"}})});
  const auto first = node.invoke("layered", "{}");
  ASSERT_EQ(first.status, 200) << first.body << first.error;
  EXPECT_TRUE(first.header("x-amz-function-error").empty()) << first.body;
  node.wait_for_log("layered", "State: ExitError\tError Type: Extension.LoggerCrashed");
  const auto second = node.invoke("layered", "{}");
  ASSERT_EQ(second.status, 200) << second.body << second.error;
  const auto logs =
      node.wait_for_log("layered", "[logger] INVOKE " + second.header("x-amzn-requestid"));
  EXPECT_EQ(count(logs, "EXTENSION\tName: logger\tState: Registered"), 2U) << logs;
  EXPECT_EQ(count(logs, "Init Duration: "), 2U) << logs;  // both invocations were cold
}

TEST_F(Extensions, AnExtensionThatNeverRegistersTimesTheInitOut) {
  Node node({function({{"LOGGER_NO_REGISTER", "1"}})});
  const auto started = Steady::now();
  const auto reply = node.invoke("layered", "{}");
  const auto took = Steady::now() - started;
  EXPECT_EQ(json::parse(reply.body).at("errorType"), "Sandbox.Timedout") << reply.body;
  EXPECT_GE(took, std::chrono::seconds(9));  // Lambda's 10 s init limit
  const auto logs = node.logs("layered");
  EXPECT_NE(logs.find("extensions that never registered: logger"), std::string::npos) << logs;
}

TEST_F(Extensions, ExtensionsApiRefusesLateRegistrationUnknownIdentifiersAndBadEvents) {
  Node node({function()});
  const auto reply = node.invoke("layered", R"({"api":true})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto out = json::parse(reply.body).as_object();
  const auto expect = [&](const char* call, int status, const char* error_type) {
    EXPECT_EQ(out.at(call).at("status"), status) << call << ": " << reply.body;
    EXPECT_EQ(out.at(call).at("body").at("errorType"), error_type) << call << ": " << reply.body;
  };
  expect("late_register", 403, "Extension.RegistrationClosed");
  expect("unknown_next", 403, "Extension.UnknownExtensionIdentifier");
  expect("bad_events", 400, "Extension.InvalidEventType");
  expect("no_name", 403, "Extension.InvalidExtensionName");
}

// An internal extension needs no layer: the runtime's own thread registers during its init.
TEST_F(Extensions, AnInternalExtensionRegistersFromTheRuntimeAndGetsInvokeButNotShutdown) {
  FunctionSpec spec{.name = "internal", .code = testcases_dir() / "python" / "internal_extension"};
  Node node({spec});
  for (int i = 0; i < 2; ++i) {
    const auto reply = node.invoke("internal", "{}");
    ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
    EXPECT_EQ(json::parse(reply.body).at("shutdown_registration"),
              "403 Extension.InvalidEventType");
    const auto id = reply.header("x-amzn-requestid");
    const auto logs = node.wait_for_log("internal", "[internal-watcher] INVOKE " + id);
    EXPECT_NE(logs.find("[internal-watcher] INVOKE " + id), std::string::npos) << logs;
  }
  EXPECT_EQ(count(node.logs("internal"), "Name: internal-watcher\tState: Registered"), 1U);
}

// `isolation: oci` through runc (crun cannot start a container on a cgroup v1 host such as the
// development machine): the layers are an overlay mount of the container's config.
TEST_F(Extensions, TheOciBackendMergesLayersAndStartsExtensionsToo) {
  if (run({"sh", "-c", "command -v runc"}).exit_code != 0) GTEST_SKIP() << "no runc";
  auto spec = function();
  spec.isolation = "oci";
  NodeSettings settings;
  settings.oci_runtime = "runc";
  Node node({spec}, settings);
  const auto reply = node.invoke("layered", R"({"files":["a.txt","b.txt"]})");
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  const auto out = json::parse(reply.body).as_object();
  EXPECT_EQ(out.at("files").at("a.txt"), "from first");
  EXPECT_EQ(out.at("files").at("b.txt"), "from second");
  EXPECT_EQ(out.at("write"), "Read-only file system");
  const auto id = reply.header("x-amzn-requestid");
  EXPECT_NE(node.wait_for_log("layered", "[logger] INVOKE " + id).find("[logger] INVOKE " + id),
            std::string::npos);
  EXPECT_EQ(node.stop(), 0);
  EXPECT_NE(node.logs("layered").find("[logger] SHUTDOWN spindown"), std::string::npos);
}

// An image brings its own /opt: a BusyBox image (the echo runtime of examples/images) with a
// shell extension in /opt/extensions, which starts beside the runtime as a layer's would.
TEST_F(Extensions, AnImagesOwnOptExtensionsStartToo) {
  for (const char* tool : {"umoci", "busybox"}) {
    if (run({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      GTEST_SKIP() << "needs " << tool << " (scripts/setup.sh)";
    }
  }
  const fs::path root = dir_.path() / "root";
  for (const char* sub :
       {"bin", "proc", "dev", "tmp", "etc", "var/task", "var/runtime", "opt/extensions"}) {
    fs::create_directories(root / sub);
  }
  fs::copy_file("/bin/busybox", root / "bin" / "busybox");
  for (const char* applet : {"sh", "wget", "sed", "tr", "cat", "echo"}) {
    fs::create_symlink("busybox", root / "bin" / applet);
  }
  const fs::path echo = source_dir() / "examples" / "images" / "echo";
  fs::copy_file(echo / "lambda-entrypoint.sh", root / "lambda-entrypoint.sh");
  fs::copy_file(echo / "bootstrap", root / "var" / "runtime" / "bootstrap");
  fs::copy_file(testcases_dir() / "image_extension" / "sh-ext",
                root / "opt" / "extensions" / "sh-ext");
  open_up(root);
  fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit);
  client::OciImageSpec image;
  image.entrypoint = {"/lambda-entrypoint.sh"};
  image.cmd = {"echo.handler"};
  image.env = {"PATH=/bin"};
  image.working_dir = "/var/task";
  client::build_oci_image(root, dir_.path() / "layout", "latest", image);

  FunctionSpec spec;
  spec.name = "imaged";
  spec.image = "oci:" + (dir_.path() / "layout").string() + ":latest";
  Node node({spec});
  const auto reply = node.invoke("imaged", R"({"via":"image"})");
  ASSERT_EQ(reply.status, 200) << reply.body << reply.error;
  EXPECT_EQ(reply.body, R"({"via":"image"})");
  const auto id = reply.header("x-amzn-requestid");
  const auto logs = node.wait_for_log("imaged", "\"requestId\":\"" + id);
  EXPECT_NE(logs.find("[sh-ext] registered "), std::string::npos) << logs;
  EXPECT_NE(logs.find("[sh-ext] {\"eventType\":\"INVOKE\""), std::string::npos) << logs;
  EXPECT_EQ(node.stop(), 0);
  EXPECT_NE(node.logs("imaged").find("\"shutdownReason\":\"spindown\""), std::string::npos)
      << node.logs("imaged");
}

}  // namespace
}  // namespace ember::test
