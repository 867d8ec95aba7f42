// A full file system: push reports QueueFull, stores nothing of the batch, and the same queue
// takes the batch once space is free again. The disk is a small tmpfs the test mounts.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "../support/tmpfs_mount.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/queue/event_queue.hpp"
#include "queue_test_support.hpp"

namespace ember::queue {
namespace {

namespace fs = std::filesystem;
using test::fill;
using test::TmpfsMount;
using testing::at_ms;
using testing::make_event;

TEST(QueueOnAFullDisk, PushStoresNothingAndWorksOnceSpaceIsFree) {
  client::TempDir dir("ember-queue-full-");
  TmpfsMount disk(dir.path(), "512k");
  if (disk.error() == EPERM) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  ASSERT_EQ(disk.error(), 0) << "mount tmpfs: " << std::strerror(disk.error());

  auto queue = open_sqlite_queue(dir.path() / "async" / "events.db");
  queue->push(std::array{make_event("before", "f", 0)});
  ASSERT_EQ(fill(dir.path() / "filler"), ENOSPC);

  const std::array batch{make_event("small", "f", 0),
                         make_event("big", "f", 0, std::string(200 << 10, 'b')),
                         make_event("last", "f", 0)};
  try {
    queue->push(batch);
    FAIL() << "a push onto a full disk returned";
  } catch (const QueueFull& e) {
    EXPECT_NE(std::string(e.what()).find("events.db"), std::string::npos) << e.what();
  }
  EXPECT_EQ(queue->depths().at("f").waiting, 1U) << "part of the batch was stored";
  EXPECT_EQ(queue->next_due("f"), at_ms(0));

  fs::remove(dir.path() / "filler");
  queue->push(batch);  // the same ids: none of them was stored before
  const auto claimed = queue->claim("f", at_ms(0), 10);
  ASSERT_EQ(claimed.size(), 4U);
  for (const Event& event : claimed) {
    if (event.id == "big") {
      EXPECT_EQ(event.payload.size(), 200U << 10);
    }
  }
}

}  // namespace
}  // namespace ember::queue
