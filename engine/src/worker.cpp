#include "worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <random>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/limits.hpp"
#include "function_pool.hpp"
#include "worker_launch.hpp"

namespace ember::engine {

namespace asio = boost::asio;
using runtime_api::InvokeResult;
using runtime_api::RuntimeRefusal;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// A runtime that prints without newlines still gets its output logged in pieces this big.
constexpr std::size_t kMaxLineBytes = 256 * 1024;
constexpr std::size_t kMaxInitLogBytes = 64 * 1024;

std::string error_payload(std::string_view error_type, std::string_view message) {
  return runtime_api::error_body(error_type, message);
}

bool is_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

// X-Ray style: Root=1-<epoch hex>-<96 random bits>;Parent=<64 bits>;Sampled=0. Trace ids need
// not be secret: a generator seeded once per thread saves a getrandom() per invocation.
std::string new_trace_id() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device entropy;
    std::seed_seq seed{entropy(), entropy(), entropy(), entropy()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kDigits[] = "0123456789abcdef";
  char text[] = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";
  const auto put_hex = [&](std::size_t at, std::uint64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      text[at + static_cast<std::size_t>(i)] = kDigits[value & 0xFU];
      value >>= 4U;
    }
  };
  put_hex(7, static_cast<std::uint64_t>(std::time(nullptr)) & 0xFFFFFFFFU, 8);
  put_hex(16, generator() & 0xFFFFFFFFU, 8);
  put_hex(24, generator(), 16);
  put_hex(48, generator(), 16);
  return {text, sizeof text - 1};
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Worker::Worker(EngineContext& context, const config::FunctionConfig& function,
               std::weak_ptr<FunctionPool> pool, WorkerKind kind, std::string id)
    : context_(context),
      live_workers_(context.live_workers),
      function_(function),
      pool_(std::move(pool)),
      kind_(kind),
      id_(std::move(id)),
      output_(context.executor),
      exit_watch_(context.executor),
      events_(context.executor, 1),
      deadline_(context.executor),
      init_deadline_(context.executor),
      freeze_timer_(context.executor) {
  created_at_ = context.clock.now();
  ++*live_workers_;
}

// The sandbox's own destructor kills and reaps whatever is left.
Worker::~Worker() {
  sandbox_.reset();
  --*live_workers_;
}

std::string new_worker_id(EngineContext& context, const config::FunctionConfig& function) {
  return function.name + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(context.next_worker_number++);
}

std::optional<StartFailure> Worker::start(std::optional<PreparedWorker> prepared,
                                          std::optional<Steady::time_point> requested_at) {
  start_requested_at_ = requested_at.value_or(Steady::now());
  const auto platform_failure = [](std::string message) {
    return StartFailure{"", std::move(message), "", true, ""};
  };
  try {
    log_ = std::make_unique<LogStream>(context_.log_dir, function_.name, context_.echo);
  } catch (const std::exception& e) {
    return platform_failure(e.what());
  }

  isolation::UniqueFd read_end;
  isolation::UniqueFd write_end;
  if (prepared) {
    read_end = std::move(prepared->output_read);
    write_end = std::move(prepared->output_write);
  } else {
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) < 0) {
      return platform_failure(isolation::last_error("pipe2").message());
    }
    read_end = isolation::UniqueFd(pipe_fds[0]);
    write_end = isolation::UniqueFd(pipe_fds[1]);
  }

  const LaunchNames names{
      id_, log_->name(),
      kind_ == WorkerKind::kProvisioned ? "provisioned-concurrency" : "on-demand"};
  auto& backend = context_.backend_for(function_);
  const auto spec = make_sandbox_spec(context_, backend, function_, names, write_end.get());
  if (prepared && prepared->made_ahead) sandbox_prepared_at_ = prepared->ready_at;
  auto sandbox = prepared ? prepared->sandbox->start({spec.argv, spec.env, spec.working_dir})
                          : backend.create(spec);
  if (!sandbox && prepared && !sandbox.error().bad_entrypoint) {
    // The prepared sandbox died while it waited (its init killed, the host out of memory):
    // this start makes its own, as if none had been waiting.
    log("ember: prepared sandbox " + id_ + " unusable (" + sandbox.error().message() +
        "); making one now");
    sandbox_prepared_at_.reset();
    sandbox = backend.create(spec);
  }
  if (!sandbox) {
    const auto& error = sandbox.error();
    if (!error.bad_entrypoint) {
      return platform_failure("start worker " + id_ + ": " + error.message());
    }
    // Lambda's answer when the runtime cannot be executed.
    log("INIT_REPORT Init Duration: 0.00 ms\tPhase: init\tStatus: error\tError Type: "
        "Runtime.InvalidEntrypoint");
    log("ember: " + error.message());
    return StartFailure{"Runtime.InvalidEntrypoint", error.message(), "", false, init_log_};
  }
  sandbox_ = std::move(*sandbox);
  write_end.reset();  // the worker holds the only write end now, so EOF means it is gone
  try {
    log_->open();  // while the runtime execs
  } catch (const std::exception& e) {
    return platform_failure(e.what());
  }

  output_.assign(read_end.release());
  const int exit_fd = ::fcntl(sandbox_->exit_fd(), F_DUPFD_CLOEXEC, 0);
  if (exit_fd < 0) return platform_failure(isolation::last_error("dup pidfd").message());
  exit_watch_.assign(exit_fd);

  auto listener = sandbox_->take_runtime_api_listener();
  boost::system::error_code ec;
  asio::ip::tcp::acceptor acceptor(context_.executor);
  acceptor.assign(asio::ip::tcp::v4(), listener.release(), ec);
  if (ec) return platform_failure("runtime API listener of " + id_ + ": " + ec.message());
  runtime_api_ = std::make_shared<runtime_api::HttpServer>(
      std::move(acceptor), runtime_api::make_runtime_api(weak_from_this()),
      runtime_api::runtime_api_limits());
  runtime_api_->start();

  auto self = shared_from_this();
  asio::co_spawn(
      context_.executor, [self] { return self->watch_exit(); }, asio::detached);
  asio::co_spawn(
      context_.executor, [self] { return self->read_output(); }, asio::detached);

  init_deadline_.expires_after(kInitTimeout);
  init_deadline_.async_wait([weak = weak_from_this()](boost::system::error_code wait_ec) {
    auto worker = weak.lock();
    if (wait_ec || !worker || worker->state() != WorkerState::kInitialising) return;
    worker->sandbox_->kill_all();
    worker->fail_start(StartFailure{
        "Sandbox.Timedout",
        "Init phase timed out after " + std::to_string(kInitTimeout.count()) + ".00 seconds", "",
        false, ""});
  });
  return std::nullopt;
}

void Worker::park() {
  parked_before_ = true;
  init_duration_.reset();  // nobody waited for this init
  if (!context_.node.freeze_idle || frozen_) return;
  // Only a worker that stays idle is frozen: a busy function's workers would otherwise pay
  // a freeze and a thaw (a few hundred microseconds on cgroup v1) on every invocation.
  freeze_at_ = Steady::now() + context_.node.freeze_idle_after;
  if (!freeze_armed_) arm_freeze_timer();
}

void Worker::arm_freeze_timer() {
  freeze_armed_ = true;
  freeze_timer_.expires_at(freeze_at_);
  freeze_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto worker = weak.lock();
    if (!worker) return;
    worker->freeze_armed_ = false;
    if (!ec) worker->on_freeze_timer();
  });
}

void Worker::on_freeze_timer() {
  // Busy since it was parked: the next park() arms the timer again.
  if (retired_ || frozen_ || state() != WorkerState::kIdle || current_) return;
  if (Steady::now() < freeze_at_) {  // parked again since the timer was armed
    arm_freeze_timer();
    return;
  }
  if (auto frozen = sandbox_->freeze(); frozen) {
    frozen_ = true;
  } else {
    log("ember: could not freeze idle worker " + id_ + ": " + frozen.error().message());
  }
}

void Worker::set_deadline(Deadline kind, std::chrono::seconds after) {
  deadline_kind_ = kind;
  if (kind == Deadline::kNone) return;
  deadline_at_ = Steady::now() + after;
  // Every deadline is timeout_s away, so one armed earlier expires no later than this one;
  // on_deadline() re-arms it for the rest.
  if (!deadline_armed_) arm_deadline();
}

void Worker::arm_deadline() {
  deadline_armed_ = true;
  deadline_.expires_at(deadline_at_);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto worker = weak.lock();
    if (!worker) return;
    worker->deadline_armed_ = false;
    if (!ec) worker->on_deadline();
  });
}

void Worker::on_deadline() {
  if (retired_ || deadline_kind_ == Deadline::kNone) return;
  if (Steady::now() < deadline_at_) {
    arm_deadline();
    return;
  }
  const auto kind = std::exchange(deadline_kind_, Deadline::kNone);
  if (kind == Deadline::kInvocation && current_) {
    on_timeout();
  } else if (kind == Deadline::kNextCall && state() == WorkerState::kAnswered) {
    // The pool counts on an answered worker coming back to `next`; one that never does is
    // hung, and is ended so it cannot hold a waiter.
    log("ember: the runtime did not call next within " + std::to_string(function_.timeout_s) +
        " s of answering; ending this worker");
    retire("did not return to next");
  }
}

void Worker::assign(std::shared_ptr<Invocation> invocation) {
  if (frozen_) {
    frozen_ = false;
    if (auto thawed = sandbox_->thaw(); !thawed) {
      log("ember: could not thaw worker " + id_ + ": " + thawed.error().message());
    }
  }
  protocol_.assign(invocation->id());
  current_ = std::move(invocation);
  assigned_at_ = Steady::now();
  if (init_duration_) current_->capture_log(init_log_, /*raw=*/true);
  // Written once the event is handed out (see next()), not before it.
  log(start_line(current_->id()), /*flush=*/false);

  const auto timeout = std::chrono::seconds(function_.timeout_s);
  const auto& request = current_->request();
  runtime_api::NextEvent event;
  event.request_id = request.request_id;
  event.deadline_epoch_ms = epoch_ms(std::chrono::system_clock::now() + timeout);
  event.invoked_function_arn = current_->invoked_arn();
  event.trace_id = new_trace_id();
  event.client_context = request.client_context;
  event.payload = request.payload;

  set_deadline(Deadline::kInvocation, timeout);
  events_.try_send(boost::system::error_code{}, std::move(event));
}

asio::awaitable<std::optional<runtime_api::NextEvent>> Worker::next(RuntimeRefusal& refusal) {
  auto self = shared_from_this();
  const WorkerState before = protocol_.state();
  if (before == WorkerState::kInitialising) {
    if (auto limited = sandbox_->end_init_burst(); !limited) {
      // A worker that keeps the whole CPU would starve its neighbours: it ends (and its
      // start fails with the exit), rather than serve unlimited.
      log("ember: could not apply the CPU quota after init: " + limited.error().message());
      sandbox_->kill_all();  // its exit fails the start (Runtime.ExitError, signal: killed)
      refusal = RuntimeRefusal::kWorkerGone;
      co_return std::nullopt;
    }
  }
  if (auto refused = protocol_.begin_next()) {
    refusal = *refused;
    co_return std::nullopt;
  }
  if (before == WorkerState::kInitialising) {
    init_deadline_.cancel();
    init_done_at_ = Steady::now();

    // Provisioned and pre-warmed workers start ahead of traffic: their init is nobody's.
    if (kind_ == WorkerKind::kOnDemand) {
      init_duration_ = init_done_at_ - start_requested_at_;
    }
  }
  if (before == WorkerState::kAnswered) set_deadline(Deadline::kNone, {});
  if (before == WorkerState::kInitialising || before == WorkerState::kAnswered) {
    if (auto pool = pool_.lock()) pool->worker_ready(self);
  }
  auto [ec, event] = co_await events_.async_receive(kTuple);
  const bool delivered = !ec && protocol_.state() == WorkerState::kBusy;
  protocol_.end_next(delivered);
  if (!delivered) {
    refusal = RuntimeRefusal::kWorkerGone;
    co_return std::nullopt;
  }
  handed_out_at_ = Steady::now();
  // START goes to the log right after the event is written to the runtime (this coroutine's
  // caller writes it before the posted flush runs), while the runtime works on it.
  asio::post(context_.executor, [weak = weak_from_this()] {
    if (auto worker = weak.lock()) worker->flush_log();
  });
  co_return std::move(event);
}

std::optional<RuntimeRefusal> Worker::response(const std::string& request_id,
                                               std::string content_type, std::string body) {
  if (auto refused = protocol_.check_answer(request_id)) return refused;
  InvokeResult result;
  if (!content_type.empty()) result.content_type = std::move(content_type);
  result.payload = std::move(body);
  finish(std::move(result), /*answered=*/true);
  return std::nullopt;
}

std::optional<RuntimeRefusal> Worker::error(const std::string& request_id, std::string error_type,
                                            std::string body) {
  if (auto refused = protocol_.check_answer(request_id)) return refused;
  InvokeResult result;
  result.function_error = "Unhandled";
  result.payload =
      is_json(body) && !body.empty() ? std::move(body) : error_payload(error_type, body);
  finish(std::move(result), /*answered=*/true);
  return std::nullopt;
}

void Worker::response_too_large(const std::string& request_id) {
  if (protocol_.check_answer(request_id)) return;
  InvokeResult result;
  result.function_error = "Unhandled";
  result.payload = error_payload("Function.ResponseSizeTooLarge",
                                 "Response payload size exceeded maximum allowed payload size (" +
                                     std::to_string(runtime_api::kMaxPayloadBytes) + " bytes).");
  finish(std::move(result), /*answered=*/true);
}

std::optional<RuntimeRefusal> Worker::init_error(std::string error_type, std::string body) {
  if (auto refused = protocol_.check_init_error()) return refused;
  std::string message;
  if (boost::system::error_code ec; !body.empty()) {
    auto parsed = boost::json::parse(body, ec);
    if (!ec && parsed.is_object()) {
      if (const auto* m = parsed.as_object().if_contains("errorMessage"); m && m->is_string()) {
        message = std::string(m->as_string());
      }
    }
  }
  // Lambda ends the environment after an init error; the runtime is expected to exit anyway.
  fail_start(StartFailure{std::move(error_type), std::move(message), std::move(body), false, ""});
  return std::nullopt;
}

void Worker::finish(InvokeResult result, bool answered) {
  drain_output();
  consume_output({}, /*flush_partial=*/true);
  const auto now = Steady::now();
  const auto duration = now - (protocol_.handed_out() ? handed_out_at_ : assigned_at_);
  if (sandbox_) peak_memory_bytes_ = std::max(peak_memory_bytes_, sandbox_->peak_memory_bytes());

  const std::string id = current_->id();
  log(end_line(id), /*flush=*/false);
  if (current_->request().want_timings) {
    result.cold = init_duration_.has_value();
    if (result.cold) {
      const auto& t = sandbox_->timings();
      if (sandbox_prepared_at_) {
        result.phases.push_back({"sandbox_prepared", *sandbox_prepared_at_});
      }
      result.phases.push_back({"sandbox_begin", start_requested_at_});
      // Init observes the exec after the fact; when it was scheduled only after the runtime
      // already called `next`, that call bounds the exec.
      const bool seen = t.spawned != Steady::time_point{};
      result.phases.push_back(
          {"spawned", seen ? std::min(t.spawned, init_done_at_) : init_done_at_});
      result.phases.push_back({"init_done", init_done_at_});
    }
    result.phases.push_back({"assigned", assigned_at_});
    if (protocol_.handed_out()) result.phases.push_back({"handed_out", handed_out_at_});
    result.phases.push_back({"answered", now});
  }
  ReportFields report;
  report.request_id = id;
  report.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(duration);
  report.memory_size_mb = function_.memory_mb;
  report.max_memory_used_bytes = peak_memory_bytes_;
  report.init_duration = std::exchange(init_duration_, std::nullopt);
  log(report_line(report));

  ++invocations_;
  last_used_ = context_.clock.now();
  if (auto pool = pool_.lock()) pool->invocation_finished();
  if (answered) {
    protocol_.answered();
    set_deadline(Deadline::kNextCall, std::chrono::seconds(function_.timeout_s));
  } else {
    set_deadline(Deadline::kNone, {});
    protocol_.abandoned();
  }
  auto invocation = std::move(current_);
  invocation->complete(std::move(result));
  if (answered && function_.max_reuse != 0 && invocations_ >= function_.max_reuse) {
    // After the caller's answer is on its way: ending a sandbox waits for its cgroup to empty.
    asio::post(context_.executor, [self = shared_from_this()] {
      self->retire("served max_reuse (" + std::to_string(self->function_.max_reuse) +
                   ") invocations");
    });
  }
}

boost::json::object Worker::status(engine::Clock::TimePoint now) const {
  static constexpr const char* kStates[] = {"initialising", "idle", "busy", "answered", "ended"};
  static constexpr const char* kKinds[] = {"on-demand", "provisioned", "prewarmed"};
  boost::json::object out;
  out["id"] = id_;
  out["pid"] = sandbox_ ? sandbox_->pid() : 0;
  const auto state = protocol_.state();
  out["state"] =
      frozen_ && state == WorkerState::kIdle ? "frozen" : kStates[static_cast<std::size_t>(state)];
  out["kind"] = kKinds[static_cast<std::size_t>(kind_)];
  out["sandbox"] = sandbox_prepared_at_ ? "prepared" : "made at start";
  out["age_s"] = std::chrono::duration<double>(now - created_at_).count();
  out["invocations"] = invocations_;
  if (last_used_) {
    out["last_used_s"] = std::chrono::duration<double>(now - *last_used_).count();
  } else {
    out["last_used_s"] = nullptr;
  }
  out["memory_peak_mb"] =
      memory_used_mb(std::max(peak_memory_bytes_, sandbox_ ? sandbox_->peak_memory_bytes() : 0));
  return out;
}

void Worker::on_timeout() {
  const auto timeout = std::chrono::seconds(function_.timeout_s);
  peak_memory_bytes_ = std::max(peak_memory_bytes_, sandbox_->peak_memory_bytes());
  sandbox_->kill_all();
  drain_output();
  consume_output({}, /*flush_partial=*/true);
  log(timeout_line(std::chrono::system_clock::now(), current_->id(), timeout));
  InvokeResult result;
  result.function_error = "Unhandled";
  result.payload = error_payload(
      "Sandbox.Timedout", "RequestId: " + current_->id() + " Error: " + timeout_message(timeout));
  finish(std::move(result), /*answered=*/false);
  retire("timed out");
}

void Worker::on_exit(const isolation::ExitStatus& status) {
  drain_output();
  consume_output({}, /*flush_partial=*/true);
  const std::string why = "Runtime exited with error: " + status.describe();
  switch (protocol_.state()) {
    case WorkerState::kInitialising:
      // The sandbox could not exec the runtime: the function's fault (a missing or
      // unexecutable bootstrap) or the node's.
      if (auto failure = sandbox_->launch_failure()) {
        log("ember: " + failure->message());
        if (failure->bad_entrypoint) {
          fail_start(StartFailure{"Runtime.InvalidEntrypoint", failure->message(), "", false, ""});
        } else {
          retire("could not start",
                 StartFailure{"", "start worker " + id_ + ": " + failure->message(), "", true, ""});
        }
        return;
      }
      fail_start(StartFailure{"Runtime.ExitError", why, "", false, ""});
      return;
    case WorkerState::kBusy: {
      // The memory cgroup's OOM killer ended it: Lambda calls that Runtime.OutOfMemory.
      const std::string error_type =
          sandbox_->oom_killed() ? "Runtime.OutOfMemory" : "Runtime.ExitError";
      const std::string message = "RequestId: " + current_->id() + " Error: " + why;
      log(message);
      log(error_type);
      InvokeResult result;
      result.function_error = "Unhandled";
      result.payload = error_payload(error_type, message);
      finish(std::move(result), /*answered=*/false);
      break;
    }
    case WorkerState::kIdle:
    case WorkerState::kAnswered:
    case WorkerState::kEnded:
      break;
  }
  retire(why);
}

void Worker::fail_start(StartFailure failure) {
  if (protocol_.state() == WorkerState::kEnded) return;
  drain_output();
  consume_output({}, /*flush_partial=*/true);
  const auto init = Steady::now() - start_requested_at_;
  log("INIT_REPORT Init Duration: " +
      format_ms(std::chrono::duration_cast<std::chrono::nanoseconds>(init)) +
      " ms\tPhase: init\tStatus: error\tError Type: " + failure.error_type);
  failure.log = init_log_;
  retire("failed to initialise: " + failure.error_type, std::move(failure));
}

void Worker::retire(std::string_view why, std::optional<StartFailure> failure) {
  if (retired_) return;
  retired_ = true;
  auto self = shared_from_this();
  protocol_.end();
  deadline_.cancel();
  init_deadline_.cancel();
  freeze_timer_.cancel();
  events_.close();
  // Kill first: a runtime that saw its Runtime API close would log a confusing last error.
  if (sandbox_) sandbox_->kill_all();
  if (frozen_ && sandbox_) (void)sandbox_->thaw();  // a frozen process dies only once thawed
  if (runtime_api_) runtime_api_->close();
  if (current_) {
    // Only shutdown retires a worker with an invocation still open.
    InvokeResult result;
    result.service_error = runtime_api::ServiceError::kServiceUnavailable;
    result.message = "The node is shutting down (worker " + id_ + ": " + std::string(why) + ")";
    std::exchange(current_, nullptr)->complete(std::move(result));
  }
  drain_output();
  consume_output({}, /*flush_partial=*/true);
  flush_log();
  boost::system::error_code ignored;
  output_.close(ignored);
  if (auto pool = pool_.lock()) pool->worker_ended(self, std::move(failure));
}

asio::awaitable<void> Worker::watch_exit() {
  auto self = shared_from_this();
  while (true) {
    auto [ec] = co_await exit_watch_.async_wait(asio::posix::descriptor_base::wait_read, kTuple);
    if (ec && ec != asio::error::interrupted) break;
    if (auto status = sandbox_->try_reap()) {
      on_exit(*status);
      break;
    }
  }
  boost::system::error_code ignored;
  exit_watch_.close(ignored);
}

asio::awaitable<void> Worker::read_output() {
  auto self = shared_from_this();
  std::array<char, 16 * 1024> buffer{};
  while (output_.is_open()) {
    auto [ec, n] = co_await output_.async_read_some(asio::buffer(buffer), kTuple);
    if (ec) break;
    consume_output({buffer.data(), n}, false);
    flush_log();
  }
}

void Worker::drain_output() {
  if (!output_.is_open()) return;
  std::array<char, 16 * 1024> buffer{};
  const int fd = output_.native_handle();
  if (!output_nonblocking_) {  // once: an fcntl per invocation is a syscall on the warm path
    const int flags = ::fcntl(fd, F_GETFL);
    if ((flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    output_nonblocking_ = true;
  }
  while (true) {
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    consume_output({buffer.data(), static_cast<std::size_t>(n)}, false);
  }
}

void Worker::consume_output(std::string_view bytes, bool flush_partial) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_line_.append(bytes);
      break;
    }
    partial_line_.append(bytes.substr(0, newline));
    bytes.remove_prefix(newline + 1);
    log(partial_line_, /*flush=*/false);
    partial_line_.clear();
  }
  while (partial_line_.size() >= kMaxLineBytes) {
    log(std::string_view(partial_line_).substr(0, kMaxLineBytes), /*flush=*/false);
    partial_line_.erase(0, kMaxLineBytes);
  }
  if (flush_partial && !partial_line_.empty()) {
    log(partial_line_, /*flush=*/false);
    partial_line_.clear();
  }
}

void Worker::flush_log() {
  if (log_) log_->flush();
}

void Worker::log(std::string_view line, bool flush) {
  if (log_) log_->write(line, flush);
  if (current_) {
    current_->capture_log(line);
  } else if (protocol_.state() == WorkerState::kInitialising &&
             init_log_.size() < kMaxInitLogBytes) {
    init_log_.append(line).push_back('\n');
  }
}

}  // namespace ember::engine
