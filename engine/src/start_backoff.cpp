#include "start_backoff.hpp"

#include <algorithm>

namespace ember::engine {

StartBackoff::Duration StartBackoff::failed(TimePoint now) {
  ++failures_;
  wait_ = failures_ == 1 ? kFirstWait : std::min<Duration>(wait_ * 2, kLongestWait);
  retry_at_ = now + wait_;
  return wait_;
}

void StartBackoff::succeeded() {
  failures_ = 0;
  wait_ = {};
  retry_at_.reset();
}

}  // namespace ember::engine
