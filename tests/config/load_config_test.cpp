#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"
#include "ember/config/host_ids.hpp"

namespace ember::config {
namespace {

namespace fs = std::filesystem;

// A valid python function on lines 1-5; tests append keys from line 6 on, indented 4 spaces.
constexpr std::string_view kPythonFunction =
    "functions:\n"
    "  - name: hello\n"
    "    runtime: python3\n"
    "    handler: lambda_function.lambda_handler\n"
    "    code: ./py\n";

// Each test gets its own directory with real code directories, so the checks that look at
// the file system (code dir, bootstrap, relative paths) run against real files.
class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ember-config-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "py");
    write_file(dir_ / "py" / "lambda_function.py", "def lambda_handler(event, context):\n");
    fs::create_directories(dir_ / "bin");
    write_file(dir_ / "bin" / "bootstrap", "#!/bin/sh\n");
    fs::permissions(dir_ / "bin" / "bootstrap", fs::perms::owner_all);
  }

  void TearDown() override { fs::remove_all(dir_); }

  static void write_file(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }

  fs::path write_config(std::string_view text) {
    fs::path path = dir_ / "ember.yaml";
    write_file(path, text);
    return path;
  }

  // The message load_config throws for `text`, or a test failure if it loads.
  std::string error_for(std::string_view text) {
    const fs::path path = write_config(text);
    try {
      load_config(path);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << text;
    return {};
  }

  // The prefix every message about ember.yaml starts with.
  [[nodiscard]] std::string at(int line, int column) const {
    return (dir_ / "ember.yaml").string() + ":" + std::to_string(line) + ":" +
           std::to_string(column) + ": ";
  }

  fs::path dir_;
};

std::string with_function(std::string_view extra) {
  return std::string(kPythonFunction) + std::string(extra);
}

TEST_F(LoadConfig, AppliesDefaultsToAMinimalFile) {
  const fs::path path = write_config(kPythonFunction);
  const Config config = load_config(path);

  EXPECT_EQ(config.file, path);
  EXPECT_EQ(config.node.listen_host, "127.0.0.1");
  EXPECT_EQ(config.node.listen_port, 9000);
  EXPECT_EQ(config.node.state_dir, dir_ / "ember-state");
  EXPECT_EQ(config.node.region, "us-east-1");
  EXPECT_EQ(config.node.account_id, "000000000000");
  EXPECT_EQ(config.node.keep_alive, std::chrono::seconds(600));

  ASSERT_EQ(config.functions.size(), 1U);
  const FunctionConfig& f = config.functions[0];
  EXPECT_EQ(f.name, "hello");
  EXPECT_EQ(f.runtime, "python3");
  EXPECT_EQ(f.runtime_kind, RuntimeKind::kPython);
  EXPECT_EQ(f.interpreter, fs::path("/usr/bin/python3"));
  EXPECT_EQ(f.handler, "lambda_function.lambda_handler");
  EXPECT_EQ(f.code_dir, dir_ / "py");
  EXPECT_EQ(f.memory_mb, 128U);
  EXPECT_EQ(f.timeout_s, 3U);
  EXPECT_TRUE(f.environment.empty());
  EXPECT_EQ(f.reserved_concurrency, 10U);
  EXPECT_EQ(f.keep_alive, std::chrono::seconds(600));
  EXPECT_EQ(f.source, path.string() + ":2:5");
}

TEST_F(LoadConfig, ReadsTheBasicKeysAtTheEdgesOfTheirRanges) {
  const Config config =
      load_config(write_config("node:\n"
                               "  listen: '[::1]:0'\n"
                               "  state_dir: /var/tmp/ember-state/\n"
                               "  region: eu-west-3\n"
                               "  account_id: \"123456789012\"\n"
                               "  keep_alive_s: 30\n"
                               "functions:\n"
                               "  - name: echo_1\n"
                               "    runtime: provided.al2023\n"
                               "    handler: anything goes\n"
                               "    code: bin/\n"
                               "    memory_mb: 10240\n"
                               "    timeout_s: 900\n"
                               "    environment: {B: 1, A: true, C: \"x y\", D: ''}\n"
                               "    reserved_concurrency: 0\n"
                               "    keep_alive_s: 86400\n"));

  EXPECT_EQ(config.node.listen_host, "::1");
  EXPECT_EQ(config.node.listen_port, 0);
  EXPECT_EQ(config.node.state_dir, fs::path("/var/tmp/ember-state"));
  EXPECT_EQ(config.node.region, "eu-west-3");
  EXPECT_EQ(config.node.account_id, "123456789012");
  EXPECT_EQ(config.node.keep_alive, std::chrono::seconds(30));

  ASSERT_EQ(config.functions.size(), 1U);
  const FunctionConfig& f = config.functions[0];
  EXPECT_EQ(f.runtime_kind, RuntimeKind::kProvided);
  EXPECT_TRUE(f.interpreter.empty());
  EXPECT_EQ(f.handler, "anything goes");
  EXPECT_EQ(f.code_dir, dir_ / "bin");
  EXPECT_EQ(f.memory_mb, 10240U);
  EXPECT_EQ(f.timeout_s, 900U);
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(f.environment, (Env{{"B", "1"}, {"A", "true"}, {"C", "x y"}, {"D", ""}}));
  EXPECT_EQ(f.reserved_concurrency, 0U);
  EXPECT_EQ(f.keep_alive, std::chrono::seconds(86400));
}

TEST_F(LoadConfig, FunctionKeepAliveDefaultsToNodeValueAndCanBeOverridden) {
  const Config config =
      load_config(write_config("node:\n"
                               "  keep_alive_s: 42\n"
                               "functions:\n"
                               "  - {name: a, runtime: provided, code: bin}\n"
                               "  - {name: b, runtime: provided, code: bin, keep_alive_s: 7}\n"));
  ASSERT_EQ(config.functions.size(), 2U);
  EXPECT_EQ(config.functions[0].keep_alive, std::chrono::seconds(42));
  EXPECT_EQ(config.functions[1].keep_alive, std::chrono::seconds(7));
}

TEST_F(LoadConfig, ResolvesRelativePathsAgainstTheYamlFilesDirectory) {
  fs::create_directories(dir_ / "conf");
  const fs::path path = dir_ / "conf" / "node.yaml";
  write_file(path,
             "node:\n"
             "  state_dir: ./state/../st\n"
             "functions:\n"
             "  - {name: a, runtime: python3.11, handler: m.f, code: ../py/}\n"
             "  - {name: b, runtime: provided, code: " +
                 (dir_ / "bin").string() + "}\n");
  // The working directory must not matter, only where the YAML file is.
  struct RestoreCwd {
    fs::path saved = fs::current_path();
    ~RestoreCwd() { fs::current_path(saved); }
  } restore_cwd;
  fs::current_path("/");
  const Config config = load_config(path);

  EXPECT_EQ(config.node.state_dir, dir_ / "conf" / "st");
  ASSERT_EQ(config.functions.size(), 2U);
  EXPECT_EQ(config.functions[0].code_dir, dir_ / "py");
  EXPECT_EQ(config.functions[0].interpreter, fs::path("/usr/bin/python3.11"));
  EXPECT_EQ(config.functions[1].code_dir, dir_ / "bin");
}

TEST_F(LoadConfig, ParseConfigAnchorsRelativePathsAndMessagesOnTheGivenName) {
  const Config config = parse_config(std::string(kPythonFunction), dir_ / "virtual.yaml");
  EXPECT_EQ(config.file, dir_ / "virtual.yaml");
  EXPECT_EQ(config.functions.at(0).code_dir, dir_ / "py");

  try {
    parse_config("functions: {}\n", "some/where.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "some/where.yaml:1:12: functions: expected a list, got a map");
  }
}

TEST_F(LoadConfig, AllowsNoFunctionsButRequiresFunctionsToBeAList) {
  EXPECT_TRUE(load_config(write_config("node: {listen: 'localhost:0'}\n")).functions.empty());
  EXPECT_TRUE(load_config(write_config("functions: []\n")).functions.empty());
  EXPECT_EQ(error_for("functions:\n"), at(1, 1) + "functions: expected a list, got null");
  EXPECT_EQ(error_for("functions: hello\n"), at(1, 12) + "functions: expected a list, got `hello`");
}

TEST_F(LoadConfig, RejectsUnknownTopLevelKey) {
  EXPECT_EQ(error_for("node: {}\nfunction: []\n"),
            at(2, 1) + "function: unknown key; allowed keys: node, functions");
}

TEST_F(LoadConfig, RejectsUnknownNodeKeyWithLineAndColumn) {
  EXPECT_EQ(
      error_for("node:\n"
                "  listen: 127.0.0.1:9000\n"
                "  port: 9000\n"),
      at(3, 3) +
          "node.port: unknown key; allowed keys: listen, state_dir, region, account_id, "
          "keep_alive_s, isolation, sandbox_uid, sandbox_gid, sandbox_uid_range, "
          "memory_budget_mb, max_workers, "
          "freeze_idle, freeze_idle_after_ms, shutdown_grace_s, init_cpu_burst, oci_runtime, "
          "max_image_mb, http, buckets, metrics, cost, auth, log_format, log_bytes_per_invocation, "
          "log_bytes_per_second, log_file_bytes, log_files");
}

TEST_F(LoadConfig, SandboxUidRangeIsTheNodesOwnByDefaultAndCanBeNone) {
  const auto defaults = load_config(write_config("node: {}\n")).node;
  ASSERT_TRUE(defaults.sandbox_uid_range);
  EXPECT_EQ(*defaults.sandbox_uid_range, kDefaultSandboxUids);
  EXPECT_EQ(defaults.sandbox_uid_range->first, 1879048192U);
  EXPECT_EQ(defaults.sandbox_uid_range->last(), 1879113727U);
  // The default is no host user's or group's here either (the node checks it at start).
  EXPECT_EQ(host_use_of(kDefaultSandboxUids), std::nullopt);
  EXPECT_FALSE(
      load_config(write_config("node: {sandbox_uid_range: none}\n")).node.sandbox_uid_range);
  const auto written =
      load_config(write_config("node: {sandbox_uid_range: 1879113728-1879113737}\n")).node;
  ASSERT_TRUE(written.sandbox_uid_range);
  EXPECT_EQ(written.sandbox_uid_range->first, 1879113728U);
  EXPECT_EQ(written.sandbox_uid_range->count, 10U);
}

TEST_F(LoadConfig, RejectsASandboxUidRangeThatIsMalformedOrNotTheNodesOwn) {
  const std::string expected =
      "node.sandbox_uid_range: expected `FIRST-LAST` (ids 1..2147483646, FIRST <= LAST) or "
      "`none`, got ";
  EXPECT_EQ(error_for("node:\n  sandbox_uid_range: 5-\n"), at(2, 22) + expected + "`5-`");
  EXPECT_EQ(error_for("node:\n  sandbox_uid_range: 2000000010-2000000000\n"),
            at(2, 22) + expected + "`2000000010-2000000000`");
  EXPECT_EQ(error_for("node:\n  sandbox_uid_range: 0-10\n"), at(2, 22) + expected + "`0-10`");
  EXPECT_EQ(error_for("node:\n  sandbox_uid_range: 2147483000-2147483647\n"),
            at(2, 22) + expected + "`2147483000-2147483647`");
  EXPECT_EQ(error_for("node:\n  sandbox_uid_range: 60000-70000\n"),
            at(2, 22) + "node.sandbox_uid_range: `60000-70000` holds 65534 (nobody)");
  EXPECT_EQ(error_for("node:\n  sandbox_gid: 2000\n  sandbox_uid_range: 1990-2010\n"),
            at(3, 22) +
                "node.sandbox_uid_range: `1990-2010` holds 2000 (node.sandbox_gid, the shared "
                "group)");
  // A real user of this host: the first one after root.
  const passwd* user = ::getpwnam("daemon");
  ASSERT_NE(user, nullptr) << "Debian always has the user daemon";
  const std::string uid = std::to_string(user->pw_uid);
  const std::string range = uid + "-" + uid;
  EXPECT_THAT(error_for("node:\n  sandbox_uid_range: " + range + "\n"),
              ::testing::StartsWith(at(2, 22) + "node.sandbox_uid_range: `" + range +
                                    "` is not the node's own: uid " + uid + " is user daemon"));
}

TEST_F(LoadConfig, HostIdsCountSubordinateRangesOfRootlessContainers) {
  write_file(dir_ / "subuid", "alice:100000:65536\nbroken line\nbob:x:1\n");
  write_file(dir_ / "subgid", "carol:300000:10\n");
  const HostIdFiles files{.subuid = dir_ / "subuid", .subgid = dir_ / "subgid"};
  EXPECT_EQ(host_use_of(UidRange{165535, 10}, files),
            "uids 100000-165535 are subordinate ids of alice (" + (dir_ / "subuid").string() + ")");
  EXPECT_EQ(host_use_of(UidRange{300009, 1}, files),
            "gids 300000-300009 are subordinate ids of carol (" + (dir_ / "subgid").string() + ")");
  EXPECT_EQ(host_use_of(UidRange{165536, 134464}, files), std::nullopt);
  EXPECT_EQ(host_use_of(UidRange{300010, 5}, files), std::nullopt);
}

TEST_F(LoadConfig, HostIdsCountEveryUserAndGroupOfTheFiles) {
  write_file(dir_ / "passwd", "root:x:0:0::/root:/bin/sh\nsvc:x:4000:4000::/:/bin/false\n");
  write_file(dir_ / "group", "root:x:0:\nbuilders:x:5000:svc\n");
  const HostIdFiles files{.passwd = dir_ / "passwd",
                          .group = dir_ / "group",
                          .subuid = dir_ / "none",
                          .subgid = dir_ / "none"};
  EXPECT_EQ(host_use_of(UidRange{3990, 20}, files),
            "uid 4000 is user svc (" + (dir_ / "passwd").string() + ")");
  EXPECT_EQ(host_use_of(UidRange{5000, 1}, files),
            "gid 5000 is group builders (" + (dir_ / "group").string() + ")");
  EXPECT_EQ(host_use_of(UidRange{4001, 999}, files), std::nullopt);
}

TEST_F(LoadConfig, RejectsUnknownFunctionKeyWithLineAndColumn) {
  EXPECT_EQ(
      error_for(with_function("    memory: 256\n")),
      at(6, 5) +
          "functions[0].memory: unknown key; allowed keys: name, runtime, handler, code, image, "
          "image_config, memory_mb, timeout_s, environment, reserved_concurrency, keep_alive_s, "
          "keep_alive, "
          "provisioned, max_reuse, prepared_sandboxes, zygote, isolation, network, "
          "ephemeral_storage_mb, "
          "seccomp, async, schedules, http, s3_events, mounts, layers, log_bytes_per_invocation, "
          "log_bytes_per_second, log_file_bytes, log_files, logging");
}

TEST_F(LoadConfig, ReadsSchedulerAndIsolationKeys) {
  const auto config = load_config(write_config(
      with_function("    reserved_concurrency: 4\n    provisioned: 2\n    keep_alive: adaptive\n"
                    "    max_reuse: 100\n    prepared_sandboxes: 3\n    isolation: none\n"
                    "    network: host\n"
                    "    ephemeral_storage_mb: 1024\n    seccomp:\n      deny: [socket]\n"
                    "      allow: [ptrace]\n")));
  const auto& f = config.functions.at(0);
  EXPECT_EQ(f.provisioned, 2U);
  EXPECT_EQ(f.keep_alive_policy, KeepAlivePolicy::kAdaptive);
  EXPECT_EQ(f.max_reuse, 100U);
  EXPECT_EQ(f.prepared_sandboxes, 3U);
  EXPECT_EQ(f.isolation, Isolation::kNone);
  EXPECT_TRUE(f.network_host);
  EXPECT_EQ(f.ephemeral_storage_mb, 1024U);
  EXPECT_EQ(f.seccomp_deny, std::vector<std::string>{"socket"});
  EXPECT_EQ(f.seccomp_allow, std::vector<std::string>{"ptrace"});
}

TEST_F(LoadConfig, FunctionsInheritTheNodesIsolation) {
  const auto config = load_config(write_config("node:\n  isolation: none\n" + with_function("")));
  EXPECT_EQ(config.functions.at(0).isolation, Isolation::kNone);
}

TEST_F(LoadConfig, RejectsProvisionedAboveTheReservedCap) {
  EXPECT_NE(error_for(with_function("    reserved_concurrency: 1\n    provisioned: 2\n"))
                .find("provisioned (2) cannot exceed reserved_concurrency (1)"),
            std::string::npos);
}

TEST_F(LoadConfig, ZygoteIsForPythonOnly) {
  EXPECT_TRUE(
      load_config(write_config(with_function("    zygote: true\n"))).functions.at(0).zygote);
  const auto error =
      error_for("functions:\n  - {name: a, runtime: provided, code: bin, zygote: true}\n");
  EXPECT_NE(error.find("functions[0].zygote: only python runtimes have a zygote; runtime is "
                       "provided"),
            std::string::npos)
      << error;
}

TEST_F(LoadConfig, ReadsTheInitCpuBurst) {
  EXPECT_TRUE(load_config(write_config(kPythonFunction)).node.init_cpu_burst);
  EXPECT_FALSE(
      load_config(write_config("node:\n  init_cpu_burst: false\n" + std::string(kPythonFunction)))
          .node.init_cpu_burst);
}

TEST_F(LoadConfig, ReadsMetricsAndCostPrices) {
  const auto defaults = load_config(write_config(kPythonFunction)).node;
  EXPECT_TRUE(defaults.metrics);
  EXPECT_DOUBLE_EQ(defaults.cost.usd_per_million_requests, 0.20);
  EXPECT_DOUBLE_EQ(defaults.cost.usd_per_gb_second, 0.0000166667);
  EXPECT_EQ(defaults.cost.free_requests, 1'000'000U);
  EXPECT_EQ(defaults.cost.free_gb_seconds, 400'000U);
  const auto node = load_config(write_config("node:\n  metrics: false\n  cost:\n"
                                             "    usd_per_million_requests: 0\n"
                                             "    usd_per_gb_second: 1.33334e-05\n"
                                             "    free_requests: 0\n" +
                                             std::string(kPythonFunction)))
                        .node;
  EXPECT_FALSE(node.metrics);
  EXPECT_DOUBLE_EQ(node.cost.usd_per_million_requests, 0);
  EXPECT_DOUBLE_EQ(node.cost.usd_per_gb_second, 0.0000133334);
  EXPECT_EQ(node.cost.free_requests, 0U);
  EXPECT_EQ(node.cost.free_gb_seconds, 400'000U);
}

TEST_F(LoadConfig, RejectsPricesThatAreNotNonNegativeNumbers) {
  const auto negative = error_for("node:\n  cost:\n    usd_per_gb_second: -1\n");
  EXPECT_EQ(negative.rfind((dir_ / "ember.yaml").string() + ":3:", 0), 0U) << negative;
  EXPECT_NE(negative.find("node.cost.usd_per_gb_second: expected a price in USD: a non-negative "
                          "decimal number like 0.20, got `-1`"),
            std::string::npos)
      << negative;
  EXPECT_NE(error_for("node:\n  cost:\n    usd_per_million_requests: cheap\n")
                .find("node.cost.usd_per_million_requests: expected a price in USD: a "
                      "non-negative decimal number like 0.20, got `cheap`"),
            std::string::npos);
  EXPECT_NE(error_for("node:\n  cost:\n    usd_per_million_requests: '0.20'\n")
                .find("got the string `0.20`"),
            std::string::npos);
  EXPECT_NE(error_for("node:\n  cost:\n    usd_per_gb_second: .inf\n").find("got `.inf`"),
            std::string::npos);
}

TEST_F(LoadConfig, RejectsUnknownChoices) {
  EXPECT_NE(error_for(with_function("    keep_alive: sometimes\n"))
                .find("functions[0].keep_alive: expected one of fixed, adaptive, got `sometimes`"),
            std::string::npos);
  EXPECT_NE(error_for(with_function("    seccomp:\n      deny: [\"bad name!\"]\n"))
                .find("functions[0].seccomp.deny[0]: expected a system call name"),
            std::string::npos);
}

TEST_F(LoadConfig, RejectsRepeatedYamlKey) {
  EXPECT_EQ(error_for(with_function("    timeout_s: 5\n    timeout_s: 6\n")),
            at(7, 5) + "functions[0].timeout_s: duplicate key (first at line 6)");
}

TEST_F(LoadConfig, RejectsMissingRequiredKeysAtTheFunctionEntry) {
  EXPECT_EQ(error_for("functions:\n  - name: a\n    runtime: provided\n"),
            at(2, 5) + "functions[0].code: missing (required unless `image`)");
  EXPECT_EQ(error_for("functions:\n  - name: a\n    code: bin\n"),
            at(2, 5) + "functions[0].runtime: missing (required unless `image`)");
  EXPECT_EQ(error_for("functions:\n  - runtime: provided\n    code: bin\n"),
            at(2, 5) + "functions[0].name: missing (required)");
  EXPECT_EQ(error_for("functions:\n  - name: a\n    runtime: python3\n    code: py\n"),
            at(2, 5) + "functions[0].handler: missing (required)");
}

TEST_F(LoadConfig, RejectsFunctionEntryThatIsNotAMap) {
  EXPECT_EQ(error_for(with_function("  - hello\n")),
            at(6, 5) + "functions[1]: expected a map, got `hello`");
}

TEST_F(LoadConfig, RejectsMemoryBelowMinimum) {
  EXPECT_EQ(error_for(with_function("    memory_mb: 64\n")),
            at(6, 16) + "functions[0].memory_mb: out of range: must be 128..10240, got 64");
}

TEST_F(LoadConfig, RejectsMemoryAboveMaximum) {
  EXPECT_EQ(error_for(with_function("    memory_mb: 10241\n")),
            at(6, 16) + "functions[0].memory_mb: out of range: must be 128..10240, got 10241");
  EXPECT_EQ(
      error_for(with_function("    memory_mb: 99999999999999999999999\n")),
      at(6, 16) +
          "functions[0].memory_mb: out of range: must be 128..10240, got 99999999999999999999999");
}

TEST_F(LoadConfig, RejectsMemoryThatIsNotAnInteger) {
  const std::string key = "functions[0].memory_mb: ";
  EXPECT_EQ(error_for(with_function("    memory_mb: abc\n")),
            at(6, 16) + key + "expected an integer, got `abc`");
  EXPECT_EQ(error_for(with_function("    memory_mb: 1.5\n")),
            at(6, 16) + key + "expected an integer, got `1.5`");
  EXPECT_EQ(error_for(with_function("    memory_mb: 12abc\n")),
            at(6, 16) + key + "expected an integer, got `12abc`");
  EXPECT_EQ(error_for(with_function("    memory_mb: 1e3\n")),
            at(6, 16) + key + "expected an integer, got `1e3`");
  EXPECT_EQ(error_for(with_function("    memory_mb: \"256\"\n")),
            at(6, 16) + key + "expected an integer, got the string `256`");
  EXPECT_EQ(error_for(with_function("    memory_mb: -256\n")),
            at(6, 16) + key + "out of range: must be 128..10240, got -256");
  EXPECT_EQ(error_for(with_function("    memory_mb: [256]\n")),
            at(6, 16) + key + "expected an integer, got a list");
  // An empty value is reported at its key: yaml-cpp places it on the following token.
  EXPECT_EQ(error_for(with_function("    memory_mb:\n    timeout_s: 3\n")),
            at(6, 5) + key + "expected an integer, got null");
}

TEST_F(LoadConfig, RejectsTimeoutOutOfRange) {
  EXPECT_EQ(error_for(with_function("    timeout_s: 0\n")),
            at(6, 16) + "functions[0].timeout_s: out of range: must be 1..900, got 0");
  EXPECT_EQ(error_for(with_function("    timeout_s: 901\n")),
            at(6, 16) + "functions[0].timeout_s: out of range: must be 1..900, got 901");
}

TEST_F(LoadConfig, RejectsOutOfRangeConcurrencyAndKeepAlive) {
  EXPECT_EQ(
      error_for(with_function("    reserved_concurrency: 1001\n")),
      at(6, 27) + "functions[0].reserved_concurrency: out of range: must be 0..1000, got 1001");
  EXPECT_EQ(error_for(with_function("    keep_alive_s: 0\n")),
            at(6, 19) + "functions[0].keep_alive_s: out of range: must be 1..86400, got 0");
  EXPECT_EQ(error_for("node:\n  keep_alive_s: 86401\n"),
            at(2, 17) + "node.keep_alive_s: out of range: must be 1..86400, got 86401");
}

TEST_F(LoadConfig, MemoryBudgetIsZeroOrAtLeastTheMinimum) {
  EXPECT_EQ(load_config(write_config("node: {memory_budget_mb: 0}\n")).node.memory_budget_mb, 0U);
  EXPECT_EQ(load_config(write_config("node: {memory_budget_mb: 128}\n")).node.memory_budget_mb,
            128U);
  const std::string range = "must be 0 (80 % of the machine's memory) or 128..1073741824";
  EXPECT_EQ(error_for("node:\n  memory_budget_mb: 64\n"),
            at(2, 21) + "node.memory_budget_mb: out of range: " + range + ", got 64");
  EXPECT_EQ(error_for("node:\n  memory_budget_mb: 1073741825\n"),
            at(2, 21) + "node.memory_budget_mb: out of range: " + range + ", got 1073741825");
}

TEST_F(LoadConfig, RejectsDuplicateFunctionNameAndPointsAtTheFirst) {
  EXPECT_EQ(error_for(with_function("  - name: other\n"
                                    "    runtime: provided\n"
                                    "    code: bin\n"
                                    "  - name: hello\n"
                                    "    runtime: provided\n"
                                    "    code: bin\n")),
            at(9, 11) +
                "functions[2].name: duplicate function name `hello` (first defined at "
                "line 2)");
}

TEST_F(LoadConfig, RejectsInvalidFunctionName) {
  EXPECT_EQ(
      error_for("functions:\n  - {name: 'hello world', runtime: provided, code: bin}\n"),
      at(2, 12) + "functions[0].name: expected 1 to 64 of A-Z a-z 0-9 _ -, got `hello world`");
  EXPECT_EQ(error_for("functions:\n  - {name: " + std::string(65, 'a') +
                      ", runtime: provided, code: bin}\n"),
            at(2, 12) + "functions[0].name: expected 1 to 64 of A-Z a-z 0-9 _ -, got `" +
                std::string(60, 'a') + "...`");
}

TEST_F(LoadConfig, RejectsMissingCodeDirectory) {
  EXPECT_EQ(
      error_for("functions:\n  - {name: a, runtime: provided, code: ./nope}\n"),
      at(2, 40) + "functions[0].code: directory " + (dir_ / "nope").string() + " does not exist");
}

TEST_F(LoadConfig, RejectsCodePathThatIsNotADirectory) {
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: provided, code: bin/bootstrap}\n"),
            at(2, 40) + "functions[0].code: " + (dir_ / "bin" / "bootstrap").string() +
                " is not a directory");
}

TEST_F(LoadConfig, RejectsUnsupportedRuntime) {
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: nodejs20.x, code: bin}\n"),
            at(2, 24) +
                "functions[0].runtime: unsupported runtime `nodejs20.x`; expected provided, "
                "provided.al2, provided.al2023, python3 or python3.N");
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: python3.x, code: bin}\n"),
            at(2, 24) +
                "functions[0].runtime: unsupported runtime `python3.x`; expected provided, "
                "provided.al2, provided.al2023, python3 or python3.N");
}

TEST_F(LoadConfig, RejectsPythonRuntimeWhoseInterpreterIsNotInstalled) {
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: python3.99, handler: m.f, code: py}\n"),
            at(2, 24) +
                "functions[0].runtime: interpreter /usr/bin/python3.99 is not installed or not "
                "executable");
}

TEST_F(LoadConfig, RejectsMalformedPythonHandler) {
  for (const std::string bad :
       {"lambda_function", "a..b", "1mod.f", ".f", "mod.", "mod.f-g", "dir/mod.f"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: python3, code: py, handler: '" + bad +
                        "'}\n"),
              at(2, 52) +
                  "functions[0].handler: expected module.function (like "
                  "lambda_function.lambda_handler), got `" +
                  bad + "`");
  }
}

TEST_F(LoadConfig, AcceptsDottedPythonModulePath) {
  const Config config = load_config(write_config(
      "functions:\n  - {name: a, runtime: python3, code: py, handler: pkg.sub.mod.f}\n"));
  EXPECT_EQ(config.functions.at(0).handler, "pkg.sub.mod.f");
}

TEST_F(LoadConfig, RejectsProvidedRuntimeWithoutBootstrap) {
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: provided.al2, code: py}\n"),
            at(2, 44) + "functions[0].code: runtime provided.al2 needs an executable " +
                (dir_ / "py" / "bootstrap").string() + ", which does not exist");
}

TEST_F(LoadConfig, RejectsBootstrapThatIsNotExecutable) {
  fs::permissions(dir_ / "bin" / "bootstrap", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: provided, code: bin}\n"),
            at(2, 40) + "functions[0].code: " + (dir_ / "bin" / "bootstrap").string() +
                " is not executable");
}

TEST_F(LoadConfig, RejectsBootstrapThatIsADirectory) {
  fs::create_directories(dir_ / "py" / "bootstrap");
  EXPECT_EQ(error_for("functions:\n  - {name: a, runtime: provided, code: py}\n"),
            at(2, 40) + "functions[0].code: " + (dir_ / "py" / "bootstrap").string() +
                " is not a regular file");
}

TEST_F(LoadConfig, RejectsReservedEnvironmentName) {
  EXPECT_EQ(error_for(with_function("    environment:\n"
                                    "      GREETING: hi\n"
                                    "      AWS_REGION: eu-west-1\n")),
            at(8, 7) +
                "functions[0].environment.AWS_REGION: reserved: Lambda sets this variable "
                "itself");
  EXPECT_EQ(error_for(with_function("    environment: {_HANDLER: x}\n")),
            at(6, 19) +
                "functions[0].environment._HANDLER: reserved: Lambda sets this variable "
                "itself");
}

TEST_F(LoadConfig, RejectsInvalidEnvironmentNamesAndValues) {
  EXPECT_EQ(error_for(with_function("    environment: {1ABC: x}\n")),
            at(6, 19) +
                "functions[0].environment.1ABC: variable names must match "
                "[A-Za-z_][A-Za-z0-9_]*");
  EXPECT_EQ(error_for(with_function("    environment: {A: [x]}\n")),
            at(6, 22) + "functions[0].environment.A: expected a string, got a list");
  EXPECT_EQ(error_for(with_function("    environment:\n      A:\n")),
            at(7, 7) +
                "functions[0].environment.A: expected a string, got null (write \"\" for "
                "an empty value)");
  EXPECT_EQ(error_for(with_function("    environment: [A]\n")),
            at(6, 18) + "functions[0].environment: expected a map, got a list");
}

TEST_F(LoadConfig, RejectsEnvironmentLargerThanFourKilobytes) {
  // "BIG" plus 4093 characters is exactly Lambda's 4096-byte limit.
  const std::string fits =
      with_function("    environment: {BIG: " + std::string(4093, 'x') + "}\n");
  EXPECT_EQ(load_config(write_config(fits)).functions.at(0).environment.at(0).second.size(), 4093U);
  EXPECT_EQ(
      error_for(with_function("    environment: {BIG: " + std::string(4093, 'x') + ", B: y}\n")),
      at(6, 18) +
          "functions[0].environment: names and values add up to 4098 bytes; Lambda allows "
          "at most 4096");
}

TEST_F(LoadConfig, RejectsBadListenAddress) {
  const std::string problem =
      "node.listen: expected HOST:PORT with HOST an IPv4 address, [IPv6 address] or localhost "
      "and PORT 0..65535, got ";
  for (const std::string bad : {"9000", "example.com:9000", "127.0.0.1:65536", "127.0.0.1:",
                                "::1:9000", "[::1]:http", "127.0.0.256:80", "127.0.0.1:-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(error_for("node:\n  listen: '" + bad + "'\n"), at(2, 11) + problem + "`" + bad + "`");
  }
  EXPECT_EQ(error_for("node:\n  listen: {host: x}\n"),
            at(2, 11) + "node.listen: expected a string, got a map");
}

TEST_F(LoadConfig, AcceptsLocalhostAndIPv6Listen) {
  const Config local = load_config(write_config("node: {listen: 'localhost:65535'}\n"));
  EXPECT_EQ(local.node.listen_host, "localhost");
  EXPECT_EQ(local.node.listen_port, 65535);
  const Config any = load_config(write_config("node: {listen: '[::]:8080', auth: {mode: none}}\n"));
  EXPECT_EQ(any.node.listen_host, "::");
  EXPECT_EQ(any.node.listen_port, 8080);
}

TEST_F(LoadConfig, AuthIsOffByDefaultOnLoopback) {
  for (const std::string listen : {"127.0.0.1:0", "127.1.2.3:9000", "localhost:9000", "[::1]:9000",
                                   "[::ffff:127.0.0.1]:9000"}) {
    SCOPED_TRACE(listen);
    const Config config = load_config(write_config("node: {listen: '" + listen + "'}\n"));
    EXPECT_EQ(config.node.auth.mode, AuthMode::kNone);
    EXPECT_TRUE(config.node.auth.credentials.empty());
  }
}

TEST_F(LoadConfig, RefusesANonLoopbackListenWithoutAnAuthSection) {
  for (const auto& [listen, host] : std::vector<std::pair<std::string, std::string>>{
           {"0.0.0.0:9000", "0.0.0.0"}, {"[::]:9000", "::"}, {"10.1.2.3:9000", "10.1.2.3"}}) {
    SCOPED_TRACE(listen);
    EXPECT_EQ(error_for("node:\n  region: eu-west-1\n  listen: '" + listen + "'\n"),
              at(3, 11) + "node.listen: `" + host +
                  "` is not a loopback address, so other machines could invoke every function, "
                  "and there is no `node.auth` section: add one with `mode: sigv4` and "
                  "credentials, or `mode: none` to serve unsigned requests from anyone on "
                  "purpose");
  }
}

TEST_F(LoadConfig, ANonLoopbackListenLoadsWithModeNoneWrittenOrWithSigV4) {
  const Config open =
      load_config(write_config("node:\n  listen: 0.0.0.0:9000\n  auth:\n"
                               "    mode: none\n"));
  EXPECT_EQ(open.node.auth.mode, AuthMode::kNone);
  const Config closed = load_config(write_config(
      "node:\n  listen: 0.0.0.0:9000\n  auth:\n    mode: sigv4\n    max_clock_skew_s: 900\n"
      "    credentials:\n"
      "      - access_key_id: AKIDADMIN\n        secret_access_key: 'wJal/K7+MDENG=='\n"
      "        allow: ['*']\n"
      "      - access_key_id: ci-runner.1\n        secret_access_key: s3cr3t\n"
      "        allow: [hello, resize_2]\n"));
  EXPECT_EQ(closed.node.auth.mode, AuthMode::kSigV4);
  EXPECT_EQ(closed.node.auth.max_clock_skew, std::chrono::seconds(900));
  ASSERT_EQ(closed.node.auth.credentials.size(), 2U);
  EXPECT_EQ(closed.node.auth.credentials[0].access_key_id, "AKIDADMIN");
  EXPECT_EQ(closed.node.auth.credentials[0].secret_access_key, "wJal/K7+MDENG==");
  EXPECT_EQ(closed.node.auth.credentials[0].allow, std::vector<std::string>{"*"});
  EXPECT_EQ(closed.node.auth.credentials[1].allow, (std::vector<std::string>{"hello", "resize_2"}));
}

TEST_F(LoadConfig, AuthSectionNeedsItsModeAndSigV4NeedsACredential) {
  EXPECT_EQ(error_for("node:\n  auth: {}\n"), at(2, 9) + "node.auth.mode: missing (required)");
  EXPECT_EQ(error_for("node:\n  auth:\n    mode: sigv4\n"),
            at(3, 5) +
                "node.auth.credentials: `mode: sigv4` needs at least one credential; without one "
                "no request could be served");
  EXPECT_EQ(error_for("node:\n  auth: {mode: iam}\n"),
            at(2, 16) + "node.auth.mode: expected one of none, sigv4, got `iam`");
}

TEST_F(LoadConfig, RejectsBadCredentialsWithoutPrintingTheSecret) {
  const std::string head = "node:\n  auth:\n    mode: sigv4\n    credentials:\n";
  EXPECT_EQ(
      error_for(head + "      - {access_key_id: 'AK/ID', secret_access_key: x, allow: ['*']}\n"),
      at(5, 25) +
          "node.auth.credentials[0].access_key_id: expected 1 to 128 of A-Z a-z 0-9 _ . -, "
          "got `AK/ID`");
  const std::string leaked = error_for(
      head + "      - {access_key_id: AKID, secret_access_key: 'top secret', allow: ['*']}\n");
  EXPECT_EQ(leaked, at(5, 50) +
                        "node.auth.credentials[0].secret_access_key: expected 1 to 128 characters "
                        "without blanks or control characters, got 10 character(s) that are not "
                        "(the value is not shown)");
  EXPECT_EQ(leaked.find("top secret"), std::string::npos);
  EXPECT_EQ(error_for(head + "      - {access_key_id: AKID, secret_access_key: x, allow: [a.b]}\n"),
            at(5, 61) +
                "node.auth.credentials[0].allow[0]: expected a function name, or `*` for every "
                "function, got `a.b`");
  EXPECT_EQ(error_for(head + "      - {access_key_id: AKID, secret_access_key: x}\n"),
            at(5, 9) + "node.auth.credentials[0].allow: missing (required)");
  EXPECT_EQ(error_for(head + "      - {access_key_id: AKID, secret_access_key: x, allow: ['*']}\n" +
                      "      - {access_key_id: AKID, secret_access_key: y, allow: ['*']}\n"),
            at(6, 25) +
                "node.auth.credentials[1].access_key_id: duplicate access key id `AKID` (first "
                "defined at line 5)");
}

TEST_F(LoadConfig, RejectsBadRegionAndAccountId) {
  EXPECT_EQ(error_for("node:\n  region: US_EAST\n"),
            at(2, 11) +
                "node.region: expected lowercase letters, digits and '-' (like us-east-1), got "
                "`US_EAST`");
  EXPECT_EQ(error_for("node:\n  account_id: 12345\n"),
            at(2, 15) + "node.account_id: expected 12 digits, got `12345`");
}

TEST_F(LoadConfig, RejectsStateDirThatIsAFile) {
  EXPECT_EQ(error_for("node:\n  state_dir: bin/bootstrap\n"),
            at(2, 14) + "node.state_dir: " + (dir_ / "bin" / "bootstrap").string() +
                " exists but is not a directory");
}

TEST_F(LoadConfig, ReportsYamlSyntaxErrorWithPosition) {
  EXPECT_EQ(error_for("node:\n  listen: [127.0.0.1:9000\n"),
            at(3, 1) + "<document>: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(error_for("node:\n  listen: a: b\n"),
            at(2, 12) + "<document>: YAML syntax error: illegal map value");
}

TEST_F(LoadConfig, RejectsEmptyFileAndNonMapDocument) {
  EXPECT_EQ(error_for(""),
            at(1, 1) + "<document>: empty configuration; expected a map with keys node, functions");
  EXPECT_EQ(error_for("# nothing here\n"),
            at(1, 1) + "<document>: empty configuration; expected a map with keys node, functions");
  EXPECT_EQ(error_for("- hello\n"),
            at(1, 1) + "<document>: expected a map with keys node, functions, got a list");
  EXPECT_EQ(error_for("node: {}\n---\nnode: {}\n"),
            at(3, 1) + "<document>: expected a single YAML document, found 2");
  // yaml-cpp 0.7's LoadAll never returned on a lone ',' (null documents without end, memory
  // growing by the second; found by tests/fuzz/config_fuzz, whose corpus keeps the input).
  EXPECT_EQ(error_for(","),
            at(1, 1) + "<document>: empty configuration; expected a map with keys node, functions");
}

TEST_F(LoadConfig, ReportsUnreadableFile) {
  const fs::path missing = dir_ / "missing.yaml";
  try {
    load_config(missing);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.what(), missing.string() + ": cannot read: No such file or directory");
  }
  try {
    load_config(dir_);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.what(), dir_.string() + ": cannot read: Is a directory");
  }
}

TEST_F(LoadConfig, KeepsMessagesOnOneLine) {
  EXPECT_EQ(error_for(with_function("    timeout_s: |\n      1\n      2\n")),
            at(6, 16) + "functions[0].timeout_s: expected an integer, got the string `1\\n2\\n`");
}

TEST(LoadExampleConfig, LoadsTheShippedExamplesEmberYaml) {
  const fs::path examples = fs::path(EMBER_SOURCE_DIR) / "examples";
  const Config config = load_config(examples / "ember.yaml");

  EXPECT_EQ(config.node.listen_host, "127.0.0.1");
  EXPECT_EQ(config.node.listen_port, 9000);
  EXPECT_EQ(config.node.state_dir, (examples / "ember-state").lexically_normal());

  const auto function = [&](std::string_view name) -> const FunctionConfig& {
    const auto it = std::find_if(config.functions.begin(), config.functions.end(),
                                 [&](const FunctionConfig& f) { return f.name == name; });
    if (it == config.functions.end()) throw std::runtime_error("no function " + std::string(name));
    return *it;
  };
  ASSERT_EQ(config.functions.size(), 7U);
  const FunctionConfig& hello = function("hello");
  EXPECT_EQ(hello.runtime_kind, RuntimeKind::kPython);
  EXPECT_EQ(hello.handler, "lambda_function.lambda_handler");
  EXPECT_TRUE(fs::is_regular_file(hello.code_dir / "lambda_function.py"));
  EXPECT_TRUE(hello.async.on_success.empty());

  const FunctionConfig& cron = function("cron");
  ASSERT_EQ(cron.schedules.size(), 1U);
  EXPECT_EQ(cron.schedules[0].expression, "rate(1 minute)");
  EXPECT_TRUE(fs::is_regular_file(cron.code_dir / "lambda_function.py"));

  EXPECT_EQ(config.node.http.listen_port, 9001);
  for (const auto* name : {"alb-hello", "alb-page"}) {
    const FunctionConfig& web = function(name);
    EXPECT_EQ(web.http.format, HttpEventFormat::kAlb);
    EXPECT_TRUE(fs::is_regular_file(web.code_dir / "lambda_function.py"));
  }
  EXPECT_EQ(function("alb-hello").http.path, "/hello");
  EXPECT_TRUE(function("alb-page").http.multi_value_headers);

  const FunctionConfig& echo = function("echo-provided");
  EXPECT_EQ(echo.runtime_kind, RuntimeKind::kProvided);
  EXPECT_TRUE(fs::is_regular_file(echo.code_dir / "bootstrap"));

  const FunctionConfig& image = function("echo-image");
  EXPECT_EQ(image.runtime_kind, RuntimeKind::kImage);
  EXPECT_EQ(image.image, "oci:" + (examples / "images" / "build" / "echo").string() + ":latest");

  ASSERT_EQ(config.node.buckets.size(), 2U);
  EXPECT_EQ(config.node.buckets[0].path, (examples / "buckets" / "images").lexically_normal());
  const FunctionConfig& thumbnail = function("thumbnail");
  EXPECT_EQ(thumbnail.name, "thumbnail");
  ASSERT_EQ(thumbnail.s3_events.size(), 1U);
  EXPECT_EQ(thumbnail.s3_events[0].bucket, "images");
  ASSERT_EQ(thumbnail.mounts.size(), 2U);
  EXPECT_EQ(thumbnail.mounts[1].path, (examples / "buckets" / "thumbnails").lexically_normal());
  EXPECT_FALSE(thumbnail.mounts[1].read_only);
  EXPECT_EQ(thumbnail.async.dead_letter.directory,
            (examples / "buckets" / "dead-letters").lexically_normal());
}

// Package type Image: `image` instead of `code` and `runtime`.
TEST_F(LoadConfig, ReadsAnImageFunctionWithItsPathMadeAbsolute) {
  fs::create_directories(dir_ / "images" / "hello");
  const Config config =
      load_config(write_config("node:\n  isolation: oci\n  oci_runtime: runc\n  max_image_mb: 512\n"
                               "functions:\n  - name: img\n    image: oci:images/hello:v1\n"
                               "    image_config:\n      entrypoint: [/bin/busybox, sh]\n"
                               "      command: [index.handler]\n      working_directory: /srv\n"));
  const FunctionConfig& function = config.functions.at(0);
  EXPECT_EQ(function.image, "oci:" + (dir_ / "images" / "hello").string() + ":v1");
  EXPECT_EQ(function.runtime_kind, RuntimeKind::kImage);
  EXPECT_TRUE(function.code_dir.empty());
  EXPECT_EQ(function.image_config.entrypoint, (std::vector<std::string>{"/bin/busybox", "sh"}));
  EXPECT_EQ(function.image_config.command, std::vector<std::string>{"index.handler"});
  EXPECT_EQ(function.image_config.working_directory, "/srv");
  EXPECT_EQ(function.isolation, Isolation::kOci);
  EXPECT_EQ(config.node.oci_runtime, "runc");
  EXPECT_EQ(config.node.max_image_mb, 512U);
}

TEST_F(LoadConfig, RefusesImageReferencesItCannotUse) {
  EXPECT_EQ(error_for("functions:\n  - name: a\n    image: docker://alpine\n"),
            at(3, 12) +
                "functions[0].image: docker://alpine: unknown transport 'docker' (known: oci, "
                "oci-archive, docker-archive)");
  EXPECT_EQ(error_for("functions:\n  - name: a\n    image: \"oci:\"\n"),
            at(3, 12) + "functions[0].image: oci:: empty path");
}

TEST_F(LoadConfig, AnImageFunctionIsNeitherCodeNorRuntime) {
  fs::create_directories(dir_ / "img");
  for (const std::string key : {"code: bin", "runtime: provided", "handler: x.y", "zygote: true"}) {
    const auto error = error_for("functions:\n  - name: a\n    image: oci:img\n    " + key + "\n");
    const std::string name = key.substr(0, key.find(':'));
    // The value is named: column 5, the name, ": ".
    EXPECT_EQ(error, at(4, 5 + static_cast<int>(name.size()) + 2) + "functions[0]." + name +
                         ": not with `image`: an image function runs its image's entrypoint and "
                         "command (override them in `image_config`)");
  }
  EXPECT_EQ(error_for("functions:\n  - name: a\n    image: oci:img\n    isolation: none\n"),
            at(3, 12) +
                "functions[0].image: needs `isolation: native` or `oci`: the image is the "
                "sandbox's root, which a plain process (`isolation: none`) does not have");
  EXPECT_EQ(error_for(with_function("    image_config: {command: [x]}\n")),
            at(6, 19) + "functions[0].image_config: only with `image`");
  EXPECT_EQ(error_for("functions:\n  - name: a\n    image: oci:img\n"
                      "    image_config: {working_directory: srv}\n"),
            at(4, 39) +
                "functions[0].image_config.working_directory: expected an absolute path, "
                "got `srv`");
}

// --- async: retries and destinations of InvocationType Event ---------------------------------

// The message for a function whose `async` map has the single line `line` (on line 7, at
// column 7).
std::string async_line(std::string_view line) {
  return with_function("    async:\n      " + std::string(line) + "\n");
}

TEST_F(LoadConfig, AsyncHasLambdasDefaultsWhenAbsent) {
  const AsyncConfig async = load_config(write_config(kPythonFunction)).functions.at(0).async;
  EXPECT_EQ(async.max_retries, 2U);
  EXPECT_EQ(async.max_event_age, std::chrono::seconds(21600));
  EXPECT_EQ(async.retry_delays, (std::vector<std::chrono::seconds>{std::chrono::seconds(60),
                                                                   std::chrono::seconds(120)}));
  EXPECT_TRUE(async.on_success.empty());
  EXPECT_TRUE(async.on_failure.empty());
  EXPECT_TRUE(async.dead_letter.empty());
  // An empty map and empty destinations mean the same.
  const AsyncConfig empty =
      load_config(write_config(with_function("    async: {on_success: \"\", dead_letter: ''}\n")))
          .functions.at(0)
          .async;
  EXPECT_EQ(empty.max_retries, 2U);
  EXPECT_TRUE(empty.on_success.empty());
  EXPECT_TRUE(empty.dead_letter.empty());
}

TEST_F(LoadConfig, ReadsEveryAsyncKeyAndDestinationsNamingLaterFunctions) {
  fs::create_directories(dir_ / "existing");
  const Config config = load_config(write_config(with_function(
      "    async:\n"
      "      max_retries: 0\n"
      "      max_event_age_s: 60\n"
      "      retry_delays_s: [0]\n"
      "      on_success: function:later\n"
      "      on_failure: dir:not/yet/there/\n"
      "      dead_letter: dir:" +
      (dir_ / "existing").string() +
      "\n"
      "  - name: later\n"
      "    runtime: provided\n"
      "    code: bin\n"
      "    async: {max_retries: 2, max_event_age_s: 21600, retry_delays_s: [21600, 5],\n"
      "            on_failure: function:hello, dead_letter: 'dir:../" +
      dir_.filename().string() + "/./existing'}\n")));
  ASSERT_EQ(config.functions.size(), 2U);
  const AsyncConfig& hello = config.functions[0].async;
  EXPECT_EQ(hello.max_retries, 0U);
  EXPECT_EQ(hello.max_event_age, std::chrono::seconds(60));
  EXPECT_EQ(hello.retry_delays, std::vector<std::chrono::seconds>{std::chrono::seconds(0)});
  EXPECT_EQ(hello.on_success.kind, Destination::Kind::kFunction);
  EXPECT_EQ(hello.on_success.function, "later");
  EXPECT_EQ(hello.on_failure.kind, Destination::Kind::kDirectory);
  EXPECT_EQ(hello.on_failure.directory, dir_ / "not" / "yet" / "there");
  EXPECT_EQ(hello.dead_letter.kind, Destination::Kind::kDirectory);
  EXPECT_EQ(hello.dead_letter.directory, dir_ / "existing");

  const AsyncConfig& later = config.functions[1].async;
  EXPECT_EQ(later.max_retries, 2U);
  EXPECT_EQ(later.max_event_age, std::chrono::seconds(21600));
  EXPECT_EQ(later.retry_delays, (std::vector<std::chrono::seconds>{std::chrono::seconds(21600),
                                                                   std::chrono::seconds(5)}));
  EXPECT_TRUE(later.on_success.empty());
  EXPECT_EQ(later.on_failure.function, "hello");
  EXPECT_EQ(later.dead_letter.directory, dir_ / "existing");
  // Nothing is made at load; the node makes missing directories at start.
  EXPECT_FALSE(fs::exists(dir_ / "not"));
}

TEST_F(LoadConfig, RejectsAsyncNumbersOutOfRange) {
  EXPECT_EQ(error_for(async_line("max_retries: 3")),
            at(7, 20) + "functions[0].async.max_retries: out of range: must be 0..2, got 3");
  EXPECT_EQ(
      error_for(async_line("max_event_age_s: 59")),
      at(7, 24) + "functions[0].async.max_event_age_s: out of range: must be 60..21600, got 59");
  EXPECT_EQ(
      error_for(async_line("max_event_age_s: 21601")),
      at(7, 24) + "functions[0].async.max_event_age_s: out of range: must be 60..21600, got 21601");
}

TEST_F(LoadConfig, RejectsBadRetryDelaysNamingTheItem) {
  EXPECT_EQ(error_for(async_line("retry_delays_s: [60, 21601]")),
            at(7, 28) +
                "functions[0].async.retry_delays_s[1]: out of range: must be 0..21600, got 21601");
  EXPECT_EQ(
      error_for(async_line("retry_delays_s: [-1]")),
      at(7, 24) + "functions[0].async.retry_delays_s[0]: out of range: must be 0..21600, got -1");
  EXPECT_EQ(error_for(async_line("retry_delays_s: [60, 1m]")),
            at(7, 28) + "functions[0].async.retry_delays_s[1]: expected an integer, got `1m`");
  EXPECT_EQ(
      error_for(async_line("retry_delays_s: [\"60\"]")),
      at(7, 24) + "functions[0].async.retry_delays_s[0]: expected an integer, got the string `60`");
  EXPECT_EQ(error_for(async_line("retry_delays_s: []")),
            at(7, 23) + "functions[0].async.retry_delays_s: expected 1..2 items, got 0");
  EXPECT_EQ(error_for(async_line("retry_delays_s: [1, 2, 3]")),
            at(7, 23) + "functions[0].async.retry_delays_s: expected 1..2 items, got 3");
  EXPECT_EQ(error_for(async_line("retry_delays_s: 60")),
            at(7, 23) + "functions[0].async.retry_delays_s: expected a list, got `60`");
}

TEST_F(LoadConfig, RejectsMalformedDestinations) {
  EXPECT_EQ(error_for(async_line("on_success: queue:x")),
            at(7, 19) +
                "functions[0].async.on_success: expected `function:NAME` or `dir:PATH` (or \"\" "
                "for none), got `queue:x`");
  EXPECT_EQ(error_for(async_line("on_failure: \"function:\"")),
            at(7, 19) +
                "functions[0].async.on_failure: expected `function:NAME` with NAME 1 to 64 of "
                "A-Z a-z 0-9 _ -, got `function:`");
  EXPECT_EQ(error_for(async_line("dead_letter: 'function:a b'")),
            at(7, 20) +
                "functions[0].async.dead_letter: expected `function:NAME` with NAME 1 to 64 of "
                "A-Z a-z 0-9 _ -, got `function:a b`");
  EXPECT_EQ(error_for(async_line("dead_letter: \"dir:\"")),
            at(7, 20) +
                "functions[0].async.dead_letter: expected `dir:PATH` with a non-empty PATH, got "
                "`dir:`");
  EXPECT_EQ(error_for(async_line("on_success: {function: hello}")),
            at(7, 19) + "functions[0].async.on_success: expected a string, got a map");
  EXPECT_EQ(error_for(async_line("on_success:")),
            at(7, 7) + "functions[0].async.on_success: expected a string, got null");
}

TEST_F(LoadConfig, RejectsDestinationDirectoriesItCannotWriteTo) {
  const std::string file = (dir_ / "bin" / "bootstrap").string();
  EXPECT_EQ(
      error_for(async_line("on_failure: dir:bin/bootstrap")),
      at(7, 19) + "functions[0].async.on_failure: " + file + " exists and is not a directory");
  EXPECT_EQ(error_for(async_line("dead_letter: dir:bin/bootstrap/letters/x")),
            at(7, 20) + "functions[0].async.dead_letter: cannot create directory " + file +
                "/letters/x: " + file + " is not a directory");
}

TEST_F(LoadConfig, RejectsDestinationFunctionsThatAreUnknownOrItself) {
  EXPECT_EQ(error_for(async_line("on_failure: function:nope") +
                      "  - {name: other, runtime: provided, code: bin}\n"),
            at(7, 19) +
                "functions[0].async.on_failure: unknown function `nope`; functions in this file: "
                "hello, other");
  EXPECT_EQ(error_for(async_line("dead_letter: function:hello")),
            at(7, 20) +
                "functions[0].async.dead_letter: `hello` is this function itself; its outcome "
                "would invoke it again, in a loop");
  // The second function's destinations are checked at their own positions.
  EXPECT_EQ(error_for(with_function("  - name: b\n    runtime: provided\n    code: bin\n"
                                    "    async: {on_success: function:b}\n")),
            at(9, 25) +
                "functions[1].async.on_success: `b` is this function itself; its outcome would "
                "invoke it again, in a loop");
  // A long list of functions is not repeated in the message.
  std::string many =
      "functions:\n  - {name: f0, runtime: provided, code: bin, "
      "async: {on_success: function:f11}}\n";
  for (int i = 1; i <= 10; ++i) {
    many += "  - {name: f" + std::to_string(i) + ", runtime: provided, code: bin}\n";
  }
  EXPECT_EQ(error_for(many), at(2, 66) + "functions[0].async.on_success: unknown function `f11`");
}

TEST_F(LoadConfig, RejectsUnknownAsyncKeysAndAnAsyncThatIsNotAMap) {
  EXPECT_EQ(error_for(async_line("retries: 1")),
            at(7, 7) +
                "functions[0].async.retries: unknown key; allowed keys: max_retries, "
                "max_event_age_s, retry_delays_s, on_success, on_failure, dead_letter");
  EXPECT_EQ(error_for(with_function("    async: 2\n")),
            at(6, 12) + "functions[0].async: expected a map, got `2`");
}

TEST_F(LoadConfig, ReadsHttpRoutesAndTheirListener) {
  const Config plain = load_config(write_config(kPythonFunction));
  EXPECT_TRUE(plain.functions.at(0).http.empty());
  EXPECT_EQ(plain.node.http.listen_host, "127.0.0.1");
  EXPECT_EQ(plain.node.http.listen_port, 9001);

  const Config config = load_config(write_config("node:\n  http: {listen: '[::1]:0'}\n" +
                                                 with_function("    http:\n"
                                                               "      path: /web/app\n"
                                                               "      methods: [GET, POST]\n"
                                                               "      format: function_url\n")));
  EXPECT_EQ(config.node.http.listen_host, "::1");
  EXPECT_EQ(config.node.http.listen_port, 0);
  const HttpRouteConfig& route = config.functions.at(0).http;
  EXPECT_EQ(route.path, "/web/app");
  EXPECT_EQ(route.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(route.format, HttpEventFormat::kFunctionUrl);
  EXPECT_FALSE(route.multi_value_headers);

  const Config root = load_config(write_config(with_function("    http: {path: /}\n")));
  EXPECT_EQ(root.functions.at(0).http.path, "/");
  EXPECT_TRUE(root.functions.at(0).http.methods.empty());
  EXPECT_EQ(root.functions.at(0).http.format, HttpEventFormat::kAlb);
}

TEST_F(LoadConfig, ReadsLoggingWithLambdasDefaults) {
  const Config plain = load_config(write_config(with_function("")));
  const LoggingConfig& defaults = plain.functions.at(0).logging;
  EXPECT_EQ(defaults.format, LogFormat::kText);
  EXPECT_EQ(defaults.application_log_level, LogLevel::kInfo);
  EXPECT_EQ(defaults.system_log_level, LogLevel::kInfo);

  const Config json = load_config(write_config(with_function(
      "    logging: {format: json, application_log_level: trace, system_log_level: warn}\n")));
  const LoggingConfig& logging = json.functions.at(0).logging;
  EXPECT_EQ(logging.format, LogFormat::kJson);
  EXPECT_EQ(logging.application_log_level, LogLevel::kTrace);
  EXPECT_EQ(logging.system_log_level, LogLevel::kWarn);
}

TEST_F(LoadConfig, RejectsLogLevelsWithoutJsonAndUnknownWordsNamingTheKey) {
  EXPECT_EQ(error_for(with_function("    logging: {application_log_level: debug}\n")),
            at(6, 38) +
                "functions[0].logging.application_log_level: only with `format: json`: log "
                "levels filter JSON records, as on Lambda");
  EXPECT_EQ(error_for(with_function("    logging:\n      format: text\n"
                                    "      system_log_level: warn\n")),
            at(8, 25) +
                "functions[0].logging.system_log_level: only with `format: json`: log levels "
                "filter JSON records, as on Lambda");
  EXPECT_EQ(error_for(with_function("    logging: {format: JSON}\n")),
            at(6, 23) + "functions[0].logging.format: expected one of text, json, got `JSON`");
  EXPECT_NE(error_for(with_function("    logging: {format: json, system_log_level: error}\n"))
                .find("functions[0].logging.system_log_level: expected one of debug, info, warn"),
            std::string::npos);
  EXPECT_EQ(error_for(with_function("    environment: {AWS_LAMBDA_LOG_LEVEL: DEBUG}\n")),
            at(6, 19) +
                "functions[0].environment.AWS_LAMBDA_LOG_LEVEL: reserved: Lambda sets this "
                "variable itself (from the function's `logging`)");
}

TEST_F(LoadConfig, RejectsBadHttpRoutesNamingTheKey) {
  for (const std::string_view path :
       {"web", "/web/", "//web", "/a/../b", "'/a b'", "'/a?b'", "''"}) {
    SCOPED_TRACE(path);
    EXPECT_NE(error_for(with_function("    http: {path: " + std::string(path) + "}\n"))
                  .find(at(6, 18) + "functions[0].http.path: expected `/` or `/SEGMENT/...`"),
              std::string::npos);
  }
  EXPECT_EQ(error_for(with_function("    http: {methods: [GET]}\n")),
            at(6, 11) + "functions[0].http.path: missing (required)");
  EXPECT_NE(error_for(with_function("    http: {path: /a, methods: [get]}\n"))
                .find(at(6, 32) + "functions[0].http.methods[0]: expected GET, HEAD, POST"),
            std::string::npos);
  EXPECT_EQ(error_for(with_function("    http: {path: /a, format: function_url, "
                                    "multi_value_headers: true}\n")),
            at(6, 65) +
                "functions[0].http.multi_value_headers: only with `format: alb`; a Function "
                "URL event joins repeated values with commas");
  EXPECT_NE(error_for(with_function("    http: {path: /a, format: apigw}\n"))
                .find("functions[0].http.format: expected one of alb, function_url"),
            std::string::npos);
  EXPECT_EQ(error_for("node: {http: {listen: 9001}}\n"),
            at(1, 23) +
                "node.http.listen: expected HOST:PORT with HOST an IPv4 address, [IPv6 address] "
                "or localhost and PORT 0..65535, got `9001`");
}

TEST_F(LoadConfig, RejectsTwoRoutesWithOnePath) {
  EXPECT_EQ(
      error_for(with_function("    http: {path: /a}\n"
                              "  - name: other\n"
                              "    runtime: provided\n"
                              "    code: ./bin\n"
                              "    http: {path: /a, format: function_url}\n")),
      at(10, 18) + "functions[1].http.path: path `/a` is already the route of `hello` (line 6)");
}

TEST_F(LoadConfig, ReadsSchedulesWithTheirDefaults) {
  const Config config =
      load_config(write_config(with_function("    schedules:\n"
                                             "      - name: every-morning\n"
                                             "        expression: cron(0 7 ? * MON-FRI *)\n"
                                             "      - name: heartbeat.5m\n"
                                             "        expression: rate(5 minutes)\n"
                                             "        input: '{\"kind\": \"heartbeat\"}'\n"
                                             "        enabled: false\n")));
  const auto& rules = config.functions.at(0).schedules;
  ASSERT_EQ(rules.size(), 2U);
  EXPECT_EQ(rules[0].name, "every-morning");
  EXPECT_EQ(rules[0].expression, "cron(0 7 ? * MON-FRI *)");
  EXPECT_EQ(rules[0].input, "");
  EXPECT_TRUE(rules[0].enabled);
  EXPECT_EQ(rules[1].name, "heartbeat.5m");
  EXPECT_EQ(rules[1].input, R"({"kind": "heartbeat"})");
  EXPECT_FALSE(rules[1].enabled);
  EXPECT_TRUE(load_config(write_config(kPythonFunction)).functions.at(0).schedules.empty());
}

TEST_F(LoadConfig, RejectsABadScheduleExpressionNamingTheCharacter) {
  EXPECT_EQ(error_for(with_function("    schedules:\n"
                                    "      - name: r\n"
                                    "        expression: cron(0 25 * * ? *)\n")),
            at(8, 21) +
                "functions[0].schedules[0].expression: at character 8 of `cron(0 25 * * ? *)`: "
                "hours: 25 is out of range 0-23");
  EXPECT_NE(error_for(with_function("    schedules:\n"
                                    "      - name: r\n"
                                    "        expression: rate(5 minute)\n"))
                .find("functions[0].schedules[0].expression: at character "),
            std::string::npos);
}

TEST_F(LoadConfig, RejectsScheduleNamesInputsAndShapesNamingTheKey) {
  EXPECT_EQ(error_for(with_function("    schedules:\n"
                                    "      - expression: rate(1 hour)\n")),
            at(7, 9) + "functions[0].schedules[0].name: missing (required)");
  EXPECT_EQ(error_for(with_function("    schedules:\n"
                                    "      - name: a b\n"
                                    "        expression: rate(1 hour)\n")),
            at(7, 15) +
                "functions[0].schedules[0].name: expected 1 to 64 of A-Z a-z 0-9 . _ -, got `a b`");
  EXPECT_EQ(
      error_for(with_function("    schedules:\n"
                              "      - name: r\n"
                              "        expression: rate(1 hour)\n"
                              "        input: '{oops'\n")),
      at(9, 16) +
          "functions[0].schedules[0].input: expected JSON text (like '{\"key\": \"value\"}'), "
          "got `{oops`: syntax error");
  EXPECT_EQ(error_for(with_function("    schedules: rate(1 hour)\n")),
            at(6, 16) + "functions[0].schedules: expected a list, got `rate(1 hour)`");
}

TEST_F(LoadConfig, RejectsAScheduleNameUsedTwiceOnTheNode) {
  EXPECT_EQ(error_for(with_function("    schedules:\n"
                                    "      - name: tick\n"
                                    "        expression: rate(1 hour)\n"
                                    "  - name: other\n"
                                    "    runtime: python3\n"
                                    "    handler: app.handler\n"
                                    "    code: .\n"
                                    "    schedules:\n"
                                    "      - name: tick\n"
                                    "        expression: rate(2 hours)\n")),
            at(14, 15) +
                "functions[1].schedules[0].name: duplicate schedule name `tick` (first defined at "
                "line 7)");
}

// --- Layers ----------------------------------------------------------------------------------

TEST_F(LoadConfig, ReadsLayersInTheirOrder) {
  fs::create_directories(dir_ / "first");
  fs::create_directories(dir_ / "second");
  const Config config =
      load_config(write_config(with_function("    layers: [./second, ./first]\n")));
  EXPECT_EQ(config.functions.at(0).layers,
            (std::vector<fs::path>{dir_ / "second", dir_ / "first"}));
}

TEST_F(LoadConfig, RejectsLayersAPlainProcessCannotSeeOrASandboxCannotCarry) {
  fs::create_directories(dir_ / "layer");
  const auto error = [&](std::string_view extra) { return error_for(with_function(extra)); };
  EXPECT_THAT(error("    isolation: none\n    layers: [./layer]\n"),
              ::testing::HasSubstr("functions[0].layers: needs `isolation: native` or `oci`"));
  EXPECT_THAT(error("    layers: [/]\n"), ::testing::HasSubstr("`/` cannot be a layer"));
  EXPECT_THAT(error("    layers: [./missing]\n"), ::testing::HasSubstr("does not exist"));
  EXPECT_THAT(error("    layers: [/proc/..]\n"), ::testing::HasSubstr("`/` cannot be a layer"));
  // /sys holds /sys/fs/cgroup (and more) on every Linux host.
  EXPECT_THAT(error("    layers: [/sys]\n"), ::testing::HasSubstr("holds the mount point /sys/"));
  EXPECT_THAT(error("    zygote: true\n    layers: [./layer]\n"),
              ::testing::HasSubstr("not with `zygote: true`"));
  EXPECT_THAT(error("    layers: [./layer, ./layer, ./layer, ./layer, ./layer, ./layer]\n"),
              ::testing::HasSubstr("at most 5 layers"));
}

// A code directory is bound read-only without its submounts: the host's root, or a directory
// with mounts below it (whose mounts would be writable, or missing, inside), is refused.
TEST_F(LoadConfig, RejectsACodeDirectoryThatIsTheRootOrHoldsMountPoints) {
  const auto error = [&](std::string_view code) {
    return error_for(
        "functions:\n  - name: f\n    runtime: provided\n    code: " + std::string(code) + "\n");
  };
  EXPECT_THAT(error("/"), ::testing::HasSubstr("`/` cannot be a code directory"));
  EXPECT_THAT(error("/proc/.."), ::testing::HasSubstr("`/` cannot be a code directory"));
  EXPECT_THAT(error("/sys"), ::testing::HasSubstr("holds the mount point /sys/"));
  EXPECT_THAT(error("/sys"), ::testing::HasSubstr("functions[0].code"));
  // A directory without mounts below it loads.
  fs::create_directories(dir_ / "code");
  write_file(dir_ / "code" / "bootstrap", "#!/bin/sh\n");
  fs::permissions(dir_ / "code" / "bootstrap", fs::perms::owner_all);
  EXPECT_NO_THROW(load_config(
      write_config("functions:\n  - name: f\n    runtime: provided\n    code: ./code\n")));
}

// --- Object notifications: node.buckets, s3_events, mounts ------------------------------------

// Two buckets (lines 1-6), then the python function (lines 7-11); tests append from line 12.
constexpr std::string_view kBuckets =
    "node:\n"
    "  buckets:\n"
    "    - name: images\n"
    "      path: ./b/images\n"
    "    - name: thumbnails\n"
    "      path: ./b/thumbnails\n";

std::string with_buckets(std::string_view extra) {
  return std::string(kBuckets) + std::string(kPythonFunction) + std::string(extra);
}

TEST_F(LoadConfig, ReadsBucketsSubscriptionsAndMounts) {
  fs::create_directories(dir_ / "data");
  const Config config = load_config(write_config(
      with_buckets("    s3_events:\n"
                   "      - bucket: images\n"
                   "        suffix: .png\n"
                   "      - {bucket: images, events: [\"s3:ObjectRemoved:*\"], prefix: raw/}\n"
                   "    mounts:\n"
                   "      - {source: images, target: /mnt/images}\n"
                   "      - {source: thumbnails, target: /mnt/out, read_only: false}\n"
                   "      - {source: ./data, target: /mnt/data/set}\n")));
  ASSERT_EQ(config.node.buckets.size(), 2U);
  EXPECT_EQ(config.node.buckets[0].name, "images");
  EXPECT_EQ(config.node.buckets[0].path, dir_ / "b" / "images");
  EXPECT_FALSE(fs::exists(dir_ / "b")) << "the node makes bucket directories, not the loader";
  const FunctionConfig& function = config.functions.at(0);
  ASSERT_EQ(function.s3_events.size(), 2U);
  EXPECT_EQ(function.s3_events[0].events, std::vector<std::string>{"s3:ObjectCreated:*"});
  EXPECT_EQ(function.s3_events[0].suffix, ".png");
  EXPECT_EQ(function.s3_events[0].prefix, "");
  EXPECT_EQ(function.s3_events[1].events, std::vector<std::string>{"s3:ObjectRemoved:*"});
  EXPECT_EQ(function.s3_events[1].prefix, "raw/");
  ASSERT_EQ(function.mounts.size(), 3U);
  EXPECT_EQ(function.mounts[0].bucket, "images");
  EXPECT_EQ(function.mounts[0].path, dir_ / "b" / "images");
  EXPECT_TRUE(function.mounts[0].read_only);
  EXPECT_EQ(function.mounts[1].bucket, "thumbnails");
  EXPECT_FALSE(function.mounts[1].read_only);
  EXPECT_EQ(function.mounts[2].bucket, "");
  EXPECT_EQ(function.mounts[2].path, dir_ / "data");
  EXPECT_EQ(function.mounts[2].target, "/mnt/data/set");
}

TEST_F(LoadConfig, RejectsBucketNamesS3Refuses) {
  for (const std::string& name :
       std::vector<std::string>{"ab", "Images", "-images", "images-", "a..b", "192.168.1.1",
                                "xn--abc", "abc-s3alias", "im_ages"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(error_for("node:\n  buckets:\n    - name: \"" + name + "\"\n      path: ./b\n"),
              at(3, 13) +
                  "node.buckets[0].name: expected 3 to 63 of a-z 0-9 . -, starting and ending "
                  "with a letter or digit (S3's bucket naming rules), got `" +
                  name + "`");
  }
  EXPECT_NE(error_for("node:\n  buckets:\n    - {name: " + std::string(64, 'a') + ", path: ./b}\n")
                .find("node.buckets[0].name: expected 3 to 63 of a-z"),
            std::string::npos);
}

TEST_F(LoadConfig, RejectsARepeatedBucketName) {
  EXPECT_EQ(error_for("node:\n  buckets:\n    - {name: images, path: ./a}\n"
                      "    - {name: images, path: ./b}\n"),
            at(4, 14) +
                "node.buckets[1].name: duplicate bucket name `images` (first defined at "
                "line 3)");
}

TEST_F(LoadConfig, RejectsBucketsWhosePathsOverlap) {
  EXPECT_EQ(error_for("node:\n  buckets:\n    - {name: images, path: ./a}\n"
                      "    - {name: nested, path: ./a/b/..//b}\n"),
            at(4, 28) + "node.buckets[1].path: " + (dir_ / "a" / "b").string() +
                " overlaps bucket `images`'s " + (dir_ / "a").string() +
                "; a file in both would be two buckets' object");
}

TEST_F(LoadConfig, RejectsABucketPathThatIsAFile) {
  write_file(dir_ / "file", "x");
  EXPECT_EQ(error_for("node:\n  buckets:\n    - name: images\n      path: ./file\n"),
            at(4, 13) + "node.buckets[0].path: " + (dir_ / "file").string() +
                " exists and is not a directory");
}

TEST_F(LoadConfig, RequiresABucketsPath) {
  EXPECT_EQ(error_for("node:\n  buckets:\n    - name: images\n"),
            at(3, 7) + "node.buckets[0].path: missing (required)");
}

TEST_F(LoadConfig, RejectsASubscriptionToAnUnknownBucket) {
  EXPECT_EQ(error_for(with_buckets("    s3_events:\n      - bucket: imagez\n")),
            at(13, 17) +
                "functions[0].s3_events[0].bucket: unknown bucket `imagez`; buckets: "
                "images, thumbnails");
  EXPECT_EQ(error_for(with_function("    s3_events:\n      - bucket: images\n")),
            at(7, 17) +
                "functions[0].s3_events[0].bucket: unknown bucket `images`; "
                "node.buckets has none");
}

TEST_F(LoadConfig, RejectsEventTypesS3DoesNotHave) {
  EXPECT_EQ(
      error_for(with_buckets(
          "    s3_events:\n      - bucket: images\n        events: [\"s3:ObjectCreated:Post\"]\n")),
      at(14, 18) +
          "functions[0].s3_events[0].events[0]: expected `s3:ObjectCreated:*`, "
          "`s3:ObjectCreated:Put`, `s3:ObjectCreated:Copy`, `s3:ObjectRemoved:*` or "
          "`s3:ObjectRemoved:Delete`, got `s3:ObjectCreated:Post`");
  EXPECT_EQ(error_for(with_buckets("    s3_events:\n      - bucket: images\n        events: []\n")),
            at(14, 17) + "functions[0].s3_events[0].events: expected at least one event type");
}

TEST_F(LoadConfig, RejectsMountTargetsOutsideMnt) {
  for (const std::string& target :
       std::vector<std::string>{"/var/x", "/mnt", "/mnt/", "/mnt/../etc", "mnt/x", "/mnt/a/"}) {
    SCOPED_TRACE(target);
    fs::create_directories(dir_ / "data");
    EXPECT_EQ(error_for(with_function("    mounts:\n      - source: ./data\n        target: \"" +
                                      target + "\"\n")),
              at(8, 17) +
                  "functions[0].mounts[0].target: expected `/mnt/NAME` (NAME: components "
                  "of A-Z a-z 0-9 . _ -), got `" +
                  target + "`");
  }
}

TEST_F(LoadConfig, RejectsMountTargetsInsideOneAnother) {
  fs::create_directories(dir_ / "data");
  EXPECT_EQ(error_for(with_function("    mounts:\n"
                                    "      - {source: ./data, target: /mnt/a}\n"
                                    "      - {source: ./data, target: /mnt/a/b}\n")),
            at(8, 34) +
                "functions[0].mounts[1].target: `/mnt/a/b` and `/mnt/a` (line 7) are the "
                "same or inside one another");
}

TEST_F(LoadConfig, RejectsAMountSourceThatIsNeitherBucketNorDirectory) {
  EXPECT_EQ(error_for(with_buckets("    mounts:\n      - {source: imagez, target: /mnt/x}\n")),
            at(13, 18) +
                "functions[0].mounts[0].source: `imagez` is neither a bucket (buckets: "
                "images, thumbnails) nor an existing directory (" +
                (dir_ / "imagez").string() + " does not exist)");
}

TEST_F(LoadConfig, RejectsMountsWithoutASandbox) {
  fs::create_directories(dir_ / "data");
  EXPECT_EQ(error_for(with_function("    isolation: none\n    mounts:\n"
                                    "      - {source: ./data, target: /mnt/x}\n")),
            at(8, 7) +
                "functions[0].mounts: needs a sandbox (`isolation: native` or `oci`): a plain "
                "process (`isolation: none`) sees the host's whole file system, with nothing "
                "mounted");
}

TEST_F(LoadConfig, RejectsAFunctionSubscribedToABucketItWrites) {
  EXPECT_EQ(
      error_for(with_buckets("    s3_events:\n      - bucket: images\n"
                             "    mounts:\n"
                             "      - {source: images, target: /mnt/i, read_only: false}\n")),
      at(13, 17) +
          "functions[0].s3_events[0].bucket: notifications of `images` would loop (hello writes "
          "`images` -> hello): a function's own output would invoke it again; write into a "
          "bucket no function of the loop subscribes to, or make the mount read_only");
  // A directory that holds the bucket is the bucket too.
  fs::create_directories(dir_ / "b");
  EXPECT_NE(error_for(with_buckets("    s3_events:\n      - bucket: images\n"
                                   "    mounts:\n"
                                   "      - {source: ./b, target: /mnt/b, read_only: false}\n"))
                .find("would loop (hello writes `images` -> hello)"),
            std::string::npos);
}

TEST_F(LoadConfig, RejectsALoopThroughAnotherFunction) {
  const std::string second =
      "  - name: other\n"
      "    runtime: python3\n"
      "    handler: lambda_function.lambda_handler\n"
      "    code: ./py\n"
      "    s3_events: [{bucket: thumbnails}]\n"
      "    mounts: [{source: images, target: /mnt/i, read_only: false}]\n";
  EXPECT_EQ(error_for(with_buckets("    s3_events: [{bucket: images}]\n"
                                   "    mounts: [{source: thumbnails, target: /mnt/t, "
                                   "read_only: false}]\n" +
                                   second)),
            at(12, 26) +
                "functions[0].s3_events[0].bucket: notifications of `images` would loop "
                "(other writes `images` -> hello writes `thumbnails` -> hello): a "
                "function's own output would invoke it again; write into a bucket no "
                "function of the loop subscribes to, or make the mount read_only");
  // Without the way back it loads: hello's output notifies other, which only reads.
  const std::string reader =
      "  - name: other\n"
      "    runtime: python3\n"
      "    handler: lambda_function.lambda_handler\n"
      "    code: ./py\n"
      "    s3_events: [{bucket: thumbnails}]\n"
      "    mounts: [{source: thumbnails, target: /mnt/t}]\n";
  EXPECT_NO_THROW(load_config(write_config(
      with_buckets("    s3_events: [{bucket: images}]\n"
                   "    mounts: [{source: thumbnails, target: /mnt/t, read_only: false}]\n" +
                   reader))));
}

}  // namespace
}  // namespace ember::config
