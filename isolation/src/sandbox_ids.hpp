// The ids of NativeOptions::ids / OciOptions::ids handed out one per sandbox. A sandbox holds
// its lease until its last process is gone (its cgroup removed), and a returned id is handed
// out again only after every other free one: whatever the kernel still counts for a user a
// moment after its processes ended is not inherited by the next sandbox.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "ember/isolation/sandbox.hpp"

namespace ember::isolation {

class SandboxIds;

// One id of the range, returned when destroyed. An empty lease (no range) holds nothing.
class IdLease {
 public:
  IdLease() = default;
  IdLease(std::shared_ptr<SandboxIds> owner, std::uint32_t id)
      : owner_(std::move(owner)), id_(id) {}
  IdLease(const IdLease&) = delete;
  IdLease& operator=(const IdLease&) = delete;
  IdLease(IdLease&& other) noexcept = default;
  IdLease& operator=(IdLease&& other) noexcept;
  ~IdLease();

  [[nodiscard]] std::uint32_t id() const { return id_; }

 private:
  void release() noexcept;

  std::shared_ptr<SandboxIds> owner_;
  std::uint32_t id_ = 0;
};

// Thread-safe: backends prepare sandboxes on several threads and destroy them on others.
class SandboxIds : public std::enable_shared_from_this<SandboxIds> {
 public:
  explicit SandboxIds(IdRange range);

  // The next free id after the last one handed out (wrapping), or ENOSPC naming the range.
  Result<IdLease> acquire();
  [[nodiscard]] std::size_t in_use() const;

 private:
  friend class IdLease;
  void release(std::uint32_t id) noexcept;

  IdRange range_;
  mutable std::mutex mutex_;
  std::vector<bool> taken_;
  std::size_t next_ = 0;  // where the search for a free id starts
  std::size_t in_use_ = 0;
};

// What a sandbox runs as: its own ids from the range, or the backend's fixed ones.
struct SandboxUser {
  IdLease lease;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t group = 0;  // supplementary; gid when there is no range
};

// With `ids` (may be null): a lease, uid = gid = its id, group = fixed_gid. Without: the
// fixed ids.
Result<SandboxUser> sandbox_user(const std::shared_ptr<SandboxIds>& ids, std::uint32_t fixed_uid,
                                 std::uint32_t fixed_gid);

}  // namespace ember::isolation
