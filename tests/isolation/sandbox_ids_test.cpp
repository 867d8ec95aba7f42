// The ids of a sandbox uid range: one per sandbox, returned by the lease, reused last.
#include "sandbox_ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace ember::isolation {
namespace {

TEST(SandboxIds, EachLeaseHoldsADifferentIdOfTheRangeUntilTheRangeIsUsedUp) {
  auto ids = std::make_shared<SandboxIds>(IdRange{5000, 3});
  std::vector<IdLease> leases;
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 3; ++i) {
    auto lease = ids->acquire();
    ASSERT_TRUE(lease) << lease.error().message();
    EXPECT_GE(lease->id(), 5000U);
    EXPECT_LE(lease->id(), 5002U);
    seen.insert(lease->id());
    leases.push_back(std::move(*lease));
  }
  EXPECT_EQ(seen.size(), 3U);
  EXPECT_EQ(ids->in_use(), 3U);
  auto refused = ids->acquire();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().err, ENOSPC);
  EXPECT_EQ(refused.error().context,
            "every id of the sandbox id range 5000-5002 is in use by a sandbox");
  EXPECT_NE(refused.error().hint.find("node.sandbox_uid_range"), std::string::npos);
}

TEST(SandboxIds, AReturnedIdIsHandedOutAgainOnlyAfterEveryOtherFreeOne) {
  auto ids = std::make_shared<SandboxIds>(IdRange{100, 4});
  std::uint32_t first_id = 0;
  {
    auto first = ids->acquire();
    ASSERT_TRUE(first);
    first_id = first->id();
  }  // returned
  EXPECT_EQ(ids->in_use(), 0U);
  std::vector<std::uint32_t> order;
  std::vector<IdLease> held;
  for (int i = 0; i < 4; ++i) {
    auto lease = ids->acquire();
    ASSERT_TRUE(lease);
    order.push_back(lease->id());
    held.push_back(std::move(*lease));
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{101, 102, 103, 100}));
  EXPECT_EQ(order.back(), first_id);
}

TEST(SandboxIds, AMovedLeaseReturnsItsIdOnce) {
  auto ids = std::make_shared<SandboxIds>(IdRange{7, 2});
  auto lease = ids->acquire();
  ASSERT_TRUE(lease);
  IdLease moved = std::move(*lease);
  IdLease assigned;
  assigned = std::move(moved);
  EXPECT_EQ(ids->in_use(), 1U);
  assigned = IdLease();
  EXPECT_EQ(ids->in_use(), 0U);
}

TEST(SandboxIds, LeasesOutliveTheirPool) {
  IdLease lease;
  {
    auto ids = std::make_shared<SandboxIds>(IdRange{9, 1});
    auto taken = ids->acquire();
    ASSERT_TRUE(taken);
    lease = std::move(*taken);
  }
  EXPECT_EQ(lease.id(), 9U);  // the pool lives on in the lease; its destructor returns the id
}

TEST(SandboxIds, ThreadsNeverGetTheSameId) {
  auto ids = std::make_shared<SandboxIds>(IdRange{1000, 4000});
  std::vector<std::vector<IdLease>> taken(4);
  std::vector<std::thread> threads;
  for (auto& mine : taken) {
    threads.emplace_back([&ids, &mine] {
      for (int i = 0; i < 1000; ++i) {
        auto lease = ids->acquire();
        if (lease) mine.push_back(std::move(*lease));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::uint32_t> seen;
  for (const auto& mine : taken) {
    for (const auto& lease : mine) seen.insert(lease.id());
  }
  EXPECT_EQ(seen.size(), 4000U);
  EXPECT_EQ(ids->in_use(), 4000U);
}

TEST(SandboxIds, NoRangeMeansTheFixedIdsAndNoLease) {
  auto user = sandbox_user(nullptr, 993, 994);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->uid, 993U);
  EXPECT_EQ(user->gid, 994U);
  EXPECT_EQ(user->group, 994U);
  auto ids = std::make_shared<SandboxIds>(IdRange{2000, 1});
  auto own = sandbox_user(ids, 993, 994);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->uid, 2000U);
  EXPECT_EQ(own->gid, 2000U);
  EXPECT_EQ(own->group, 994U);
  EXPECT_EQ(ids->in_use(), 1U);
}

}  // namespace
}  // namespace ember::isolation
