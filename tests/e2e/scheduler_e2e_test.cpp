// The scheduler seen from outside: ember ps, provisioned workers at boot, and a bounded load
// test of many clients against a mix of functions.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <thread>

#include "../support/eventually.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

std::filesystem::path python_case(const std::string& name) {
  return testcases_dir() / "python" / name;
}

TEST(EmberPs, ListsEachFunctionsWorkersWithTheirState) {
  Node node({{.name = "echo", .code = python_case("echo"), .provisioned = 1},
             {.name = "other", .code = python_case("echo")}});
  // The provisioned worker is started at boot, before any call; ps shows it once it is ready.
  std::string table;
  ASSERT_TRUE(eventually([&] {
    table = run({ember_exe().string(), "ps", "--endpoint", node.endpoint()}).out;
    return table.find("provisioned") != std::string::npos &&
           (table.find("frozen") != std::string::npos || table.find(" idle ") != std::string::npos);
  })) << table;
  EXPECT_NE(table.find("FUNCTION"), std::string::npos) << table;
  ASSERT_EQ(node.invoke("other", "{}").status, 200);
  // Each function has one worker, waiting (idle or frozen) once its runtime asked for the
  // next event.
  boost::json::object status;
  ASSERT_TRUE(eventually([&] {
    const auto json = run({ember_exe().string(), "ps", "--endpoint", node.endpoint(), "--json"});
    if (json.exit_code != 0) return false;
    status = boost::json::parse(json.out).as_object();
    for (const auto& f : status.at("functions").as_array()) {
      const auto& workers = f.at("workers").as_array();
      if (workers.size() != 1) return false;
      const auto& state = workers[0].at("state").as_string();
      if (state != "idle" && state != "frozen") return false;
    }
    return true;
  })) << boost::json::serialize(status);
  for (const auto& f : status.at("functions").as_array()) {
    const auto& function = f.as_object();
    if (function.at("name").as_string() == "other") {
      EXPECT_EQ(function.at("invocations").to_number<int>(), 1);
      EXPECT_EQ(function.at("cold_starts").to_number<int>(), 1);
    } else {
      EXPECT_EQ(function.at("workers").at(0).at("kind"), "provisioned");
    }
  }
}

TEST(Load, ManyClientsAgainstAMixOfFunctionsAreAllAnsweredWithinTheCaps) {
  constexpr int kClients = 8;
  constexpr int kCallsPerClient = 25;
  Node node({{.name = "echo", .code = python_case("echo"), .reserved_concurrency = 3},
             {.name = "slow", .code = python_case("sleeps"), .reserved_concurrency = 2},
             {.name = "raises", .code = python_case("raises"), .reserved_concurrency = 2}});
  std::atomic<int> ok{0};
  std::atomic<int> throttled{0};
  std::atomic<int> function_errors{0};
  std::atomic<int> wrong{0};
  std::atomic<bool> stop_watching{false};
  std::atomic<std::size_t> most_workers{0};
  // Watches the worker counts while the load runs.
  auto watcher = std::async(std::launch::async, [&] {
    while (!stop_watching) {
      const auto ps = run({ember_exe().string(), "ps", "--endpoint", node.endpoint(), "--json"});
      if (ps.exit_code == 0) {
        const auto status = boost::json::parse(ps.out);
        for (const auto& f : status.as_object().at("functions").as_array()) {
          const auto& function = f.as_object();
          const auto n = function.at("workers").as_array().size();
          const auto cap = function.at("reserved_concurrency").to_number<std::size_t>();
          if (n > cap) ++wrong;
          most_workers = std::max(most_workers.load(), n);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::future<void>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      for (int i = 0; i < kCallsPerClient; ++i) {
        const int pick = (c + i) % 3;
        const std::string name = pick == 0 ? "echo" : pick == 1 ? "slow" : "raises";
        const std::string payload = pick == 1 ? R"({"seconds": 0.02})" : R"({"n": 1})";
        const auto reply = node.invoke(name, payload);
        if (reply.status == 429) {
          ++throttled;
        } else if (reply.status == 200 && name == "raises" &&
                   reply.header("x-amz-function-error") == "Unhandled") {
          ++function_errors;
        } else if (reply.status == 200 && name != "raises" &&
                   (reply.body == "{\"n\": 1}" || reply.body == "\"woke\"")) {
          ++ok;
        } else {
          ++wrong;
        }
      }
    }));
  }
  for (auto& c : clients) c.get();
  stop_watching = true;
  watcher.get();
  EXPECT_EQ(wrong.load(), 0) << "every answer is the right one and no cap was exceeded";
  EXPECT_EQ(ok + throttled + function_errors, kClients * kCallsPerClient);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(function_errors.load(), 0);
  EXPECT_LE(most_workers.load(), 3U);
}

}  // namespace
}  // namespace ember::test
