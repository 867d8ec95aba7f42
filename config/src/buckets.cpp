#include "buckets.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>

#include "messages.hpp"
#include "readers.hpp"
#include "schema.hpp"

namespace ember::config::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kS3Events = key_for<kFunctionKeys, &FunctionConfig::s3_events>().name;
constexpr std::string_view kMounts = key_for<kFunctionKeys, &FunctionConfig::mounts>().name;
constexpr std::string_view kSubscribedBucket = key_for<kS3EventKeys, &S3EventConfig::bucket>().name;
constexpr std::string_view kEvents = key_for<kS3EventKeys, &S3EventConfig::events>().name;
constexpr std::string_view kSource = key_for<kMountKeys, &MountConfig::source>().name;
constexpr std::string_view kTarget = key_for<kMountKeys, &MountConfig::target>().name;
constexpr std::string_view kBucketName = key_for<kBucketKeys, &BucketConfig::name>().name;
constexpr std::string_view kBucketPath = key_for<kBucketKeys, &BucketConfig::path>().name;

// The entry of a key the item is known to have (a required one).
const Entry& entry_at(const Entries& entries, std::string_view key) {
  return entries.find(key)->second;
}

// Symlinks resolved where they exist, so two spellings of one directory compare equal.
fs::path comparable(const fs::path& path) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal() : out;
}

// One is the other or inside it.
bool overlap(const fs::path& a, const fs::path& b) {
  const auto [a_end, b_end] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return a_end == a.end() || b_end == b.end();
}

const BucketConfig* find_bucket(const NodeConfig& node, std::string_view name) {
  const auto it = std::find_if(node.buckets.begin(), node.buckets.end(),
                               [&](const BucketConfig& b) { return b.name == name; });
  return it == node.buckets.end() ? nullptr : &*it;
}

std::string bucket_names(const NodeConfig& node) {
  if (node.buckets.empty()) return "node.buckets has none";
  std::string out;
  for (const BucketConfig& bucket : node.buckets) {
    out += (out.empty() ? "" : ", ") + bucket.name;
  }
  return "buckets: " + out;
}

// The YAML node of `key` in the `index`th item of a function's list `list_key`.
struct ItemKey {
  YAML::Node node;
  std::string path;
};
std::optional<Entry> list_entry(const Entries& function_entries, std::string_view list_key) {
  const auto it = function_entries.find(list_key);
  if (it == function_entries.end()) return std::nullopt;
  return it->second;
}
ItemKey item_key(const Entry& list, std::size_t index, std::string_view key) {
  return {list.value[index][std::string(key)], item_path(list, index) + "." + std::string(key)};
}

void resolve_mounts(const Walker& walker, const Entry& list, const NodeConfig& node,
                    FunctionConfig& function) {
  if (function.isolation == Isolation::kNone) {
    walker.fail(list,
                "needs a sandbox (`isolation: native` or `oci`): a plain process "
                "(`isolation: none`) sees the host's whole file system, with nothing mounted");
  }
  for (std::size_t i = 0; i < function.mounts.size(); ++i) {
    MountConfig& mount = function.mounts[i];
    if (const BucketConfig* bucket = find_bucket(node, mount.source)) {
      mount.bucket = bucket->name;
      mount.path = bucket->path;
      continue;
    }
    const ItemKey source = item_key(list, i, kSource);
    mount.path = walker.resolve(mount.source);
    std::error_code ec;
    const auto status = fs::status(mount.path, ec);
    if (!fs::is_directory(status)) {
      walker.fail(source.node, source.path,
                  in_backticks(mount.source) + " is neither a bucket (" + bucket_names(node) +
                      ") nor an existing directory (" + mount.path.string() +
                      (fs::exists(status) ? " is not a directory)" : " does not exist)"));
    }
  }
}

// A subscription `s3_events[event]` of function `to` to `bucket`, which function `from` writes.
struct Edge {
  std::size_t from = 0;
  std::size_t to = 0;
  std::string bucket;
  std::size_t event = 0;
};

// Writes: a mount that is not read-only and overlaps the bucket's directory.
bool writes(const FunctionConfig& function, const BucketConfig& bucket) {
  const fs::path bucket_path = comparable(bucket.path);
  return std::any_of(function.mounts.begin(), function.mounts.end(), [&](const MountConfig& m) {
    return !m.read_only && overlap(comparable(m.path), bucket_path);
  });
}

std::vector<Edge> notification_edges(const Config& config) {
  std::vector<Edge> edges;
  const auto& functions = config.functions;
  for (std::size_t to = 0; to < functions.size(); ++to) {
    for (std::size_t e = 0; e < functions[to].s3_events.size(); ++e) {
      const std::string& name = functions[to].s3_events[e].bucket;
      const BucketConfig& bucket = *find_bucket(config.node, name);
      for (std::size_t from = 0; from < functions.size(); ++from) {
        if (writes(functions[from], bucket)) edges.push_back({from, to, name, e});
      }
    }
  }
  return edges;
}

// The edges of a path from `start` to `goal` (empty when start is goal), or nullopt.
std::optional<std::vector<const Edge*>> path_between(const std::vector<Edge>& edges,
                                                     std::size_t start, std::size_t goal) {
  std::map<std::size_t, const Edge*> reached_by{{start, nullptr}};
  std::vector<std::size_t> frontier{start};
  while (!frontier.empty() && !reached_by.contains(goal)) {
    std::vector<std::size_t> next;
    for (const std::size_t at : frontier) {
      for (const Edge& edge : edges) {
        if (edge.from == at && reached_by.emplace(edge.to, &edge).second) next.push_back(edge.to);
      }
    }
    frontier = std::move(next);
  }
  if (!reached_by.contains(goal)) return std::nullopt;
  std::vector<const Edge*> path;
  for (std::size_t at = goal; reached_by.at(at) != nullptr; at = reached_by.at(at)->from) {
    path.insert(path.begin(), reached_by.at(at));
  }
  return path;
}

// A function's writes that notify, through any chain of functions, that function again would
// invoke it forever: refused, at the subscription that closes the loop.
void check_no_loops(const Walker& walker, const std::vector<Entries>& entries,
                    const Config& config) {
  const std::vector<Edge> edges = notification_edges(config);
  for (const Edge& edge : edges) {
    const auto back = path_between(edges, edge.to, edge.from);
    if (!back) continue;
    const auto& functions = config.functions;
    std::string loop = functions[edge.from].name + " writes `" + edge.bucket + "`";
    for (const Edge* step : *back) {
      loop += " -> " + functions[step->from].name + " writes `" + step->bucket + "`";
    }
    loop += " -> " + functions[edge.to].name;
    const ItemKey bucket =
        item_key(*list_entry(entries[edge.to], kS3Events), edge.event, kSubscribedBucket);
    walker.fail(bucket.node, bucket.path,
                "notifications of `" + edge.bucket + "` would loop (" + loop +
                    "): a function's own output would invoke it again; write into a bucket no "
                    "function of the loop subscribes to, or make the mount read_only");
  }
}

}  // namespace

void read_buckets(const Walker& walker, const Entry& entry, NodeConfig& node) {
  const std::vector<Entries> items = read_list<kBucketKeys>(walker, entry, node.buckets);
  for (std::size_t i = 0; i < node.buckets.size(); ++i) {
    const BucketConfig& bucket = node.buckets[i];
    for (std::size_t j = 0; j < i; ++j) {
      const BucketConfig& earlier = node.buckets[j];
      if (earlier.name == bucket.name) {
        walker.fail(entry_at(items[i], kBucketName),
                    "duplicate bucket name " + in_backticks(bucket.name) +
                        " (first defined at line " +
                        Walker::line_of(entry_at(items[j], kBucketName).key) + ")");
      }
      if (overlap(comparable(earlier.path), comparable(bucket.path))) {
        walker.fail(entry_at(items[i], kBucketPath),
                    bucket.path.string() + " overlaps bucket " + in_backticks(earlier.name) +
                        "'s " + earlier.path.string() +
                        "; a file in both would be two buckets' object");
      }
    }
  }
}

void read_bucket_path(const Walker& walker, const Entry& entry, BucketConfig& bucket) {
  bucket.path = walker.path(entry);
  check_makeable_directory(walker, entry, bucket.path);
}

void read_mount_source(const Walker& walker, const Entry& entry, MountConfig& mount) {
  mount.source = walker.string(entry);
  if (mount.source.empty()) {
    walker.fail(entry, "expected a bucket's name or a directory, got \"\"");
  }
}

void read_s3_events(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  const std::vector<Entries> items = read_list<kS3EventKeys>(walker, entry, function.s3_events);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (const auto events = items[i].find(kEvents);
        events != items[i].end() && function.s3_events[i].events.empty()) {
      walker.fail(events->second, "expected at least one event type");
    }
  }
}

void read_mounts(const Walker& walker, const Entry& entry, FunctionConfig& function) {
  const std::vector<Entries> items = read_list<kMountKeys>(walker, entry, function.mounts);
  for (std::size_t i = 0; i < function.mounts.size(); ++i) {
    const fs::path target = function.mounts[i].target;
    for (std::size_t j = 0; j < i; ++j) {
      if (overlap(fs::path(function.mounts[j].target), target)) {
        walker.fail(entry_at(items[i], kTarget),
                    in_backticks(function.mounts[i].target) + " and " +
                        in_backticks(function.mounts[j].target) + " (line " +
                        Walker::line_of(entry_at(items[j], kTarget).value) +
                        ") are the same or inside one another");
      }
    }
  }
}

void check_object_notifications(const Walker& walker, const std::vector<Entries>& entries,
                                Config& config) {
  for (std::size_t f = 0; f < config.functions.size(); ++f) {
    FunctionConfig& function = config.functions[f];
    if (const auto events = list_entry(entries[f], kS3Events)) {
      for (std::size_t i = 0; i < function.s3_events.size(); ++i) {
        if (find_bucket(config.node, function.s3_events[i].bucket) != nullptr) continue;
        const ItemKey bucket = item_key(*events, i, kSubscribedBucket);
        walker.fail(bucket.node, bucket.path,
                    "unknown bucket " + in_backticks(function.s3_events[i].bucket) + "; " +
                        bucket_names(config.node));
      }
    }
    if (const auto mounts = list_entry(entries[f], kMounts)) {
      resolve_mounts(walker, *mounts, config.node, function);
    }
  }
  check_no_loops(walker, entries, config);
}

}  // namespace ember::config::detail
