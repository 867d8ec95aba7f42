// The functions a node serves, by pool key: one pool per function and per published version
// of it, added, replaced and removed while the node runs, and the pools of replaced or removed
// functions until their workers are gone.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/config/config.hpp"
#include "engine_context.hpp"

namespace ember::engine {

class FunctionPool;

// pool_key(name, version) is in engine_context.hpp.
inline std::string pool_key(const config::FunctionConfig& f) { return pool_key(f.name, f.version); }

// Owned by the node (one per engine thread once there are shards: docs/design.md#threading);
// only its thread calls it, so nothing here locks.
class FunctionRegistry {
 public:
  explicit FunctionRegistry(EngineContext& context) : context_(context) {}

  // The pool new invocations of `key` (pool_key()) go to; null when there is none.
  [[nodiscard]] FunctionPool* find(std::string_view key) const;
  [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }

  // Adds the function (or version), or replaces the one of its key: the old pool drains (its idle
  // workers end now, busy ones finish their invocation on the old code and end, queued
  // callers are served by its starting workers) while new invocations go to a new pool.
  void put(config::FunctionConfig function);
  // Removes the pool of `key`; it drains as on replacement. False when there was none.
  bool remove(std::string_view key);

  // Every current pool, by name order.
  void for_each(const std::function<void(FunctionPool&)>& visit) const;
  // Current and retired pools: what the node's ticker and shutdown must reach.
  void for_each_with_retired(const std::function<void(FunctionPool&)>& visit) const;
  // Forgets retired pools whose workers have all ended.
  void prune();
  [[nodiscard]] std::size_t retired_count() const { return retired_.size(); }

 private:
  void retire(std::shared_ptr<FunctionPool> pool, const std::string& why);

  EngineContext& context_;
  std::map<std::string, std::shared_ptr<FunctionPool>, std::less<>> pools_;
  std::vector<std::shared_ptr<FunctionPool>> retired_;
};

}  // namespace ember::engine
