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
#include <utility>

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

// Sends kEvents events from kClients threads at once; the request ids answered 202, and how
// many got another answer.
std::pair<std::set<std::string>, std::size_t> accept_events(const Node& node) {
  std::mutex mutex;
  std::set<std::string> accepted;
  std::size_t refused = 0;
  std::vector<std::future<void>> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      for (int i = c; i < kEvents; i += kClients) {
        const auto reply =
            send_event(node, "slow", R"({"seconds":0.06,"n":)" + std::to_string(i) + "}");
        const std::scoped_lock lock(mutex);
        if (reply.status == 202) {
          accepted.insert(reply.header("x-amzn-requestid"));
        } else {
          ++refused;
        }
      }
    }));
  }
  for (auto& client : clients) client.get();
  return {std::move(accepted), refused};
}

// What the success records say about the accepted events.
struct Tally {
  std::map<std::string, std::vector<std::int64_t>> counts;  // id: each record's invoke count
  std::size_t lost = 0;                                     // accepted, no record
  std::size_t duplicates = 0;                               // ids with more than one record
  std::size_t strangers = 0;                                // records of ids never accepted
  std::size_t run_again = 0;  // records with approximateInvokeCount > 1
};

Tally tally(const std::vector<DestinationRecord>& records, const std::set<std::string>& accepted) {
  Tally t;
  for (const auto& record : records) {
    t.counts[record.request_id()].push_back(record.invoke_count());
    if (record.invoke_count() > 1) ++t.run_again;
  }
  for (const auto& id : accepted) {
    if (!t.counts.contains(id)) ++t.lost;
  }
  for (const auto& [id, found] : t.counts) {
    if (found.size() > 1) ++t.duplicates;
    if (!accepted.contains(id)) ++t.strangers;
  }
  return t;
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

  const auto [accepted, refused] = accept_events(*node);
  const auto accepting = std::chrono::steady_clock::now() - began;
  ASSERT_EQ(accepted.size(), static_cast<std::size_t>(kEvents)) << refused << " refused";

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
  const auto t = tally(read_records(ok), accepted);
  for (const auto& id : were_running) {
    ASSERT_TRUE(t.counts.contains(id)) << id;
    EXPECT_EQ(t.counts.at(id), std::vector<std::int64_t>{2})
        << id << " was running at the kill: it runs once more, its count one higher";
  }
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began);
  const std::string summary =
      "accepted " + std::to_string(accepted.size()) + " (in " +
      std::to_string(std::chrono::duration<double>(accepting).count()) +
      " s), ran before the kill " + std::to_string(ran_before) + ", running at the kill " +
      std::to_string(were_running.size()) + ", lost " + std::to_string(t.lost) +
      ", ids with more than one record " + std::to_string(t.duplicates) +
      ", records with approximateInvokeCount > 1 " + std::to_string(t.run_again) + ", " +
      std::to_string(took.count()) + " s in all";
  std::printf("crash test: %s\n", summary.c_str());
  RecordProperty("accepted", static_cast<int>(accepted.size()));
  RecordProperty("lost", static_cast<int>(t.lost));
  RecordProperty("duplicates", static_cast<int>(t.duplicates));
  RecordProperty("running_at_kill", static_cast<int>(were_running.size()));
  EXPECT_EQ(t.lost, 0U) << summary;
  EXPECT_EQ(t.strangers, 0U) << "records of events that were never accepted";
  EXPECT_GE(were_running.size(), 1U) << "nothing was running at the kill: " << summary;
  EXPECT_EQ(t.run_again, were_running.size()) << summary;
}

}  // namespace
}  // namespace ember::test
