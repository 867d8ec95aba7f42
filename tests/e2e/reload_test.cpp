// Hot reload against a real `ember serve`: SIGHUP, `ember reload` and `--watch` re-read the
// file; added, removed and changed functions take effect while invocations in flight finish,
// a file that does not load is refused and the node keeps serving, and a reload under steady
// load loses no request.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <fstream>
#include <future>
#include <thread>

#include "../support/eventually.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;

// A Python function that says which version of its code answers, and its STAGE variable;
// it sleeps event["sleep"] seconds first.
void write_versioned_code(const fs::path& dir, const std::string& version) {
  fs::create_directories(dir);
  const auto next = dir / "lambda_function.py.next";
  std::ofstream(next) << "import os\nimport time\n\nVERSION = \"" << version << "\"\n\n\n"
                      << "def lambda_handler(event, context):\n"
                      << "    time.sleep(event.get(\"sleep\", 0))\n"
                      << "    return {\"version\": VERSION, \"stage\": os.environ.get(\"STAGE\", "
                         "\"\")}\n";
  fs::rename(next, dir / "lambda_function.py");
}

boost::json::object answer_of(const HttpReply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
  boost::system::error_code ec;
  auto value = boost::json::parse(reply.body, ec);
  return !ec && value.is_object() ? value.as_object() : boost::json::object{};
}

class Reload : public ::testing::Test {
 protected:
  Reload() { write_versioned_code(code_, "v1"); }

  FunctionSpec versioned(const std::string& name, const std::string& stage = "") const {
    FunctionSpec f{.name = name, .code = code_};
    if (!stage.empty()) f.environment["STAGE"] = stage;
    return f;
  }

  // Waits for the node's line about its n-th reload and returns it.
  static std::string reload_line(const Node& node, std::size_t n) {
    std::string line;
    const bool seen = eventually([&] {
      const auto text = node.stdout_text();
      std::size_t at = 0;
      for (std::size_t i = 0; i < n; ++i) {
        at = text.find(": reload (", at == 0 ? 0 : at + 1);
        if (at == std::string::npos) return false;
      }
      line = text.substr(at, text.find('\n', at) - at);
      return true;
    });
    EXPECT_TRUE(seen) << "no reload line " << n << " in:\n" << node.stdout_text();
    return line;
  }

  static CommandResult ember_reload(const Node& node) {
    return run({ember_exe().string(), "reload", "--endpoint", node.endpoint()});
  }

  TempDir dir_{"ember-reload-"};
  fs::path code_ = dir_.path() / "code";
};

TEST_F(Reload, SighupAddsReplacesAndRemovesFunctions) {
  Node node({versioned("kept"), versioned("changed"), versioned("gone")});
  EXPECT_EQ(answer_of(node.invoke("changed", "{}")).at("stage"), "");
  node.rewrite_config({versioned("kept"), versioned("changed", "two"), versioned("added")});
  ASSERT_EQ(::kill(node.pid(), SIGHUP), 0);
  const auto line = reload_line(node, 1);
  EXPECT_NE(line.find("reload (SIGHUP)"), std::string::npos) << line;
  EXPECT_NE(line.find("1 added (added), 1 replaced (changed), 1 removed (gone), 1 unchanged"),
            std::string::npos)
      << line;

  EXPECT_EQ(answer_of(node.invoke("added", "{}")).at("version"), "v1");
  EXPECT_EQ(answer_of(node.invoke("changed", "{}")).at("stage"), "two");
  EXPECT_EQ(answer_of(node.invoke("kept", "{}")).at("version"), "v1");
  const auto gone = node.invoke("gone", "{}");
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(gone.header("x-amzn-errortype"), "ResourceNotFoundException");
}

TEST_F(Reload, EmberReloadSaysWhatChangedAndExitsZero) {
  Node node({versioned("one")});
  node.rewrite_config({versioned("one"), versioned("two")});
  const auto result = ember_reload(node);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("added:     two"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("unchanged: 1"), std::string::npos) << result.out;
  EXPECT_EQ(answer_of(node.invoke("two", "{}")).at("version"), "v1");
  // Nothing changed since: a second reload changes nothing.
  const auto again = ember_reload(node);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("unchanged: 2"), std::string::npos) << again.out;
}

TEST_F(Reload, AFileThatDoesNotLoadIsRefusedAndTheNodeKeepsServing) {
  Node node({versioned("one")});
  auto broken = versioned("one");
  broken.memory_mb = 5;
  node.rewrite_config({broken});
  const auto result = ember_reload(node);
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("refused"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(node.config_file().string() + ":"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("memory_mb"), std::string::npos) << result.err;
  EXPECT_NE(reload_line(node, 1).find("refused"), std::string::npos);
  EXPECT_EQ(answer_of(node.invoke("one", "{}")).at("version"), "v1");

  // SIGHUP with a broken file: the same refusal, and the node still runs.
  ASSERT_EQ(::kill(node.pid(), SIGHUP), 0);
  EXPECT_NE(reload_line(node, 2).find("refused"), std::string::npos);
  EXPECT_EQ(answer_of(node.invoke("one", "{}")).at("version"), "v1");
}

TEST_F(Reload, AnInvocationInFlightFinishesWhileItsFunctionIsReplacedAndRemoved) {
  Node node({versioned("slow"), versioned("other")});
  auto in_flight =
      std::async(std::launch::async, [&] { return node.invoke("slow", R"({"sleep": 1.5})"); });
  ASSERT_TRUE(eventually([&] { return node.logs("slow").find("START") != std::string::npos; }));
  node.rewrite_config({versioned("slow", "two"), versioned("other")});
  ASSERT_EQ(ember_reload(node).exit_code, 0);
  EXPECT_EQ(answer_of(node.invoke("slow", "{}")).at("stage"), "two");
  node.rewrite_config({versioned("other")});
  ASSERT_EQ(ember_reload(node).exit_code, 0);
  EXPECT_EQ(node.invoke("slow", "{}").status, 404);
  const auto first = answer_of(in_flight.get());
  EXPECT_EQ(first.at("stage"), "") << "the invocation in flight ran on the replaced settings";
}

TEST_F(Reload, UnderSteadyLoadNoRequestIsLost) {
  Node node({versioned("steady"), versioned("other")});
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!done) {
        const auto reply = node.invoke("steady", "{}");
        if (reply.status == 200) {
          ++ok;
        } else {
          ++failed;
          const std::lock_guard lock(failures_mutex);
          failures.push_back(std::to_string(reply.status) + " " + reply.error + reply.body);
        }
      }
    });
  }
  // Ten reloads, each replacing the loaded function and adding or removing another.
  for (int i = 1; i <= 10; ++i) {
    std::vector<FunctionSpec> functions{versioned("steady", "stage" + std::to_string(i))};
    if (i % 2 == 0) functions.push_back(versioned("other"));
    node.rewrite_config(functions);
    const auto served = ok.load();
    const auto result = ember_reload(node);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    // The clients are served between reloads too: every reload lands among invocations.
    EXPECT_TRUE(eventually([&] { return ok.load() > served || failed.load() != 0; }));
  }
  // The last settings serve once the replaced pools drained.
  EXPECT_TRUE(
      eventually([&] { return answer_of(node.invoke("steady", "{}")).at("stage") == "stage10"; }));
  done = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(failed.load(), 0U) << (failures.empty() ? "" : failures.front());
  EXPECT_GE(ok.load(), 10U);
  RecordProperty("invocations", std::to_string(ok.load()));
  RecordProperty("lost", std::to_string(failed.load()));
}

TEST_F(Reload, WatchReloadsWhenTheCodeOrTheFileChanges) {
  NodeSettings settings;
  settings.serve_args = {"--watch"};
  Node node({versioned("watched")}, settings);
  EXPECT_EQ(answer_of(node.invoke("watched", "{}")).at("version"), "v1");
  write_versioned_code(code_, "v2");
  EXPECT_TRUE(eventually([&] {
    return answer_of(node.invoke("watched", "{}")).at("version") == "v2";
  })) << node.stdout_text();
  EXPECT_NE(reload_line(node, 1).find("a change to the code of watched"), std::string::npos);

  node.rewrite_config({versioned("watched", "edited")}, settings);
  EXPECT_TRUE(eventually([&] {
    return answer_of(node.invoke("watched", "{}")).at("stage") == "edited";
  })) << node.stdout_text();
}

TEST_F(Reload, NodeSettingsWaitForTheNextStartAndSaySo) {
  Node node({versioned("one")});
  NodeSettings settings;
  settings.max_workers = 7;
  node.rewrite_config({versioned("one")}, settings);
  const auto result = ember_reload(node);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("at the next start only: node.max_workers"), std::string::npos)
      << result.out;
}

}  // namespace
}  // namespace ember::test
