#include "sandbox_ids.hpp"

#include <cerrno>
#include <string>

namespace ember::isolation {

IdLease& IdLease::operator=(IdLease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    id_ = other.id_;
  }
  return *this;
}

IdLease::~IdLease() { release(); }

void IdLease::release() noexcept {
  if (owner_ != nullptr) owner_->release(id_);
  owner_.reset();
}

SandboxIds::SandboxIds(IdRange range) : range_(range), taken_(range.count, false) {}

Result<IdLease> SandboxIds::acquire() {
  const std::lock_guard lock(mutex_);
  for (std::size_t step = 0; step < taken_.size(); ++step) {
    const std::size_t slot = (next_ + step) % taken_.size();
    if (taken_[slot]) continue;
    taken_[slot] = true;
    ++in_use_;
    next_ = (slot + 1) % taken_.size();
    return IdLease(shared_from_this(), range_.first + static_cast<std::uint32_t>(slot));
  }
  const std::uint64_t last = std::uint64_t{range_.first} + range_.count - 1;
  return SysError{ENOSPC,
                  "every id of the sandbox id range " + std::to_string(range_.first) + "-" +
                      std::to_string(last) + " is in use by a sandbox",
                  "widen node.sandbox_uid_range, or lower max_workers and prepared_sandboxes"};
}

std::size_t SandboxIds::in_use() const {
  const std::lock_guard lock(mutex_);
  return in_use_;
}

void SandboxIds::release(std::uint32_t id) noexcept {
  const std::lock_guard lock(mutex_);
  const std::size_t slot = id - range_.first;
  if (slot < taken_.size() && taken_[slot]) {
    taken_[slot] = false;
    --in_use_;
  }
}

Result<SandboxUser> sandbox_user(const std::shared_ptr<SandboxIds>& ids, std::uint32_t fixed_uid,
                                 std::uint32_t fixed_gid) {
  if (ids == nullptr) return SandboxUser{{}, fixed_uid, fixed_gid, fixed_gid};
  auto lease = ids->acquire();
  if (!lease) return lease.error();
  const std::uint32_t id = lease->id();
  return SandboxUser{std::move(*lease), id, id, fixed_gid};
}

}  // namespace ember::isolation
