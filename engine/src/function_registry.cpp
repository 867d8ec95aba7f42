#include "function_registry.hpp"

#include <algorithm>
#include <utility>

#include "function_pool.hpp"

namespace ember::engine {

std::string pool_key(std::string_view name, std::string_view version) {
  std::string key(name);
  if (version != "$LATEST") key.append(":").append(version);
  return key;
}

FunctionPool* FunctionRegistry::find(std::string_view key) const {
  const auto it = pools_.find(key);
  return it == pools_.end() ? nullptr : it->second.get();
}

void FunctionRegistry::put(config::FunctionConfig function) {
  const std::string name = pool_key(function);
  auto pool = std::make_shared<FunctionPool>(
      context_, std::make_shared<const config::FunctionConfig>(std::move(function)));
  const auto it = pools_.find(name);
  if (it == pools_.end()) {
    pools_.emplace(name, std::move(pool));
    return;
  }
  auto old = std::exchange(it->second, std::move(pool));
  retire(std::move(old), "function replaced");
}

bool FunctionRegistry::remove(std::string_view key) {
  const auto it = pools_.find(key);
  if (it == pools_.end()) return false;
  auto old = std::move(it->second);
  pools_.erase(it);
  retire(std::move(old), "function deleted");
  return true;
}

void FunctionRegistry::retire(std::shared_ptr<FunctionPool> pool, const std::string& why) {
  pool->drain(why);
  if (pool->worker_count() != 0) retired_.push_back(std::move(pool));
}

void FunctionRegistry::for_each(const std::function<void(FunctionPool&)>& visit) const {
  for (const auto& [name, pool] : pools_) visit(*pool);
}

void FunctionRegistry::for_each_with_retired(
    const std::function<void(FunctionPool&)>& visit) const {
  for (const auto& [name, pool] : pools_) visit(*pool);
  // A copy: a visit may end workers, and so prune.
  const auto retired = retired_;
  for (const auto& pool : retired) visit(*pool);
}

void FunctionRegistry::prune() {
  std::erase_if(retired_, [](const auto& pool) { return pool->worker_count() == 0; });
}

}  // namespace ember::engine
