// `ember conform` end to end: the real binary against ember's Python runtime and the Bash
// probe runtime (which follow the Runtime API), and against runtimes broken on purpose, each
// of which must fail the check named for its defect.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;

struct Conformed {
  int exit_code = -1;
  std::map<std::string, std::string> results;  // check name -> pass, warn or fail
  std::string out;
  // The result of the check, or "missing".
  [[nodiscard]] std::string of(const std::string& name) const {
    const auto it = results.find(name);
    return it == results.end() ? "missing" : it->second;
  }
};

// Runs `ember conform --json` on the runtime and reads its JSON Lines.
Conformed conform(const fs::path& task_root, const std::vector<std::string>& runtime) {
  std::vector<std::string> argv = {ember_exe().string(), "conform", "--json",
                                   "--timeout",          "10",      "--task-root",
                                   task_root.string(),   "--"};
  argv.insert(argv.end(), runtime.begin(), runtime.end());
  const auto result = run(argv, {}, std::chrono::seconds(110));
  Conformed out;
  out.exit_code = result.exit_code;
  out.out = result.out + result.err;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto check = boost::json::parse(line).as_object();
    out.results[std::string(check.at("name").as_string())] =
        std::string(check.at("result").as_string());
  }
  return out;
}

Conformed conform_bootstrap(const std::string& testcase) {
  const auto dir = testcases_dir() / "provided" / testcase;
  // The probe handler beside it, where the broken runtimes that reuse it look.
  return conform(source_dir() / "examples" / "conform-probe-bash", {(dir / "bootstrap").string()});
}

const std::vector<std::string> kAllChecks = {"starts",
                                             "request-id",
                                             "response-body",
                                             "deadline",
                                             "invoked-function-arn",
                                             "trace-id",
                                             "client-context",
                                             "cognito-identity",
                                             "error-endpoint",
                                             "error-type-header",
                                             "error-body",
                                             "error-stack-trace",
                                             "polls-after-error",
                                             "non-ascii",
                                             "deep-json",
                                             "payload-6mb-in",
                                             "payload-6mb-out",
                                             "response-too-large",
                                             "late-response",
                                             "sigterm",
                                             "init-error"};

TEST(Conform, EmbersPythonRuntimePassesEveryCheck) {
  const auto result =
      conform(source_dir() / "examples" / "conform-probe-python",
              {"/usr/bin/python3", "-s", "-u",
               (fs::path(EMBER_BINARY_DIR) / "runtimes" / "python" / "bootstrap.py").string()});
  for (const auto& name : kAllChecks) {
    EXPECT_EQ(result.of(name), "pass") << name << "\n" << result.out;
  }
  EXPECT_EQ(result.exit_code, 0) << result.out;
}

TEST(Conform, BashProbeRuntimePassesWhatItCan) {
  const auto result =
      conform(source_dir() / "examples" / "conform-probe-bash",
              {(source_dir() / "examples" / "conform-probe-bash" / "bootstrap").string()});
  // Its errors carry an empty stackTrace, which is an array of strings: every check passes.
  for (const auto& name : kAllChecks) {
    EXPECT_EQ(result.of(name), "pass") << name << "\n" << result.out;
  }
  EXPECT_EQ(result.exit_code, 0) << result.out;
}

TEST(Conform, AnswerToAnotherRequestIdFailsRequestId) {
  const auto result = conform_bootstrap("conform_wrong_id");
  EXPECT_EQ(result.of("starts"), "pass") << result.out;
  EXPECT_EQ(result.of("request-id"), "fail") << result.out;
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

TEST(Conform, ErrorWithoutTypeHeaderOrJsonBodyFailsThoseChecks) {
  const auto result = conform_bootstrap("conform_bad_error");
  EXPECT_EQ(result.of("error-endpoint"), "pass") << result.out;
  EXPECT_EQ(result.of("error-type-header"), "fail") << result.out;
  EXPECT_EQ(result.of("error-body"), "fail") << result.out;
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

TEST(Conform, RuntimeThatStopsPollingAfterAnErrorFailsPollsAfterError) {
  const auto result = conform_bootstrap("conform_stops_after_error");
  EXPECT_EQ(result.of("error-body"), "pass") << result.out;
  EXPECT_EQ(result.of("polls-after-error"), "fail") << result.out;
  // The next scenario starts it again.
  EXPECT_EQ(result.of("non-ascii"), "pass") << result.out;
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

TEST(Conform, RuntimeThatIgnoresSigtermFailsSigterm) {
  const auto result = conform_bootstrap("conform_ignores_sigterm");
  EXPECT_EQ(result.of("request-id"), "pass") << result.out;
  EXPECT_EQ(result.of("sigterm"), "fail") << result.out;
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

TEST(Conform, ExitOnInitFailureWithoutInitErrorFailsInitError) {
  const auto result = conform_bootstrap("conform_silent_init_failure");
  EXPECT_EQ(result.of("request-id"), "pass") << result.out;
  EXPECT_EQ(result.of("init-error"), "fail") << result.out;
  EXPECT_EQ(result.exit_code, 1) << result.out;
}

TEST(Conform, WithoutARuntimeCommandIsAUsageError) {
  const auto result = run({ember_exe().string(), "conform", "--json"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("give its command after --"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace ember::test
