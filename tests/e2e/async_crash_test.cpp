// At-least-once delivery across a crash: 1,000 events accepted concurrently into a slow
// function, the node killed with SIGKILL once about a third have run, a new node started on the
// same state directory. Every event that got 202 must run to a success record; an event that
// was running at the kill runs again (its approximateInvokeCount is 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "../support/eventually.hpp"
#include "async_support.hpp"
#include "harness.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr int kEvents = 1000;
constexpr int kClients = 8;

// The ids of the function's events the queue file holds as running (claimed, not finished),
// read by SQLite itself from a second process while no node has the file open.
std::set<std::string> running_in_queue(const fs::path& db, const std::string& function) {
  const auto result = run({"/usr/bin/python3", "-c",
                           "import sqlite3, sys\n"
                           "c = sqlite3.connect(sys.argv[1])\n"
                           "q = 'SELECT id FROM events WHERE running = 1 AND target = ?'\n"
                           "for (i,) in c.execute(q, (sys.argv[2],)):\n"
                           "    print(i)\n",
                           db.string(), function});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::set<std::string> ids;
  std::size_t start = 0;
  for (auto end = result.out.find('\n'); end != std::string::npos;
       start = end + 1, end = result.out.find('\n', start)) {
    ids.insert(result.out.substr(start, end - start));
  }
  return ids;
}

TEST(AsyncCrash, EveryAcceptedEventRunsAfterTheNodeIsKilledMidWay) {
  const auto began = std::chrono::steady_clock::now();
  TempDir dir("ember-async-crash-");
  const auto state = dir.path() / "state";
  const auto ok = dir.path() / "ok";
  const std::vector<FunctionSpec> functions{{.name = "slow",
                                             .code = testcases_dir() / "python" / "sleeps",
                                             .reserved_concurrency = 4,
                                             .async = {.on_success = "dir:" + ok.string()}}};
  auto node = std::make_unique<Node>(functions, NodeSettings{}, state);

  // Several clients at once, each event its own request.
  std::mutex mutex;
  std::set<std::string> accepted;
  std::map<long, int> other_answers;
  std::vector<std::future<void>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      for (int i = c; i < kEvents; i += kClients) {
        const auto reply =
            send_event(*node, "slow", R"({"seconds":0.06,"n":)" + std::to_string(i) + "}");
        const std::scoped_lock lock(mutex);
        if (reply.status == 202) {
          accepted.insert(reply.header("x-amzn-requestid"));
        } else {
          ++other_answers[reply.status];
        }
      }
    }));
  }
  for (auto& client : clients) client.get();
  const auto accepting = std::chrono::steady_clock::now() - began;
  ASSERT_EQ(accepted.size(), static_cast<std::size_t>(kEvents))
      << other_answers.size() << " kinds of other answers, first status "
      << (other_answers.empty() ? 0 : other_answers.begin()->first);

  ASSERT_TRUE(eventually([&] { return record_count(ok) >= kEvents / 3; }, seconds(60)));
  const pid_t pid = node->pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // the node this test started, not yet reaped
  EXPECT_EQ(node->stop(), 128 + SIGKILL);
  const auto ran_before = record_count(ok);
  EXPECT_LT(ran_before, static_cast<std::size_t>(kEvents)) << "the kill came after the end";
  // Its workers lose their node and go too.
  EXPECT_TRUE(node->worker_processes_end());
  const auto were_running = running_in_queue(state / "async" / "events.db", "slow");
  node.reset();

  node = std::make_unique<Node>(functions, NodeSettings{}, state);
  ASSERT_TRUE(eventually([&] { return record_count(ok) >= kEvents; }, seconds(90)))
      << record_count(ok) << " records";
  // Nothing more is left to run.
  ASSERT_TRUE(eventually([&] {
    const auto status = async_status(*node, "slow");
    return !status.empty() && status.at("queued") == 0 && status.at("running") == 0;
  }));
  const auto records = read_records(ok);
  std::map<std::string, std::vector<std::int64_t>> counts;  // request id: each record's count
  for (const auto& record : records) counts[record.request_id()].push_back(record.invoke_count());

  std::size_t lost = 0;
  for (const auto& id : accepted) {
    if (!counts.contains(id)) ++lost;
  }
  std::size_t duplicates = 0;
  std::size_t strangers = 0;
  for (const auto& [id, found] : counts) {
    if (found.size() > 1) ++duplicates;
    if (!accepted.contains(id)) ++strangers;
  }
  for (const auto& id : were_running) {
    ASSERT_TRUE(counts.contains(id)) << id;
    EXPECT_EQ(counts.at(id), std::vector<std::int64_t>{2})
        << id << " was running at the kill: it runs once more, its count one higher";
  }
  std::size_t run_again = 0;
  for (const auto& [id, found] : counts) {
    run_again += static_cast<std::size_t>(
        std::count_if(found.begin(), found.end(), [](std::int64_t n) { return n > 1; }));
  }
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began);
  const std::string summary =
      "accepted " + std::to_string(accepted.size()) + " (in " +
      std::to_string(std::chrono::duration<double>(accepting).count()) +
      " s), ran before the kill " + std::to_string(ran_before) + ", running at the kill " +
      std::to_string(were_running.size()) + ", lost " + std::to_string(lost) +
      ", ids with more than one record " + std::to_string(duplicates) +
      ", records with approximateInvokeCount > 1 " + std::to_string(run_again) + ", " +
      std::to_string(took.count()) + " s in all";
  std::printf("crash test: %s\n", summary.c_str());
  RecordProperty("accepted", static_cast<int>(accepted.size()));
  RecordProperty("lost", static_cast<int>(lost));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  RecordProperty("running_at_kill", static_cast<int>(were_running.size()));
  EXPECT_EQ(lost, 0U) << summary;
  EXPECT_EQ(strangers, 0U) << "records of events that were never accepted";
  EXPECT_GE(were_running.size(), 1U) << "nothing was running at the kill: " << summary;
  EXPECT_EQ(run_again, were_running.size()) << summary;
}

}  // namespace
}  // namespace ember::test
