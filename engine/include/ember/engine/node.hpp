// The node: every function's warm pool behind the Invoke API.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "ember/config/config.hpp"
#include "ember/engine/clock.hpp"
#include "ember/engine/reload.hpp"
#include "ember/image/image.hpp"
#include "ember/isolation/sandbox.hpp"
#include "ember/queue/event_queue.hpp"
#include "ember/runtime_api/control_api.hpp"
#include "ember/runtime_api/invoke_api.hpp"
#include "ember/runtime_api/log_api.hpp"

namespace ember::engine {

class AsyncDispatcher;
class FunctionPool;
class FunctionRegistry;
class ControlPlane;
class ScheduleRunner;
class ObjectNotifier;
struct EngineContext;
class SandboxPreparer;
class PythonZygote;

// The sandbox backends a node uses; `native` may be null when every function opts out.
struct Backends {
  std::unique_ptr<isolation::SandboxBackend> native;
  std::unique_ptr<isolation::SandboxBackend> process;
  std::unique_ptr<isolation::SandboxBackend> oci;  // `isolation: oci`; null when unused
};

struct NodeOptions {
  // Where ember's own runtimes live (runtimes/python/...).
  std::filesystem::path runtimes_dir;
  // libember-arm.so, with which the Python zygote's workers arm themselves
  // (isolation::default_arm_library_path()); empty: no zygote starts.
  std::filesystem::path arm_library;
  // Receives every log line of every function ("[function] line"); stdout by default.
  std::function<void(std::string_view function, std::string_view line)> echo;
  // The scheduler's clock; null: the steady clock sped up by time_scale (trace replays).
  Clock* clock = nullptr;
  double time_scale = 1.0;
  // The clock of timeouts (init, invocation, next-call) and of freezing idle workers; null:
  // the steady clock, never sped up. Tests pass a ManualClock and call tick() after moving it.
  Clock* deadline_clock = nullptr;
  // How often keep-alive, pre-warming and provisioning are checked (wall time). Zero: never
  // by itself; a test with a ManualClock calls tick().
  std::chrono::milliseconds tick_interval{50};
  // Total memory of the machine, for the default budget (80 %); 0: read /proc/meminfo.
  std::uint64_t machine_memory_mb = 0;
  // Every image function's unpacked image, by function name (`ember serve` unpacks them
  // before the node starts; the caller keeps them leased while the node runs).
  std::map<std::string, image::StoredImage> images;
  // The durable queue of asynchronous invocations (`ember serve` opens STATE_DIR's); null:
  // Event invocations are refused.
  std::unique_ptr<queue::EventQueue> event_queue;
};

class Node final : public runtime_api::InvokeService,
                   public runtime_api::StatusService,
                   public runtime_api::MetricsService,
                   public runtime_api::LogService {
 public:
  Node(const boost::asio::any_io_executor& executor, config::Config config, Backends backends,
       NodeOptions options);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node(Node&&) = delete;
  Node& operator=(Node&&) = delete;
  ~Node() override;

  boost::asio::awaitable<runtime_api::InvokeResult> invoke(
      runtime_api::InvokeRequest request) override;

  // Starts provisioned workers, the ticker, and hands out queued events.
  void start();
  // Runs the scheduler's time-driven work now (the ticker calls it).
  void tick();

  // Graceful: new invocations get 503, idle workers end, running ones may finish; queued
  // events stay queued.
  void drain();
  // Final: waiting and running invocations get 503 (running events stay queued); every worker
  // ends.
  void shutdown();

  // Everything `snapshot()` says, and per function its asynchronous events (queue depth and
  // age, from the store, and counters).
  boost::asio::awaitable<boost::json::object> status() override;
  // GET /metrics: every pool's figures and the node's, the event store's queue depths, and the
  // cost at node.cost's prices (docs/operating.md#metrics).
  boost::asio::awaitable<std::string> metrics() override;
  // GET /ember/v1/logs/NAME: the function's log lines (docs/operating.md#logs); a function
  // the node no longer serves still has the files it left.
  boost::asio::awaitable<bool> logs(runtime_api::LogQuery query,
                                    runtime_api::ResponseWriter& writer) override;

  // The pools and the node's capacity, without asking the event store; for tests.
  [[nodiscard]] boost::json::object snapshot() const;

  [[nodiscard]] const config::Config& config() const { return config_; }
  // Live workers of a function (any state but ended); for tests and `ember ps`.
  [[nodiscard]] std::size_t worker_count(std::string_view function) const;
  // Adds a function, or replaces the one of that name, while the node runs: invocations
  // already admitted finish on the old code (its busy workers end after them), new ones
  // start workers with the new. The caller has validated `function` as load_config() would.
  // `image`: an image function's unpacked image (checked as check_image_launch() does).
  void put_function(config::FunctionConfig function,
                    std::optional<image::StoredImage> image = std::nullopt);
  // Removes a function: new invocations get 404, running ones finish. False: no such function.
  bool remove_function(std::string_view name);
  [[nodiscard]] bool has_function(std::string_view name) const;
  // Serves the functions of a reloaded file (`ember reload`, SIGHUP): added ones start,
  // removed ones drain, and those whose settings differ or whose name is in `code_changed`
  // (a code directory's files or an image changed) are replaced: busy workers finish on what
  // they run, new workers start with the new. `images` has every image function's image.
  // Node settings are kept and reported in `not_applied`; a name the control plane made is
  // refused and nothing changes. The caller has validated `next` as ember serve would.
  ReloadOutcome reconfigure(config::Config next, std::map<std::string, image::StoredImage> images,
                            const std::set<std::string, std::less<>>& code_changed);
  // The Lambda control plane (CreateFunction, ...); it loaded the functions stored in
  // STATE_DIR when the node was made.
  [[nodiscard]] runtime_api::ControlService& control();
  // Pools of replaced or removed functions kept for their workers (forgotten by the next tick
  // after the last one ended); for tests.
  [[nodiscard]] std::size_t retired_pools() const;
  // Workers whose processes have not been reaped yet, across all functions.
  [[nodiscard]] std::size_t live_workers() const;
  // Runs `done` on the node's executor once live_workers() is 0 (soon, if it is now). Waiters
  // not run by the time the node is destroyed are dropped.
  void when_no_live_workers(std::function<void()> done);

 private:
  static std::uint64_t machine_memory_mb();
  bool evict_one(const FunctionPool* except);
  void start_zygotes();
  void start_zygote(const config::FunctionConfig& function);
  // Schedules and object notifications point into config_.functions: remade when it changes.
  void make_event_sources();
  void schedule_tick();

  config::Config config_;
  Backends backends_;
  std::unique_ptr<Clock> own_clock_;
  std::unique_ptr<Clock> own_deadline_clock_;
  std::unique_ptr<EngineContext> context_;
  // One per function with `zygote: true` (by name); before the pools, so they go after them.
  std::map<std::string, std::unique_ptr<PythonZygote>, std::less<>> zygotes_;
  // Zygotes of functions a reload changed: their forked workers may still run.
  std::vector<std::unique_ptr<PythonZygote>> retired_zygotes_;
  // Every function's pool; after the zygotes, so it goes before them.
  std::unique_ptr<FunctionRegistry> functions_;
  // After the pools: stops (joins its thread) before they and the backends go.
  std::unique_ptr<SandboxPreparer> preparer_;
  std::unique_ptr<SandboxPreparer> urgent_preparer_;
  std::chrono::milliseconds tick_interval_;
  std::unique_ptr<boost::asio::steady_timer> ticker_;
  // Stopped by shutdown() once the pools have settled their running events.
  std::shared_ptr<AsyncDispatcher> async_;
  // Functions' schedules; null when none has one (or there is no event queue).
  std::unique_ptr<ScheduleRunner> schedules_;
  // Object notifications of subscribed buckets; null when no function has `s3_events` (or
  // there is no event queue). Before async_ in destruction: it submits to it.
  std::unique_ptr<ObjectNotifier> notifier_;
  // Last: made once the pools of the file's functions are.
  std::unique_ptr<ControlPlane> control_;
  bool draining_ = false;
  bool shutting_down_ = false;
};

}  // namespace ember::engine
