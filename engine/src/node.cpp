#include "ember/engine/node.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <fstream>
#include <limits>

#include "async_dispatcher.hpp"
#include "control_plane.hpp"
#include "engine_context.hpp"
#include "function_pool.hpp"
#include "function_registry.hpp"
#include "log_reader.hpp"
#include "metrics_snapshot.hpp"
#include "object_notifier.hpp"
#include "python_zygote.hpp"
#include "sandbox_preparer.hpp"
#include "schedule_runner.hpp"

namespace ember::engine {

namespace {

// A function's log counters in the status (`ember ps`, docs/operating.md#logs).
boost::json::object log_status(const EngineContext& context, std::string_view function) {
  LogDrops drops;
  if (const auto it = context.logs.find(function); it != context.logs.end()) {
    drops = it->second->drops();
  }
  return {{"capped_lines", drops.capped_lines},
          {"capped_bytes", drops.capped_bytes},
          {"disk_dropped_lines", drops.disk_lines},
          {"disk_dropped_bytes", drops.disk_bytes}};
}

metrics::Prices prices_of(const config::CostConfig& cost) {
  return {.usd_per_million_requests = cost.usd_per_million_requests,
          .usd_per_gb_second = cost.usd_per_gb_second,
          .free_requests = cost.free_requests,
          .free_gb_seconds = cost.free_gb_seconds};
}

boost::json::object usage_json(const metrics::Usage& usage, const metrics::Prices& prices) {
  const auto charge = metrics::charge(usage, prices);
  return boost::json::object{{"requests", usage.requests},
                             {"gb_seconds", usage.gb_seconds()},
                             {"requests_usd", charge.requests_usd},
                             {"compute_usd", charge.compute_usd},
                             {"cost_usd", charge.total_usd()}};
}

}  // namespace

using runtime_api::InvocationType;
using runtime_api::InvokeResult;
using runtime_api::ServiceError;

Node::Node(const boost::asio::any_io_executor& executor, config::Config config, Backends backends,
           NodeOptions options)
    : config_(std::move(config)),
      backends_(std::move(backends)),
      tick_interval_(options.tick_interval) {
  if (options.clock == nullptr) {
    own_clock_ = std::make_unique<SteadyClock>(options.time_scale);
    options.clock = own_clock_.get();
  }
  if (options.deadline_clock == nullptr) {
    own_deadline_clock_ = std::make_unique<SteadyClock>();
    options.deadline_clock = own_deadline_clock_.get();
  }
  context_ = std::make_unique<EngineContext>(EngineContext{
      .executor = executor,
      .native_backend = backends_.native.get(),
      .process_backend = *backends_.process,
      .oci_backend = backends_.oci.get(),
      .images = std::move(options.images),
      .node = config_.node,
      .runtimes_dir = std::move(options.runtimes_dir),
      .log_dir = config_.node.state_dir / "logs",
      .echo = std::move(options.echo),
      .clock = *options.clock,
      .deadline_clock = *options.deadline_clock,
      .live_workers = std::make_shared<LiveWorkers>(executor),
  });
  context_->arm_library = std::move(options.arm_library);
  preparer_ = std::make_unique<SandboxPreparer>(executor, /*background=*/true);
  context_->preparer = preparer_.get();
  urgent_preparer_ = std::make_unique<SandboxPreparer>(executor, /*background=*/false);
  context_->urgent_preparer = urgent_preparer_.get();
  auto& capacity = context_->capacity;
  const auto machine_mb =
      options.machine_memory_mb != 0 ? options.machine_memory_mb : machine_memory_mb();
  capacity.budget_mb =
      config_.node.memory_budget_mb != 0 ? config_.node.memory_budget_mb : machine_mb * 8 / 10;
  capacity.max_workers = config_.node.max_workers;
  context_->evict_one = [this](const FunctionPool* except) { return evict_one(except); };
  context_->evictable = [this](const FunctionPool* except) {
    std::pair<std::uint64_t, std::uint32_t> total{};
    functions_->for_each([&](FunctionPool& pool) {
      if (&pool == except) return;
      const auto [mb, n] = pool.evictable();
      total.first += mb;
      total.second += n;
    });
    return total;
  };
  functions_ = std::make_unique<FunctionRegistry>(*context_);
  make_bucket_directories(config_, *context_);
  start_zygotes();
  for (const auto& function : config_.functions) functions_->put(function);
  if (options.event_queue) {
    async_ = std::make_shared<AsyncDispatcher>(
        *context_, config_, std::move(options.event_queue),
        [this](std::string_view name) { return functions_->find(name); });
    context_->async_room_opened = [weak = std::weak_ptr(async_)](std::string_view name) {
      if (auto async = weak.lock()) async->dispatch(name);
    };
  }
  make_event_sources();
  control_ = std::make_unique<ControlPlane>(*this, executor, [](const std::string& problem) {
    std::fprintf(stderr, "%s\n", problem.c_str());
  });
}

runtime_api::ControlService& Node::control() { return *control_; }

void Node::start_zygotes() {
  for (const auto& function : config_.functions) start_zygote(function);
  context_->zygote_for = [this](const config::FunctionConfig& function) -> PythonZygote* {
    if (!function.zygote || &context_->backend_for(function) != context_->native_backend) {
      return nullptr;
    }
    const auto it = zygotes_.find(function.name);
    return it == zygotes_.end() ? nullptr : it->second.get();
  };
}

void Node::start_zygote(const config::FunctionConfig& function) {
  if (!function.zygote || &context_->backend_for(function) != context_->native_backend) return;
  // One per function: forked workers share their zygote's address-space layout, stack
  // canary and hash secret, which must not be shared between functions.
  auto zygote =
      PythonZygote::start({function.interpreter, context_->runtimes_dir, context_->arm_library});
  if (!zygote) {
    // Its functions start a fresh interpreter per worker instead, as without `zygote`.
    if (context_->echo) {
      context_->echo(function.name, "ember: the Python zygote for " +
                                        function.interpreter.string() + " did not start (" +
                                        zygote.error().message() +
                                        "); workers start a fresh interpreter");
    }
    return;
  }
  zygotes_.emplace(function.name, std::move(*zygote));
}

void Node::make_event_sources() {
  if (!async_) return;
  const bool scheduled = std::any_of(config_.functions.begin(), config_.functions.end(),
                                     [](const auto& f) { return !f.schedules.empty(); });
  if (scheduled) schedules_ = std::make_unique<ScheduleRunner>(*context_, config_, *async_);
  const bool subscribed = std::any_of(config_.functions.begin(), config_.functions.end(),
                                      [](const auto& f) { return !f.s3_events.empty(); });
  if (subscribed) notifier_ = std::make_unique<ObjectNotifier>(*context_, config_, *async_);
}

Node::~Node() {
  // A destructor cannot report: what shutdown() could not end is said on stderr, and the
  // workers' own destructors still kill and reap what is left.
  try {
    shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember: shutting the node down failed: %s\n", e.what());
  }
  context_->live_workers->forget_waiters();
}

std::uint64_t Node::machine_memory_mb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") return kib / 1024;
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

bool Node::evict_one(const FunctionPool* except) {
  FunctionPool* victim = nullptr;
  std::optional<Clock::TimePoint> oldest;
  functions_->for_each([&](FunctionPool& pool) {
    if (&pool == except) return;
    const auto since = pool.oldest_idle();
    if (since && (!oldest || *since < *oldest)) {
      oldest = since;
      victim = &pool;
    }
  });
  if (victim == nullptr) return false;
  victim->evict_oldest_idle();
  return true;
}

void Node::start() {
  if (async_) async_->start();
  if (notifier_) notifier_->start();
  tick();
  if (tick_interval_.count() == 0) return;
  ticker_ = std::make_unique<boost::asio::steady_timer>(context_->executor);
  schedule_tick();
}

void Node::schedule_tick() {
  ticker_->expires_after(tick_interval_);
  ticker_->async_wait([this](boost::system::error_code ec) {
    if (ec || shutting_down_) return;
    tick();
    schedule_tick();
  });
}

void Node::tick() {
  const auto now = context_->clock.now();
  functions_->for_each_with_retired([now](FunctionPool& pool) { pool.tick(now); });
  functions_->prune();
  if (async_ && !draining_ && !shutting_down_) {
    if (schedules_) schedules_->tick();
    async_->tick();
  }
}

void Node::drain() {
  if (draining_) return;
  draining_ = true;
  // `ember logs --follow` readers end: the node is going away.
  for (auto& [name, log] : context_->logs) log->close_followers();
  if (async_) async_->drain();
  functions_->for_each_with_retired([](FunctionPool& pool) { pool.drain(); });
}

boost::asio::awaitable<boost::json::object> Node::status() {
  auto out = snapshot();
  if (!async_ || shutting_down_) co_return out;
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                          AsyncDispatcher::StatusByFunction)>;
  auto channel = std::make_shared<Channel>(context_->executor, 1);
  async_->status([channel](AsyncDispatcher::StatusByFunction events) {
    channel->try_send(boost::system::error_code{}, std::move(events));
  });
  auto [ec, events] =
      co_await channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) co_return out;
  for (auto& function : out["functions"].as_array()) {
    auto& object = function.as_object();
    const auto it = events.find(std::string_view(object["name"].as_string()));
    if (it != events.end()) object["async"] = std::move(it->second);
    if (schedules_) object["schedules"] = schedules_->describe(object["name"].as_string());
  }
  co_return out;
}

boost::json::object Node::snapshot() const {
  const auto now = context_->clock.now();
  boost::json::object out;
  boost::json::array functions;
  const auto prices = prices_of(config_.node.cost);
  metrics::Usage total;
  functions_->for_each([&](FunctionPool& pool) {
    auto function = pool.status(now);
    function["logs"] = log_status(*context_, pool.function().name);
    if (config_.node.metrics) function["billed"] = usage_json(pool.billed(), prices);
    total.add(pool.billed());
    functions.push_back(std::move(function));
  });
  out["functions"] = std::move(functions);
  if (config_.node.metrics) {
    // `ember cost`: the node's totals and the free tier's share, at node.cost's prices.
    auto cost = usage_json(total, prices);
    const auto tier = metrics::free_tier(total, prices);
    cost["usd_per_million_requests"] = prices.usd_per_million_requests;
    cost["usd_per_gb_second"] = prices.usd_per_gb_second;
    cost["free_tier"] = boost::json::object{{"free_requests", prices.free_requests},
                                            {"free_gb_seconds", prices.free_gb_seconds},
                                            {"requests", tier.requests},
                                            {"gb_seconds", tier.gb_seconds},
                                            {"covered_usd", tier.covered.total_usd()}};
    cost["due_usd"] = tier.due.total_usd();
    out["cost"] = std::move(cost);
    // The status page's recent invocations, newest first.
    out["recent"] = context_->recent_reports.to_json();
  } else {
    out["cost"] = nullptr;
    out["recent"] = nullptr;
  }
  const auto& capacity = context_->capacity;
  out["memory_budget_mb"] = capacity.budget_mb;
  out["memory_used_mb"] = capacity.used_mb;
  out["max_workers"] = capacity.max_workers;
  out["workers"] = capacity.workers;
  if (notifier_) out["buckets"] = notifier_->describe();
  return out;
}

boost::asio::awaitable<std::string> Node::metrics() {
  // This thread's figures; with shards, each shard's would be asked for (a post each) and
  // added the same way.
  MetricsSnapshot snapshot;
  functions_->for_each([&](FunctionPool& pool) {
    auto& function = snapshot.functions[pool_key(pool.function())];
    pool.add_metrics(function);
    // A function's log counters are its own, whichever version wrote: shown with $LATEST.
    if (pool.function().version != "$LATEST") return;
    if (const auto it = context_->logs.find(pool.function().name); it != context_->logs.end()) {
      function.logs = it->second->drops();
    }
  });
  snapshot.node.merge(context_->metrics);
  const auto& capacity = context_->capacity;
  snapshot.memory_budget_mb = capacity.budget_mb;
  snapshot.memory_used_mb = capacity.used_mb;
  snapshot.workers = capacity.workers;
  snapshot.max_workers = capacity.max_workers;
  snapshot.has_event_queue = async_ != nullptr;
  if (async_ && !shutting_down_) {
    // The queue's depths come from the store's own thread.
    using Channel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                            AsyncDispatcher::FiguresByFunction)>;
    auto channel = std::make_shared<Channel>(context_->executor, 1);
    async_->figures([channel](AsyncDispatcher::FiguresByFunction figures) {
      channel->try_send(boost::system::error_code{}, std::move(figures));
    });
    auto [ec, figures] =
        co_await channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!ec) {
      for (auto& [name, f] : figures) {
        const auto it = snapshot.functions.find(name);
        if (it != snapshot.functions.end()) it->second.async = f;
      }
    }
  }
  co_return render_metrics(snapshot, prices_of(config_.node.cost));
}

std::size_t Node::worker_count(std::string_view function) const {
  const auto* pool = functions_->find(function);
  return pool == nullptr ? 0 : pool->worker_count();
}

void Node::put_function(config::FunctionConfig function, std::optional<image::StoredImage> image) {
  const std::string name = function.name;
  // By pool key: a version may run another image than $LATEST.
  if (image) {
    context_->images.insert_or_assign(pool_key(function), std::move(*image));
  } else {
    context_->images.erase(pool_key(function));
  }
  functions_->put(std::move(function));
  // Events that waited for a function of this name may run now.
  if (context_->async_room_opened) context_->async_room_opened(name);
}

bool Node::remove_function(std::string_view name) { return functions_->remove(name); }

bool Node::has_function(std::string_view name) const { return functions_->contains(name); }

// Not a coroutine: it returns the awaitable of the answer it picked.
boost::asio::awaitable<bool> Node::logs(runtime_api::LogQuery query,
                                        runtime_api::ResponseWriter& writer) {
  std::shared_ptr<FunctionLog> log;
  if (const auto* pool = functions_->find(query.function)) {
    log = context_->function_log(pool->function());
  } else if (const auto it = context_->logs.find(query.function); it != context_->logs.end()) {
    log = it->second;
  } else if (config::is_function_name(query.function)) {
    std::error_code ec;
    const auto dir = context_->log_dir / query.function;
    if (std::filesystem::is_directory(dir, ec)) {
      config::FunctionConfig defaults;
      defaults.log_bytes_per_invocation = config_.node.log_bytes_per_invocation;
      defaults.log_bytes_per_second = config_.node.log_bytes_per_second;
      defaults.log_file_bytes = config_.node.log_file_bytes;
      defaults.log_files = config_.node.log_files;
      log = std::make_shared<FunctionLog>(dir, query.function, log_limits(defaults, config_.node));
      context_->logs.emplace(query.function, log);
    }
  }
  if (!log) {
    return writer.send(runtime_api::log_error_reply(
        boost::beast::http::status::not_found, "ResourceNotFoundException",
        "Function not found: " + query.function +
            " (the node serves no such function and has "
            "no logs of it)"));
  }
  return serve_logs(context_->executor, std::move(log), std::move(query), writer);
}

std::size_t Node::retired_pools() const { return functions_->retired_count(); }

std::size_t Node::live_workers() const { return context_->live_workers->count(); }

void Node::when_no_live_workers(std::function<void()> done) {
  context_->live_workers->when_none(std::move(done));
}

boost::asio::awaitable<InvokeResult> Node::invoke(runtime_api::InvokeRequest request) {
  InvokeResult refusal;
  const auto& node = config_.node;
  const auto& ref = request.function;
  const auto arn =
      runtime_api::function_arn(ref.region.value_or(node.region),
                                ref.account_id.value_or(node.account_id), ref.name, ref.qualifier);
  if (shutting_down_ || draining_) {
    refusal.service_error = ServiceError::kServiceUnavailable;
    refusal.message = "The node is shutting down";
    co_return refusal;
  }
  const bool other_node = (ref.region && *ref.region != node.region) ||
                          (ref.account_id && *ref.account_id != node.account_id);
  // $LATEST, a published version, or the version an alias picks (by its weights).
  const auto target = other_node ? std::nullopt : control_->route(ref.name, ref.qualifier);
  auto* const pool = target ? functions_->find(target->pool_key) : nullptr;
  if (pool == nullptr) {
    refusal.service_error = ServiceError::kResourceNotFound;
    refusal.message = "Function not found: " + arn;
    co_return refusal;
  }
  refusal.executed_version = target->version;
  if (request.type == InvocationType::kDryRun) {
    refusal.dry_run = true;
    co_return refusal;
  }
  if (request.type == InvocationType::kEvent) {
    if (!async_) {
      refusal.service_error = ServiceError::kInvalidParameterValue;
      refusal.message =
          "Asynchronous invocation (X-Amz-Invocation-Type: Event) needs the node's event queue, "
          "which this node was started without; invoke with RequestResponse";
      co_return refusal;
    }
    // The event runs in the pool chosen now (an alias's weights are applied at acceptance).
    request.function.name = target->pool_key;
    request.function.qualifier.reset();
    auto accepted = co_await async_->accept(request);
    accepted.executed_version = target->version;
    co_return accepted;
  }

  const auto sync = std::make_shared<SyncInvocation>(context_->executor, std::move(request), arn);
  const std::shared_ptr<Invocation> invocation = sync;
  if (auto rejected = pool->admit(invocation)) co_return std::move(*rejected);
  auto [ec, result] =
      co_await sync->done().async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) {
    result = InvokeResult{};
    result.service_error = ServiceError::kService;
    result.message = "Invocation " + invocation->id() + " was abandoned: " + ec.message();
  }
  result.executed_version = target->version;
  co_return std::move(result);
}

void Node::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& [name, log] : context_->logs) log->close_followers();
  if (ticker_) ticker_->cancel();
  if (notifier_) notifier_->stop();
  preparer_->stop();
  urgent_preparer_->stop();
  functions_->for_each_with_retired([](FunctionPool& pool) { pool.shutdown(); });
  // The pools have settled every running event (back to the queue); the store takes it.
  if (async_) async_->stop();
}

}  // namespace ember::engine
