// Readers and rules of the object-notification keys: `node.buckets`, a function's `s3_events`
// and its `mounts` (docs/event-sources.md, "Object notifications").
#pragma once

#include <vector>

#include "ember/config/config.hpp"
#include "walker.hpp"

namespace ember::config::detail {

// `node.buckets`: names unique, paths apart (a file in two buckets would notify twice).
void read_buckets(const Walker& walker, const Entry& entry, NodeConfig& node);
// A bucket's `path`: a directory, or one the node can make at start.
void read_bucket_path(const Walker& walker, const Entry& entry, BucketConfig& bucket);

// A mount's `source` as written; check_object_notifications resolves it.
void read_mount_source(const Walker& walker, const Entry& entry, MountConfig& mount);

// `s3_events`: each subscription read with kS3EventKeys; at least one event type.
void read_s3_events(const Walker& walker, const Entry& entry, FunctionConfig& function);

// `mounts`: each read with kMountKeys; targets unique and not inside one another.
void read_mounts(const Walker& walker, const Entry& entry, FunctionConfig& function);

// Once every function is read (`entries` in the order of config.functions): each subscription
// names a bucket of node.buckets, each mount's source is a bucket or an existing directory
// (filling MountConfig::bucket and path) of a sandboxed function, and no function's writes
// can come back to it as notifications, directly or through other functions.
void check_object_notifications(const Walker& walker, const std::vector<Entries>& entries,
                                Config& config);

}  // namespace ember::config::detail
