// The durable queue of asynchronous invocations (docs/async.md): events accepted with
// `InvocationType: Event` wait here until a worker runs them, and the destination deliveries
// they produce wait here until they are written. The engine sees only this interface; the
// node's store is SQLite (open_sqlite_queue), and a queue shared by several nodes (Redis
// Streams, say) would be another implementation of it.
//
// Calls are blocking and made from one thread at a time (the engine's queue thread); an
// implementation need not be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ember::queue {

// Wall-clock time (it must mean the same after a restart); stored with millisecond precision.
using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

struct Event {
  // Unique in the queue. For an invocation it is the request id the caller got, kept across
  // retries (Lambda's logs show the same id for every attempt).
  std::string id;
  // Who handles it: a function name (invoked), or `dir:ABSOLUTE_PATH` for a destination record
  // to be written into that directory as `ID.json`.
  std::string target;
  std::string payload;  // the event (JSON text) or the record to write
  // What made it: "invoke" (the Invoke API), "destination" (a destination record), later
  // "schedule" or "object". Events from destinations produce no further destination records.
  std::string origin = "invoke";
  WallTime enqueued_at{};      // when first accepted: the event's age counts from here
  WallTime due_at{};           // not handed out before this
  std::uint32_t attempts = 0;  // attempts started (Lambda's approximateInvokeCount)
  std::uint32_t failures = 0;  // attempts that failed (counted against max_retries)
  std::string last_error;      // the last failed attempt's error (JSON), for dead letters
};

// What waits for one target, for `ember ps` and GET /ember/v1/functions.
struct Depth {
  std::uint64_t waiting = 0;       // not running (due or not)
  std::uint64_t running = 0;       // claimed, not finished or released
  std::optional<WallTime> oldest;  // smallest enqueued_at of all of them
};

class QueueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The store cannot take more (the disk or the file system is full): nothing was stored.
class QueueFull : public QueueError {
 public:
  using QueueError::QueueError;
};

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  EventQueue(EventQueue&&) = delete;
  EventQueue& operator=(EventQueue&&) = delete;
  virtual ~EventQueue() = default;

  // Stores all the events or none, on stable storage when it returns (a power cut after the
  // return loses none). An id already present is a QueueError naming it. Throws QueueFull
  // when out of space, QueueError otherwise.
  virtual void push(std::span<const Event> events) = 0;

  // Hands out up to `max` waiting events of `target` whose due_at <= now, soonest due first:
  // each becomes running and its `attempts` grows by one, persisted before the return (so an
  // event running when the node dies shows the attempt after a restart). The returned events
  // carry their new attempt count.
  virtual std::vector<Event> claim(std::string_view target, WallTime now, std::size_t max) = 0;

  // Hands out up to `max` waiting events of `target` enqueued before `enqueued_before`, due or
  // not, oldest first, marked running with their attempts unchanged: events past their age
  // that no worker had room for, so they can be settled (EventAgeExceeded) without running.
  virtual std::vector<Event> claim_expired(std::string_view target, WallTime enqueued_before,
                                           std::size_t max) = 0;

  // A running event goes back to waiting with the given due_at, attempts, failures and
  // last_error (a throttled attempt gives its attempt back).
  virtual void release(const Event& event) = 0;

  // A running event is done and removed; `follow_ups` (its destination records) are stored in
  // the same transaction (all or none). A follow-up whose id is already present is skipped:
  // a re-run's identical record is stored once.
  virtual void finish(std::string_view id, std::span<const Event> follow_ups) = 0;

  // At start: every running event (claimed by a process that is gone) becomes waiting again,
  // due at once. Returns how many.
  virtual std::size_t recover() = 0;

  // The soonest due_at among waiting events of `target`; none when none waits.
  virtual std::optional<WallTime> next_due(std::string_view target) = 0;

  // Every target that has events, with its depth.
  virtual std::map<std::string, Depth, std::less<>> depths() = 0;
};

// Opens (creating it and its directory if missing) the SQLite queue at `file`, in WAL mode.
// Refuses, with a QueueError naming the file, a file that is not a SQLite database, a
// database that is not ember's queue (another application's), a newer schema version, or one
// that fails SQLite's quick_check; such a file is never modified.
std::unique_ptr<EventQueue> open_sqlite_queue(const std::filesystem::path& file);

}  // namespace ember::queue
