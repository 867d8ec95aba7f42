// Object notifications of local buckets (docs/event-sources.md): each object created or
// removed in a bucket that functions subscribe to (`s3_events`) becomes, for every matching
// subscription, an asynchronous invocation carrying S3's event record, through the durable
// queue and with the function's retries and destinations.
//
// Loops (a function's output notifying it again) are refused when the configuration is
// loaded (config/src/buckets.cpp), so every event is delivered as it comes.
#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "async_dispatcher.hpp"
#include "bucket_watcher.hpp"
#include "ember/config/config.hpp"
#include "engine_context.hpp"

namespace ember::engine {

// Makes missing bucket directories. One that a sandboxed function mounts writable is given to
// the sandbox user (node.sandbox_uid/gid), or with node.sandbox_uid_range made writable by
// the group every sandbox has (node.sandbox_gid), so the function can write into it; an
// existing one is left as it is. Failures are logged: the function that needs it fails then, by
// name.
void make_bucket_directories(const config::Config& config, const EngineContext& context);

class ObjectNotifier {
 public:
  ObjectNotifier(EngineContext& context, const config::Config& config, AsyncDispatcher& async);
  ObjectNotifier(const ObjectNotifier&) = delete;
  ObjectNotifier& operator=(const ObjectNotifier&) = delete;
  ObjectNotifier(ObjectNotifier&&) = delete;
  ObjectNotifier& operator=(ObjectNotifier&&) = delete;
  ~ObjectNotifier();

  // Watches the subscribed buckets; objects created from now on are notified.
  void start();
  void stop();

  // Per subscribed bucket: its name, counts of objects created and removed since start,
  // invocations queued, objects gone before they could be read, and inotify overflows.
  [[nodiscard]] boost::json::array describe() const;

 private:
  struct Subscription {
    const config::FunctionConfig* function = nullptr;
    const config::S3EventConfig* rule = nullptr;
    std::string configuration_id;  // "FUNCTION.s3_events[N]"
  };
  struct Bucket {
    const config::BucketConfig* config = nullptr;
    std::vector<Subscription> subscriptions;
    std::uint64_t created = 0;
    std::uint64_t removed = 0;
    std::uint64_t queued = 0;
    std::uint64_t vanished = 0;  // created, and gone (or unreadable) before it was read
  };

  void changed(const BucketWatcher::Change& change);
  void problem(const std::string& line) const;
  std::string next_sequencer();

  EngineContext& context_;
  const config::Config& config_;
  AsyncDispatcher& async_;
  std::vector<Bucket> buckets_;
  std::shared_ptr<BucketWatcher> watcher_;
  std::uint64_t sequencer_ = 0;
};

}  // namespace ember::engine
