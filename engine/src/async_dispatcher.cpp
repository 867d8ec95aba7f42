#include "async_dispatcher.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "destination_record.hpp"
#include "function_pool.hpp"
#include "invocation.hpp"
#include "record_file.hpp"

namespace ember::engine {

using queue::WallTime;
using runtime_api::InvokeResult;
using runtime_api::ServiceError;
namespace chrono = std::chrono;

namespace {

constexpr std::string_view kDirectoryPrefix = "dir:";
// Records written (or expired events settled) per visit to the store for one target.
constexpr std::size_t kRecordsPerClaim = 64;
// How often a function without room is searched for events past their age.
constexpr std::chrono::seconds kSweepInterval{1};

bool is_directory_target(std::string_view target) { return target.starts_with(kDirectoryPrefix); }

// 1 s, 2 s, 4 s ... 5 min: the wait after the Nth throttle in a row (or failed record write).
chrono::milliseconds backoff(std::uint32_t streak) {
  constexpr chrono::milliseconds kFirst{1000};
  constexpr chrono::milliseconds kLongest{300'000};
  const auto doublings = std::min<std::uint32_t>(streak, 9);
  return std::min(kLongest, kFirst * (std::int64_t{1} << doublings));
}

// When an event of `function` is past its age.
WallTime expiry(const config::FunctionConfig& function, const queue::Event& event) {
  return event.enqueued_at +
         chrono::duration_cast<chrono::milliseconds>(function.async.max_event_age);
}

double seconds_between(WallTime from, WallTime to) {
  return chrono::duration<double>(to - from).count();
}

// Stores one event through the thread's group commit.
boost::asio::awaitable<QueueOutcome<std::monostate>> store(
    QueueThread& thread, const boost::asio::any_io_executor& executor, queue::Event event) {
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                          QueueOutcome<std::monostate>)>;
  auto channel = std::make_shared<Channel>(executor, 1);
  thread.push(std::move(event), [channel](QueueOutcome<std::monostate> outcome) {
    channel->try_send(boost::system::error_code{}, std::move(outcome));
  });
  auto [ec, outcome] =
      co_await channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) co_return QueueFailure{ec.message(), false};
  co_return std::move(outcome);
}

}  // namespace

AsyncDispatcher::AsyncDispatcher(EngineContext& context, const config::Config& config,
                                 std::unique_ptr<queue::EventQueue> queue, PoolFor pool_for)
    : context_(context),
      config_(config),
      pool_for_(std::move(pool_for)),
      thread_(context.executor, std::move(queue)),
      wall_base_(chrono::time_point_cast<chrono::milliseconds>(chrono::system_clock::now())),
      clock_base_(context.deadline_clock.now()) {}

WallTime AsyncDispatcher::wall_now() const {
  return wall_base_ +
         chrono::duration_cast<chrono::milliseconds>(context_.deadline_clock.now() - clock_base_);
}

AsyncDispatcher::Target& AsyncDispatcher::target(std::string_view name) {
  auto it = targets_.find(name);
  if (it == targets_.end()) it = targets_.emplace(std::string(name), Target{}).first;
  return it->second;
}

const config::FunctionConfig* AsyncDispatcher::function(std::string_view name) const {
  // The pool holds its function's configuration: one map lookup, not a scan of the file's.
  const FunctionPool* pool = pool_for_(name);
  return pool == nullptr ? nullptr : &pool->function();
}

void AsyncDispatcher::log(std::string_view function, const std::string& line) const {
  if (context_.echo) context_.echo(function, line);
}

void AsyncDispatcher::note_due(std::string_view name, WallTime due) {
  auto& t = target(name);
  if (!t.next_due || due < *t.next_due) t.next_due = due;
}

boost::asio::awaitable<InvokeResult> AsyncDispatcher::accept(
    const runtime_api::InvokeRequest& request) {
  const auto now = wall_now();
  queue::Event event;
  event.id = request.request_id;
  event.target = request.function.name;
  event.payload = request.payload;
  event.origin = "invoke";
  event.enqueued_at = now;
  event.due_at = now;
  auto outcome = co_await store(thread_, context_.executor, std::move(event));
  InvokeResult result;
  if (const auto* failure = std::get_if<QueueFailure>(&outcome)) {
    const std::string& why = failure->message;
    log(request.function.name, "ember: event " + request.request_id + " was not accepted: " + why);
    result.service_error = ServiceError::kServiceUnavailable;
    result.message = (failure->full ? "The node's event store is full; the event was not accepted: "
                                    : "The node could not store the event; it was not accepted: ") +
                     why;
    co_return result;
  }
  ++target(request.function.name).counters.accepted;
  note_due(request.function.name, now);
  dispatch(request.function.name);
  result.accepted = true;
  co_return result;
}

void AsyncDispatcher::submit(const std::string& function, std::string payload,
                             std::string_view origin,
                             std::function<void(const std::string& error)> failed) {
  const auto now = wall_now();
  queue::Event event;
  event.id = runtime_api::new_request_id();
  event.target = function;
  event.payload = std::move(payload);
  event.origin = origin;
  event.enqueued_at = now;
  event.due_at = now;
  thread_.push(std::move(event),
               [weak = weak_from_this(), function, now,
                failed = std::move(failed)](QueueOutcome<std::monostate> outcome) {
                 auto self = weak.lock();
                 if (const auto* failure = std::get_if<QueueFailure>(&outcome)) {
                   if (failed) failed(failure->message);
                   return;
                 }
                 if (!self) return;
                 ++self->target(function).counters.accepted;
                 self->note_due(function, now);
                 self->dispatch(function);
               });
}

void AsyncDispatcher::make_destination_directories() const {
  // Made now, so a record never waits for its directory (the config checked each can be made).
  for (const auto& f : config_.functions) {
    for (const auto* destination :
         {&f.async.on_success, &f.async.on_failure, &f.async.dead_letter}) {
      if (destination->kind != config::Destination::Kind::kDirectory) continue;
      std::error_code ec;
      std::filesystem::create_directories(destination->directory, ec);
      if (ec) {
        log(f.name, "ember: cannot make destination directory " + destination->directory.string() +
                        ": " + ec.message());
      }
    }
  }
}

void AsyncDispatcher::start() {
  make_destination_directories();
  struct Found {
    std::size_t recovered = 0;
    std::map<std::string, std::optional<WallTime>, std::less<>> due;
  };
  thread_.call(
      [](queue::EventQueue& queue) {
        Found found;
        found.recovered = queue.recover();
        for (const auto& [name, depth] : queue.depths()) found.due[name] = queue.next_due(name);
        return found;
      },
      [weak = weak_from_this()](QueueOutcome<Found> outcome) {
        auto self = weak.lock();
        if (!self) return;
        if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
          self->log("ember", "ember: reading the event queue failed: " + failure->message);
          return;
        }
        auto& found = std::get<Found>(outcome);
        if (found.recovered > 0) {
          self->log("ember", "ember: " + std::to_string(found.recovered) +
                                 " events were running when the node stopped; they run again");
        }
        for (const auto& [name, due] : found.due) {
          if (!is_directory_target(name) && self->function(name) == nullptr) {
            self->log(name, "ember: events wait for function " + name +
                                ", which this configuration does not have; they stay queued");
          }
          if (due) self->note_due(name, *due);
        }
        self->tick();
      });
}

void AsyncDispatcher::tick() {
  for (auto& [name, t] : targets_) {
    if (t.next_due) dispatch(name);
  }
}

void AsyncDispatcher::dispatch(std::string_view name) {
  auto& t = target(name);
  const auto now = wall_now();
  if (draining_ || t.claiming || !t.next_due || *t.next_due > now) return;
  if (is_directory_target(name)) {
    write_records(std::string(name));
    return;
  }
  FunctionPool* pool = pool_for_(name);
  if (pool == nullptr) return;  // not a function of this configuration: its events stay queued
  const std::size_t room = pool->async_room();
  if (room == 0) {
    // A worker going idle or the ticker comes back; meanwhile events that never get room
    // (a function at its cap for hours, or disabled) must still expire at their age.
    sweep_expired(std::string(name));
    return;
  }
  t.claiming = true;
  thread_.call(
      [name = std::string(name), now, room](queue::EventQueue& queue) {
        Claimed claimed;
        claimed.events = queue.claim(name, now, room);
        claimed.next_due = queue.next_due(name);
        return claimed;
      },
      [weak = weak_from_this(), name = std::string(name)](QueueOutcome<Claimed> outcome) {
        if (auto self = weak.lock()) self->claimed(name, std::move(outcome));
      });
}

void AsyncDispatcher::sweep_expired(const std::string& name) {
  auto& t = target(name);
  const auto* config = function(name);
  const auto now = wall_now();
  if (config == nullptr || (t.last_sweep && now - *t.last_sweep < kSweepInterval)) return;
  t.last_sweep = now;
  t.claiming = true;
  const auto cutoff =
      now - chrono::duration_cast<chrono::milliseconds>(config->async.max_event_age);
  thread_.call(
      [name, cutoff](queue::EventQueue& queue) {
        Claimed claimed;
        claimed.events = queue.claim_expired(name, cutoff, kRecordsPerClaim);
        claimed.next_due = queue.next_due(name);
        return claimed;
      },
      [weak = weak_from_this(), name](QueueOutcome<Claimed> outcome) {
        auto self = weak.lock();
        if (!self) return;
        auto& target = self->target(name);
        target.claiming = false;
        if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
          self->log(name, "ember: looking for expired events failed: " + failure->message);
          return;
        }
        auto& claimed = std::get<Claimed>(outcome);
        target.next_due = claimed.next_due;
        for (const auto& event : claimed.events) self->expire(name, event);
      });
}

void AsyncDispatcher::expire(const std::string& name, const queue::Event& event) {
  const auto& config = *function(name);
  ++target(name).counters.expired;
  log(name, "ember: event " + event.id + " expired after " +
                std::to_string(config.async.max_event_age.count()) + " s (" +
                std::to_string(event.attempts) + " attempts)");
  const AttemptAnswer last{event.last_error, "Unhandled"};
  settle(name, event, Condition::kEventAgeExceeded, event.last_error.empty() ? nullptr : &last);
}

void AsyncDispatcher::claimed(const std::string& name, QueueOutcome<Claimed> outcome) {
  auto& t = target(name);
  t.claiming = false;
  if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
    log(name, "ember: taking events from the queue failed (retrying): " + failure->message);
    t.next_due = wall_now() + backoff(0);
    return;
  }
  auto& claimed = std::get<Claimed>(outcome);
  t.next_due = claimed.next_due;
  if (draining_) {
    // Claimed just before the drain: they wait for the next start, their attempt given back.
    for (auto& event : claimed.events) {
      --event.attempts;
      release(name, event);
    }
    return;
  }
  for (auto& event : claimed.events) start_attempt(name, std::move(event));
  dispatch(name);
}

void AsyncDispatcher::start_attempt(const std::string& name, queue::Event event) {
  const auto* config = function(name);
  FunctionPool* pool = pool_for_(name);
  if (config == nullptr || pool == nullptr) {
    --event.attempts;
    release(name, event);
    return;
  }
  auto& t = target(name);
  if (wall_now() >= expiry(*config, event)) {
    --event.attempts;  // handed out, never run
    expire(name, event);
    return;
  }
  ++t.running;
  ++t.counters.attempts;
  if (event.attempts > 1) {
    log(name, "ember: event " + event.id + ": attempt " + std::to_string(event.attempts));
  }
  runtime_api::InvokeRequest request;
  request.request_id = event.id;
  request.function.name = name;
  request.type = runtime_api::InvocationType::kEvent;
  request.payload = event.payload;
  request.received = chrono::steady_clock::now();
  const auto arn = runtime_api::function_arn(config_.node.region, config_.node.account_id, name);
  auto invocation = std::make_shared<AsyncInvocation>(
      std::move(request), arn,
      [weak = weak_from_this(), name, event = std::move(event)](InvokeResult result) mutable {
        if (auto self = weak.lock()) self->attempt_ended(name, std::move(event), std::move(result));
      });
  if (auto rejected = pool->admit(invocation)) invocation->complete(std::move(*rejected));
}

void AsyncDispatcher::attempt_ended(const std::string& name, queue::Event event,
                                    InvokeResult result) {
  auto& t = target(name);
  --t.running;
  const auto now = wall_now();
  const auto& config = *function(name);
  if (result.service_error) {
    if (*result.service_error == ServiceError::kServiceUnavailable) {
      // The node is shutting down: the event waits for the next start, its attempt counted.
      event.due_at = now;
      release(name, event);
      return;
    }
    // A throttle, or the platform failed to give it a worker: not the function's failure, so
    // no retry is used; it waits, backing off, until its age runs out.
    --event.attempts;
    ++t.counters.throttled;
    const auto wait = backoff(t.throttle_streak++);
    log(name, "ember: event " + event.id + " throttled (" + result.message + "); again in " +
                  std::to_string(wait.count()) + " ms");
    event.due_at = std::min(now + wait, expiry(config, event));
    release(name, event);
    return;
  }
  t.throttle_streak = 0;
  if (result.function_error.empty()) {
    ++t.counters.succeeded;
    const AttemptAnswer answer{std::move(result.payload), ""};
    settle(name, event, Condition::kSuccess, &answer);
    return;
  }
  ++event.failures;
  event.last_error = result.payload;
  if (event.failures > config.async.max_retries) {
    ++t.counters.failed;
    log(name, "ember: event " + event.id + " failed " + std::to_string(event.failures) +
                  " times; retries exhausted");
    const AttemptAnswer answer{std::move(result.payload), result.function_error};
    settle(name, event, Condition::kRetriesExhausted, &answer);
    return;
  }
  ++t.counters.retries;
  const auto& delays = config.async.retry_delays;
  const auto delay = delays.empty()
                         ? chrono::seconds(0)
                         : delays[std::min<std::size_t>(event.failures - 1, delays.size() - 1)];
  log(name, "ember: event " + event.id + " failed (" + error_message_of(event.last_error) +
                "); retry " + std::to_string(event.failures) + " in " +
                std::to_string(delay.count()) + " s");
  event.due_at =
      std::min(now + chrono::duration_cast<chrono::milliseconds>(delay), expiry(config, event));
  release(name, event);
}

void AsyncDispatcher::settle(const std::string& name, const queue::Event& event,
                             Condition condition, const AttemptAnswer* answer) {
  const auto now = wall_now();
  std::vector<queue::Event> follow_ups;
  auto& counters = target(name).counters;
  const auto& async = function(name)->async;
  const auto arn = runtime_api::function_arn(config_.node.region, config_.node.account_id, name);
  const auto add = [&](const config::Destination& destination, std::string_view kind,
                       std::string payload, std::uint64_t& counter) {
    queue::Event record;
    record.payload = std::move(payload);
    record.origin = "destination";
    record.enqueued_at = now;
    record.due_at = now;
    if (destination.kind == config::Destination::Kind::kFunction) {
      record.id = runtime_api::new_request_id();
      record.target = destination.function;
    } else {
      // Named after the event, its outcome and its attempt count: a re-run's identical record
      // is stored once, and the file tells what it is.
      record.id = event.id + "-" + std::string(kind) + "-" + std::to_string(event.attempts);
      record.target = std::string(kDirectoryPrefix) + destination.directory.string();
    }
    follow_ups.push_back(std::move(record));
    ++counter;
  };
  if (event.origin == "destination") {
    // Records are not forwarded again: a destination that fails must not loop.
    if (condition != Condition::kSuccess) {
      log(name, "ember: destination record " + event.id + " could not be delivered to " + name +
                    " (" + std::string(condition_name(condition)) +
                    "); it is dropped: " + event.payload);
    }
  } else if (condition == Condition::kSuccess) {
    if (!async.on_success.empty()) {
      add(async.on_success, condition_name(condition),
          invocation_record(condition, event, arn, answer, now), counters.on_success);
    }
  } else {
    if (!async.on_failure.empty()) {
      add(async.on_failure, condition_name(condition),
          invocation_record(condition, event, arn, answer, now), counters.on_failure);
    }
    if (!async.dead_letter.empty()) {
      const std::string message = answer != nullptr
                                      ? error_message_of(answer->payload)
                                      : "Event age exceeded: no attempt ran within " +
                                            std::to_string(async.max_event_age.count()) + " s";
      add(async.dead_letter, "DeadLetter", dead_letter_message(event, message),
          counters.dead_letter);
    }
  }
  thread_.call(
      [id = event.id, follow_ups](queue::EventQueue& queue) {
        queue.finish(id, follow_ups);
        return follow_ups;
      },
      [weak = weak_from_this(), name](QueueOutcome<std::vector<queue::Event>> outcome) {
        auto self = weak.lock();
        if (!self) return;
        if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
          // It stays running in the store: the next start runs it again (at least once).
          self->log(name, "ember: recording an event's outcome failed: " + failure->message);
          return;
        }
        for (const auto& record : std::get<std::vector<queue::Event>>(outcome)) {
          self->note_due(record.target, record.due_at);
          self->dispatch(record.target);
        }
      });
}

void AsyncDispatcher::release(const std::string& name, const queue::Event& event) {
  // Jobs run in order, so a claim sent after this one sees the event waiting again.
  note_due(name, event.due_at);
  thread_.call(
      [event](queue::EventQueue& queue) {
        queue.release(event);
        return std::monostate{};
      },
      [weak = weak_from_this(), name](QueueOutcome<std::monostate> outcome) {
        auto self = weak.lock();
        if (!self) return;
        if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
          self->log(name, "ember: putting an event back failed: " + failure->message);
          return;
        }
        self->dispatch(name);
      });
}

void AsyncDispatcher::write_records(const std::string& name) {
  target(name).claiming = true;
  const std::filesystem::path directory(name.substr(kDirectoryPrefix.size()));
  thread_.call(
      [name, directory, now = wall_now()](queue::EventQueue& queue) {
        Written written;
        for (auto& record : queue.claim(name, now, kRecordsPerClaim)) {
          try {
            write_record_file(directory, record.id + ".json", record.payload);
            queue.finish(record.id, {});
            ++written.written;
          } catch (const std::system_error& e) {
            written.failures.push_back(record.id + ".json: " + e.what());
            record.due_at = now + backoff(record.attempts - 1);
            queue.release(record);
          }
        }
        written.next_due = queue.next_due(name);
        return written;
      },
      [weak = weak_from_this(), name](QueueOutcome<Written> outcome) {
        auto self = weak.lock();
        if (!self) return;
        auto& t = self->target(name);
        t.claiming = false;
        if (auto* failure = std::get_if<QueueFailure>(&outcome)) {
          self->log("ember", "ember: writing records to " + name + " failed: " + failure->message);
          t.next_due = self->wall_now() + backoff(0);
          return;
        }
        auto& written = std::get<Written>(outcome);
        t.counters.written += written.written;
        t.counters.write_failures += written.failures.size();
        for (const auto& why : written.failures) {
          std::string line = "ember: cannot write record to ";
          line.append(name).append(" (retrying): ").append(why);
          self->log("ember", line);
        }
        t.next_due = written.next_due;
        self->dispatch(name);
      });
}

void AsyncDispatcher::drain() { draining_ = true; }

void AsyncDispatcher::stop() {
  draining_ = true;
  thread_.stop();
}

void AsyncDispatcher::figures(std::function<void(FiguresByFunction)> done) {
  using Depths = std::map<std::string, queue::Depth, std::less<>>;
  thread_.call([](queue::EventQueue& queue) { return queue.depths(); },
               [weak = weak_from_this(), done = std::move(done)](QueueOutcome<Depths> outcome) {
                 auto self = weak.lock();
                 if (!self) {
                   done({});
                   return;
                 }
                 Depths depths;
                 if (auto* found = std::get_if<Depths>(&outcome)) depths = std::move(*found);
                 done(self->collect(depths));
               });
}

void AsyncDispatcher::status(std::function<void(StatusByFunction)> done) {
  figures([done = std::move(done)](const FiguresByFunction& figures) {
    StatusByFunction out;
    for (const auto& [name, f] : figures) {
      const auto& c = f.counters;
      boost::json::object o;
      o["queued"] = f.queued;
      o["running"] = f.running;
      if (f.oldest_age_s) {
        o["oldest_age_s"] = *f.oldest_age_s;
      } else {
        o["oldest_age_s"] = nullptr;
      }
      o["accepted"] = c.accepted;
      o["attempts"] = c.attempts;
      o["retries"] = c.retries;
      o["throttled"] = c.throttled;
      o["succeeded"] = c.succeeded;
      o["failed"] = c.failed;
      o["expired"] = c.expired;
      o["destinations"] = boost::json::object{{"on_success", c.on_success},
                                              {"on_failure", c.on_failure},
                                              {"dead_letter", c.dead_letter}};
      out.emplace(name, std::move(o));
    }
    done(std::move(out));
  });
}

AsyncDispatcher::FiguresByFunction AsyncDispatcher::collect(
    const std::map<std::string, queue::Depth, std::less<>>& depths) {
  const auto now = wall_now();
  FiguresByFunction out;
  // The file's functions, zeros included, and every other target (a function or version of
  // the control plane, NAME:N) that has had or has events.
  std::set<std::string, std::less<>> names;
  for (const auto& f : config_.functions) names.insert(f.name);
  for (const auto& [name, t] : targets_) names.insert(name);
  for (const auto& [name, depth] : depths) names.insert(name);
  for (const auto& name : names) {
    const auto it = depths.find(name);
    const queue::Depth depth = it == depths.end() ? queue::Depth{} : it->second;
    AsyncFigures figures{.queued = depth.waiting,
                         .running = depth.running,
                         .oldest_age_s = std::nullopt,
                         .counters = target(name).counters};
    if (depth.oldest) figures.oldest_age_s = seconds_between(*depth.oldest, now);
    out.emplace(name, figures);
  }
  return out;
}

}  // namespace ember::engine
