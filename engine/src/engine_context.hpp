// What every pool and worker of a node shares.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ember/config/config.hpp"
#include "ember/engine/clock.hpp"
#include "ember/image/image.hpp"
#include "ember/isolation/sandbox.hpp"
#include "function_log.hpp"
#include "function_metrics.hpp"
#include "live_workers.hpp"
#include "recent_reports.hpp"

namespace ember::engine {

class FunctionPool;
class SandboxPreparer;
class PythonZygote;

// The node-wide budget every worker start draws from (issue: memory budget, worker cap).
struct NodeCapacity {
  std::uint64_t budget_mb = 0;  // sum of the memory_mb of live workers may not exceed this
  std::uint32_t max_workers = 0;
  std::uint64_t used_mb = 0;
  std::uint32_t workers = 0;

  [[nodiscard]] bool fits(std::uint64_t mb) const {
    return used_mb + mb <= budget_mb && workers < max_workers;
  }
  void take(std::uint64_t mb) {
    used_mb += mb;
    ++workers;
  }
  void give_back(std::uint64_t mb) {
    used_mb -= mb;
    --workers;
  }
};

// A pool's key: NAME for $LATEST, NAME:N for published version N (what `ember ps`, the status
// JSON and the event queue's targets show). Defined in function_registry.cpp.
std::string pool_key(std::string_view name, std::string_view version);

struct EngineContext {
  boost::asio::any_io_executor executor;
  // Native sandboxes (null when no function uses them) and plain processes (`isolation: none`).
  isolation::SandboxBackend* native_backend;
  isolation::SandboxBackend& process_backend;
  // An OCI runtime's sandboxes (`isolation: oci`); null when no function uses them.
  isolation::SandboxBackend* oci_backend;
  // The unpacked image of each image function, by pool key (NodeOptions::images, and the
  // control plane's image functions and their versions).
  std::map<std::string, image::StoredImage> images;
  const config::NodeConfig& node;
  std::filesystem::path runtimes_dir;
  std::filesystem::path log_dir;  // state_dir/logs
  std::function<void(std::string_view function, std::string_view line)> echo;
  // What each function's log streams share (caps, files, drop counts, followers), by name; kept
  // for the node's lifetime, so counts and files outlive a function's replacement.
  std::map<std::string, std::shared_ptr<FunctionLog>, std::less<>> logs{};
  std::shared_ptr<FunctionLog> function_log(const config::FunctionConfig& f) {
    auto& log = logs[f.name];
    if (!log) {
      log = std::make_shared<FunctionLog>(log_dir / f.name, f.name, log_limits(f, node));
    } else {
      log->set_limits(log_limits(f, node));
    }
    return log;
  }
  Clock& clock;  // the scheduler's: keep-alive, pre-warming, idle accounting (maybe sped up)
  // Timeouts (init, invocation, next-call, queued waiters) and freezing after idle: the wall
  // clock's pace even when the scheduler's runs faster; a ManualClock in tests.
  Clock& deadline_clock;
  NodeCapacity capacity{};
  // Sandbox creation times, kept while node.metrics is on (this thread's; see NodeMetrics).
  NodeMetrics metrics{};
  // The last REPORTs of every function, kept while node.metrics is on (this thread's).
  RecentReports recent_reports{};
  // Records how long making a sandbox took; `ahead`: for a pool's prepared sandboxes.
  void sandbox_made(std::chrono::nanoseconds took, bool ahead) {
    if (!node.metrics) return;
    const double seconds = std::chrono::duration<double>(took).count();
    (ahead ? metrics.sandbox_ahead : metrics.sandbox_at_start).observe(seconds);
  }
  // Ends the least recently used idle worker of a function other than `except`; false when
  // there is none. Set by the node, which sees every pool.
  std::function<bool(const FunctionPool* except)> evict_one{};
  // Memory (MB) and count of the idle workers of other functions that eviction could end.
  std::function<std::pair<std::uint64_t, std::uint32_t>(const FunctionPool* except)> evictable{};
  // A worker of `function` went idle or ended: room for the asynchronous events waiting for it.
  // Set by the node when it has an event queue.
  std::function<void(std::string_view function)> async_room_opened{};
  // Makes the pools' prepared sandboxes off the engine's thread; set by the node.
  SandboxPreparer* preparer = nullptr;
  // Makes the native sandboxes a worker start waits for (none prepared), at normal priority,
  // so the engine's thread goes on serving meanwhile.
  SandboxPreparer* urgent_preparer = nullptr;
  // The zygote that forks this function's workers; null when it has none (not a zygote
  // function, not native, or its zygote could not start). Set by the node.
  std::function<PythonZygote*(const config::FunctionConfig&)> zygote_for{};
  // libember-arm.so, loaded by each zygote (NodeOptions::arm_library).
  std::filesystem::path arm_library{};
  std::uint64_t next_worker_number = 1;
  // Workers not yet destroyed, i.e. not yet reaped. Shared because a worker can outlive the
  // node by a moment (its last coroutine holds it).
  std::shared_ptr<LiveWorkers> live_workers;

  [[nodiscard]] isolation::SandboxBackend& backend_for(const config::FunctionConfig& f) const {
    if (f.isolation == config::Isolation::kOci && oci_backend != nullptr) return *oci_backend;
    return f.isolation == config::Isolation::kNone || native_backend == nullptr ? process_backend
                                                                                : *native_backend;
  }

  // Sandboxes made on a thread of their own (SandboxPreparer): everything but plain processes.
  [[nodiscard]] bool is_isolated(const isolation::SandboxBackend& backend) const {
    return &backend != &process_backend;
  }

  // The image function `f` runs; null for code functions.
  [[nodiscard]] const image::StoredImage* image_for(const config::FunctionConfig& f) const {
    const auto it = images.find(pool_key(f.name, f.version));
    return it == images.end() ? nullptr : &it->second;
  }
};

}  // namespace ember::engine
