#include "object_notifier.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <chrono>
#include <system_error>

#include "object_digest.hpp"
#include "s3_record.hpp"

namespace ember::engine {
namespace {

namespace fs = std::filesystem;

bool matches(const config::S3EventConfig& rule, const ObjectEvent& event) {
  return event.key.starts_with(rule.prefix) && event.key.ends_with(rule.suffix) &&
         std::any_of(rule.events.begin(), rule.events.end(),
                     [&](const std::string& type) { return s3_event_matches(type, event.kind); });
}

bool mounted_writable_in_a_sandbox(const config::Config& config,
                                   const config::BucketConfig& bucket) {
  return std::any_of(config.functions.begin(), config.functions.end(), [&](const auto& f) {
    return f.isolation != config::Isolation::kNone &&
           std::any_of(f.mounts.begin(), f.mounts.end(), [&](const config::MountConfig& m) {
             return m.bucket == bucket.name && !m.read_only;
           });
  });
}

// Lines about a bucket go to the log of each function that subscribes to or mounts it.
std::vector<std::string> functions_of(const config::Config& config, const std::string& bucket) {
  std::vector<std::string> names;
  for (const auto& f : config.functions) {
    const bool subscribed = std::any_of(f.s3_events.begin(), f.s3_events.end(),
                                        [&](const auto& s) { return s.bucket == bucket; });
    const bool mounted = std::any_of(f.mounts.begin(), f.mounts.end(),
                                     [&](const auto& m) { return m.bucket == bucket; });
    if (subscribed || mounted) names.push_back(f.name);
  }
  return names;
}

// A writable bucket directory: the sandbox user's, or with a uid range (a user per sandbox)
// the shared group's, group-writable and setgid, so every function's objects stay in that
// group for the others to read. "" when done.
std::string give_to_sandboxes(const fs::path& dir, const config::NodeConfig& node) {
  const auto& gid = node.sandbox_gid;
  if (::chown(dir.c_str(), node.sandbox_uid_range ? 0 : node.sandbox_uid, gid) < 0) {
    return "cannot give bucket directory " + dir.string() + " to the sandbox " +
           (node.sandbox_uid_range ? "group " + std::to_string(gid)
                                   : "user " + std::to_string(node.sandbox_uid)) +
           ": " + std::system_category().message(errno);
  }
  if (node.sandbox_uid_range && ::chmod(dir.c_str(), 02775) < 0) {
    return "cannot make bucket directory " + dir.string() + " writable by group " +
           std::to_string(gid) + ": " + std::system_category().message(errno);
  }
  return {};
}

}  // namespace

void make_bucket_directories(const config::Config& config, const EngineContext& context) {
  for (const auto& bucket : config.node.buckets) {
    std::error_code ec;
    const bool made = fs::create_directories(bucket.path, ec);
    std::string failure;
    if (ec) {
      failure = "cannot make the directory of bucket " + bucket.name + ", " + bucket.path.string() +
                ": " + ec.message();
    } else if (made && mounted_writable_in_a_sandbox(config, bucket)) {
      failure = give_to_sandboxes(bucket.path, config.node);
    }
    if (failure.empty() || !context.echo) continue;
    for (const auto& name : functions_of(config, bucket.name)) {
      context.echo(name, "ember: " + failure);
    }
  }
}

ObjectNotifier::ObjectNotifier(EngineContext& context, const config::Config& config,
                               AsyncDispatcher& async)
    : context_(context), config_(config), async_(async) {
  for (const auto& bucket : config_.node.buckets) {
    Bucket watched;
    watched.config = &bucket;
    for (const auto& function : config_.functions) {
      for (std::size_t i = 0; i < function.s3_events.size(); ++i) {
        if (function.s3_events[i].bucket != bucket.name) continue;
        watched.subscriptions.push_back({&function, &function.s3_events[i],
                                         function.name + ".s3_events[" + std::to_string(i) + "]"});
      }
    }
    if (!watched.subscriptions.empty()) buckets_.push_back(std::move(watched));
  }
  // Increasing across restarts too, as long as the wall clock does not go back.
  sequencer_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
}

ObjectNotifier::~ObjectNotifier() { stop(); }

void ObjectNotifier::start() {
  std::vector<fs::path> roots;
  roots.reserve(buckets_.size());
  for (const auto& bucket : buckets_) roots.push_back(bucket.config->path);
  watcher_ = std::make_shared<BucketWatcher>(
      context_.executor, std::move(roots),
      BucketWatcher::Callbacks{[this](const BucketWatcher::Change& change) { changed(change); },
                               [this](const std::string& line) { problem(line); }});
  if (auto started = watcher_->start(); !started) {
    problem("object notifications are OFF: " + started.error().message());
  }
}

void ObjectNotifier::stop() {
  if (watcher_) watcher_->stop();
}

void ObjectNotifier::problem(const std::string& line) const {
  if (!context_.echo) return;
  for (const auto& bucket : buckets_) {
    for (const auto& subscription : bucket.subscriptions) {
      context_.echo(subscription.function->name, "ember: buckets: " + line);
    }
  }
}

std::string ObjectNotifier::next_sequencer() {
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  sequencer_ = std::max(sequencer_ + 1, now);
  return s3_sequencer(sequencer_);
}

void ObjectNotifier::changed(const BucketWatcher::Change& change) {
  Bucket& bucket = buckets_.at(change.root);
  ObjectEvent event;
  event.kind = change.kind == BucketWatcher::ChangeKind::kCreated ? ObjectEvent::Kind::kCreated
                                                                  : ObjectEvent::Kind::kRemoved;
  event.bucket = bucket.config->name;
  event.key = change.key;
  event.time = std::chrono::system_clock::now();
  if (event.kind == ObjectEvent::Kind::kCreated) {
    ++bucket.created;
    const auto digest = digest_object(bucket.config->path / change.key);
    if (!digest) {
      // Removed (or replaced by something that is not a file) before it could be read: its
      // removal is notified instead.
      ++bucket.vanished;
      return;
    }
    event.size = digest->size;
    event.etag = digest->etag;
  } else {
    ++bucket.removed;
  }
  event.sequencer = next_sequencer();
  for (const auto& subscription : bucket.subscriptions) {
    if (!matches(*subscription.rule, event)) continue;
    ++bucket.queued;
    async_.submit(subscription.function->name,
                  s3_event_payload(event, config_.node, subscription.configuration_id), "s3",
                  [echo = context_.echo, function = subscription.function->name,
                   key = event.key](const std::string& error) {
                    if (!echo) return;
                    std::string line = "ember: the event of object ";
                    line.append(key).append(" could not be queued: ").append(error);
                    echo(function, line);
                  });
  }
}

boost::json::array ObjectNotifier::describe() const {
  boost::json::array out;
  for (const auto& bucket : buckets_) {
    out.push_back(boost::json::object{
        {"name", bucket.config->name},
        {"path", bucket.config->path.string()},
        {"created", bucket.created},
        {"removed", bucket.removed},
        {"queued", bucket.queued},
        {"vanished", bucket.vanished},
        {"overflows", watcher_ ? watcher_->overflows() : 0},
    });
  }
  return out;
}

}  // namespace ember::engine
