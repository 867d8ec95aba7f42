#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "ember/client/temp_dir.hpp"
#include "ember/queue/event_queue.hpp"
#include "queue_test_support.hpp"

namespace ember::queue {
namespace {

using testing::at_ms;
using testing::make_event;

std::vector<std::string> ids(const std::vector<Event>& events) {
  std::vector<std::string> result;
  result.reserve(events.size());
  for (const Event& event : events) result.push_back(event.id);
  return result;
}

class SqliteQueueTest : public ::testing::Test {
 protected:
  client::TempDir dir_{"ember-queue-"};
  std::filesystem::path file_ = dir_.path() / "state" / "async" / "events.db";
  std::unique_ptr<EventQueue> queue_ = open_sqlite_queue(file_);
};

TEST_F(SqliteQueueTest, RoundTripsEveryFieldAndArbitraryBytes) {
  std::string payload(3 << 20, 'x');
  payload[7] = '\0';  // embedded NULs and non-UTF-8 bytes survive
  payload[payload.size() - 1] = '\xff';
  Event event{.id = "4a7c-req",
              .target = "dir:/srv/records",
              .payload = payload,
              .origin = "destination",
              .enqueued_at = at_ms(1'700'000'000'123),
              .due_at = at_ms(1'700'000'000'456),
              .attempts = 2,
              .failures = 1,
              .last_error = std::string("{\"errorType\":\"x\0y\"}", 19)};
  queue_->push(std::array{event});

  auto claimed = queue_->claim("dir:/srv/records", at_ms(1'700'000'000'456), 10);
  ASSERT_EQ(claimed.size(), 1U);
  const Event& got = claimed[0];
  EXPECT_EQ(got.id, event.id);
  EXPECT_EQ(got.target, event.target);
  EXPECT_EQ(got.payload.size(), payload.size());
  EXPECT_TRUE(got.payload == payload);
  EXPECT_EQ(got.origin, "destination");
  EXPECT_EQ(got.enqueued_at, event.enqueued_at);
  EXPECT_EQ(got.due_at, event.due_at);
  EXPECT_EQ(got.attempts, 3U);
  EXPECT_EQ(got.failures, 1U);
  EXPECT_EQ(got.last_error, event.last_error);

  queue_->finish(event.id, {});
  EXPECT_TRUE(queue_->depths().empty());
  EXPECT_TRUE(queue_->claim("dir:/srv/records", at_ms(2'000'000'000'000), 10).empty());
}

TEST_F(SqliteQueueTest, EmptyPayloadAndErrorStayEmpty) {
  queue_->push(std::array{make_event("a", "f", 10, "")});
  auto claimed = queue_->claim("f", at_ms(10), 1);
  ASSERT_EQ(claimed.size(), 1U);
  EXPECT_EQ(claimed[0].payload, "");
  EXPECT_EQ(claimed[0].last_error, "");
}

TEST_F(SqliteQueueTest, ClaimsSoonestDueFirstOnlyWhatIsDueOfTheTargetUpToMax) {
  queue_->push(std::array{make_event("late", "f", 300), make_event("early", "f", 100),
                          make_event("future", "f", 1000), make_event("other", "g", 50),
                          make_event("middle", "f", 200)});

  EXPECT_EQ(ids(queue_->claim("f", at_ms(500), 2)), (std::vector<std::string>{"early", "middle"}));
  EXPECT_EQ(ids(queue_->claim("f", at_ms(500), 10)), (std::vector<std::string>{"late"}));
  EXPECT_TRUE(queue_->claim("f", at_ms(999), 10).empty());  // "future" is not due yet
  EXPECT_EQ(ids(queue_->claim("f", at_ms(1000), 10)), (std::vector<std::string>{"future"}));
  EXPECT_TRUE(queue_->claim("f", at_ms(5000), 0).empty());
  EXPECT_EQ(ids(queue_->claim("g", at_ms(5000), 10)), (std::vector<std::string>{"other"}));
}

TEST_F(SqliteQueueTest, ClaimExpiredTakesWaitingEventsEnqueuedBeforeDueOrNotAttemptsKept) {
  auto retried = make_event("retried", "f", 100);
  retried.due_at = at_ms(9000);  // a retry far in the future
  queue_->push(std::array{retried, make_event("young", "f", 600), make_event("old", "f", 50),
                          make_event("other", "g", 10)});
  ASSERT_EQ(queue_->claim("f", at_ms(60), 1).size(), 1U);  // "old" is running: not taken again

  const auto expired = queue_->claim_expired("f", at_ms(500), 10);
  EXPECT_EQ(ids(expired), (std::vector<std::string>{"retried"}));
  EXPECT_EQ(expired.at(0).attempts, 0U);
  EXPECT_EQ(queue_->depths().at("f").running, 2U);
  EXPECT_TRUE(queue_->claim_expired("f", at_ms(500), 10).empty());
  EXPECT_TRUE(queue_->claim_expired("f", at_ms(5000), 0).empty());
  EXPECT_EQ(ids(queue_->claim_expired("f", at_ms(5000), 10)), (std::vector<std::string>{"young"}));
}

TEST_F(SqliteQueueTest, AttemptsGrowPerClaimAndPersistAcrossReopening) {
  queue_->push(std::array{make_event("a", "f", 0)});
  ASSERT_EQ(queue_->claim("f", at_ms(0), 1).at(0).attempts, 1U);
  queue_.reset();

  queue_ = open_sqlite_queue(file_);
  EXPECT_EQ(queue_->depths().at("f").running, 1U);  // still claimed until recover()
  EXPECT_EQ(queue_->recover(), 1U);
  EXPECT_EQ(queue_->claim("f", at_ms(0), 1).at(0).attempts, 2U);
}

TEST_F(SqliteQueueTest, ReleaseSetsTheRetryAndMakesItClaimableAgain) {
  queue_->push(std::array{make_event("a", "f", 100)});
  Event event = queue_->claim("f", at_ms(100), 1).at(0);
  EXPECT_TRUE(queue_->claim("f", at_ms(100), 1).empty());  // running: not handed out twice

  event.due_at = at_ms(5000);
  event.failures = 1;
  event.last_error = R"({"errorType":"Runtime.ExitError"})";
  queue_->release(event);

  EXPECT_EQ(queue_->next_due("f"), at_ms(5000));
  EXPECT_TRUE(queue_->claim("f", at_ms(4999), 1).empty());
  auto again = queue_->claim("f", at_ms(5000), 1);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].attempts, 2U);
  EXPECT_EQ(again[0].failures, 1U);
  EXPECT_EQ(again[0].last_error, event.last_error);
  EXPECT_EQ(again[0].enqueued_at, at_ms(100));

  // A throttled attempt gives its attempt back.
  again[0].attempts = 1;
  again[0].due_at = at_ms(6000);
  queue_->release(again[0]);
  EXPECT_EQ(queue_->claim("f", at_ms(6000), 1).at(0).attempts, 2U);
}

TEST_F(SqliteQueueTest, ReleaseOrFinishOfAnEventNotRunningIsAnErrorNamingIt) {
  queue_->push(std::array{make_event("waiting", "f", 0)});
  try {
    queue_->release(make_event("waiting", "f", 0));
    FAIL() << "release of a waiting event was accepted";
  } catch (const QueueError& e) {
    EXPECT_NE(std::string(e.what()).find("no running event 'waiting'"), std::string::npos)
        << e.what();
  }
  // The follow-ups of a refused finish are not stored either.
  EXPECT_THROW(queue_->finish("missing", std::array{make_event("record", "dir:/d", 0)}),
               QueueError);
  EXPECT_FALSE(queue_->depths().contains("dir:/d"));
}

TEST_F(SqliteQueueTest, FinishRemovesTheEventAndStoresNewFollowUpsOnce) {
  queue_->push(std::array{make_event("a", "f", 0), make_event("a-record", "dir:/d", 0, "first")});
  ASSERT_EQ(queue_->claim("f", at_ms(0), 1).size(), 1U);

  queue_->finish(
      "a", std::array{make_event("a-record", "dir:/d", 0, "second"), make_event("a-next", "g", 0)});

  const auto depths = queue_->depths();
  EXPECT_FALSE(depths.contains("f"));
  EXPECT_EQ(depths.at("dir:/d").waiting, 1U);
  EXPECT_EQ(depths.at("g").waiting, 1U);
  EXPECT_EQ(queue_->claim("dir:/d", at_ms(0), 10).at(0).payload, "first");
  EXPECT_EQ(ids(queue_->claim("g", at_ms(0), 10)), (std::vector<std::string>{"a-next"}));
}

TEST_F(SqliteQueueTest, DuplicateIdRejectsTheWholeBatch) {
  queue_->push(std::array{make_event("a", "f", 0)});
  try {
    queue_->push(
        std::array{make_event("b", "f", 0), make_event("a", "f", 0), make_event("c", "f", 0)});
    FAIL() << "a duplicate id was accepted";
  } catch (const QueueFull&) {
    FAIL() << "a duplicate id reported as a full disk";
  } catch (const QueueError& e) {
    EXPECT_NE(std::string(e.what()).find("event id 'a' is already in the queue"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(queue_->push(std::array{make_event("d", "f", 0), make_event("d", "f", 0)}),
               QueueError);
  EXPECT_EQ(queue_->depths().at("f").waiting, 1U);
  EXPECT_EQ(ids(queue_->claim("f", at_ms(0), 10)), (std::vector<std::string>{"a"}));

  // The connection is fine afterwards.
  queue_->push(std::array{make_event("b", "f", 0)});
  EXPECT_EQ(ids(queue_->claim("f", at_ms(0), 10)), (std::vector<std::string>{"b"}));
}

TEST_F(SqliteQueueTest, RecoverReturnsRunningEventsToWaitingDueAtOnce) {
  queue_->push(
      std::array{make_event("a", "f", 10), make_event("b", "f", 20), make_event("c", "f", 30)});
  ASSERT_EQ(queue_->claim("f", at_ms(25), 10).size(), 2U);
  EXPECT_EQ(queue_->recover(), 2U);
  EXPECT_EQ(queue_->recover(), 0U);
  auto again = queue_->claim("f", at_ms(25), 10);
  EXPECT_EQ(ids(again), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(again.at(0).attempts, 2U);
}

TEST_F(SqliteQueueTest, DepthsCountWaitingRunningAndTheOldest) {
  EXPECT_TRUE(queue_->depths().empty());
  auto old = make_event("old", "f", 500);
  old.enqueued_at = at_ms(40);  // a retry: due later than it was first accepted
  queue_->push(std::array{make_event("a", "f", 100), old, make_event("b", "f", 9000),
                          make_event("c", "g", 70)});
  ASSERT_EQ(queue_->claim("f", at_ms(100), 1).size(), 1U);

  const auto depths = queue_->depths();
  ASSERT_EQ(depths.size(), 2U);
  EXPECT_EQ(depths.at("f").waiting, 2U);
  EXPECT_EQ(depths.at("f").running, 1U);
  EXPECT_EQ(depths.at("f").oldest, at_ms(40));
  EXPECT_EQ(depths.at("g").waiting, 1U);
  EXPECT_EQ(depths.at("g").running, 0U);
  EXPECT_EQ(depths.at("g").oldest, at_ms(70));
}

TEST_F(SqliteQueueTest, NextDueIsTheSoonestWaitingOne) {
  EXPECT_EQ(queue_->next_due("f"), std::nullopt);
  queue_->push(
      std::array{make_event("a", "f", 300), make_event("b", "f", 100), make_event("c", "g", 5)});
  EXPECT_EQ(queue_->next_due("f"), at_ms(100));
  ASSERT_EQ(queue_->claim("f", at_ms(100), 1).size(), 1U);
  EXPECT_EQ(queue_->next_due("f"), at_ms(300));  // running ones do not count
  ASSERT_EQ(queue_->claim("f", at_ms(300), 1).size(), 1U);
  EXPECT_EQ(queue_->next_due("f"), std::nullopt);
}

TEST_F(SqliteQueueTest, TheFileIsMarkedAsEmbersQueueInWalMode) {
  queue_.reset();  // the last connection checkpoints the header into the file
  const std::string bytes = client::read_file(file_);
  ASSERT_GE(bytes.size(), 100U);
  EXPECT_EQ(bytes.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(bytes.substr(68, 4), "EMBQ");  // application_id, big-endian
  EXPECT_EQ(bytes[18], 2);                 // file format 2: write-ahead logging
  EXPECT_EQ(bytes[19], 2);
  queue_ = open_sqlite_queue(file_);  // and it opens again as the queue
  EXPECT_TRUE(queue_->depths().empty());
}

}  // namespace
}  // namespace ember::queue
