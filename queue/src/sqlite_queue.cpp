// The node's EventQueue: one SQLite database in WAL mode (docs/async.md).
//
// Durability, per call:
// - push commits with synchronous=FULL: in WAL mode SQLite fsyncs the WAL at that commit, so
//   an accepted event survives a power cut once push returns. The engine pushes every event
//   accepted meanwhile in one call (group commit): one fsync for the batch.
// - claim, release, finish and recover commit with synchronous=NORMAL: atomic, and durable
//   against a crash of the process (kill -9) since the WAL is in the page cache, but a power
//   cut may roll back the last of them. Each such loss only re-delivers: a claim rolled back
//   leaves the event waiting (its attempt count one lower), a finish rolled back leaves it
//   running until recover() at the next start. At-least-once delivery allows both, and not
//   paying an fsync for each keeps the queue's throughput bound by pushes alone. The next
//   FULL commit syncs the WAL before it, so their effects are durable from then on.
#include <fcntl.h>
#include <unistd.h>

#include <system_error>
#include <utility>

#include "ember/isolation/unique_fd.hpp"
#include "ember/queue/event_queue.hpp"
#include "queue_schema.hpp"
#include "sqlite_db.hpp"

namespace ember::queue {

namespace fs = std::filesystem;

namespace {

constexpr int kBusyTimeoutMs = 5000;  // another process holding the file (an `ember ps`)
constexpr std::int64_t kWalSizeLimit = 64LL << 20;

std::int64_t to_ms(WallTime time) { return time.time_since_epoch().count(); }
WallTime from_ms(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

// Makes a new file's directory entry durable (SQLite syncs the directory of its WAL and
// journal, not of the database file itself), then the entry of each directory created for it.
void sync_directories(const fs::path& file, const fs::path& first_created) {
  for (fs::path dir = file.parent_path();; dir = dir.parent_path()) {
    const isolation::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
      throw QueueError("fsync " + dir.string() + ": " + std::generic_category().message(errno));
    }
    if (first_created.empty() || dir == first_created.parent_path() || dir == dir.parent_path()) {
      return;
    }
  }
}

// The deepest ancestor of `dir` that does not exist yet (empty when all do).
fs::path first_missing(const fs::path& dir) {
  fs::path missing;
  for (fs::path p = dir; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  return missing;
}

class SqliteQueue final : public EventQueue {
 public:
  // `db` already holds the schema: the statements are prepared against it.
  explicit SqliteQueue(Database db)
      : db_(std::move(db)),
        insert_(db_,
                "INSERT INTO events (id, target, payload, origin, enqueued_at_ms, due_at_ms,"
                " attempts, failures, last_error, running)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)"),
        insert_or_ignore_(db_,
                          "INSERT OR IGNORE INTO events (id, target, payload, origin,"
                          " enqueued_at_ms, due_at_ms, attempts, failures, last_error, running)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)"),
        select_due_(db_,
                    "SELECT rowid, id, target, payload, origin, enqueued_at_ms, due_at_ms,"
                    " attempts, failures, last_error FROM events"
                    " WHERE target = ?1 AND running = 0 AND due_at_ms <= ?2"
                    " ORDER BY due_at_ms LIMIT ?3"),
        select_expired_(db_,
                        "SELECT rowid, id, target, payload, origin, enqueued_at_ms, due_at_ms,"
                        " attempts, failures, last_error FROM events"
                        " WHERE target = ?1 AND running = 0 AND enqueued_at_ms < ?2"
                        " ORDER BY enqueued_at_ms LIMIT ?3"),
        mark_expired_running_(db_, "UPDATE events SET running = 1 WHERE rowid = ?1"),
        mark_running_(db_,
                      "UPDATE events SET running = 1, attempts = attempts + 1 WHERE rowid = ?1"),
        release_(db_,
                 "UPDATE events SET running = 0, due_at_ms = ?2, attempts = ?3, failures = ?4,"
                 " last_error = ?5 WHERE id = ?1 AND running = 1"),
        delete_running_(db_, "DELETE FROM events WHERE id = ?1 AND running = 1"),
        next_due_(db_, "SELECT min(due_at_ms) FROM events WHERE target = ?1 AND running = 0") {}

  void push(std::span<const Event> events) override {
    if (events.empty()) return;
    Transaction transaction(db_, Synchronous::kFull);
    for (const Event& event : events) {
      auto run = insert_.run();
      bind_event(run, event);
      try {
        run.execute();
      } catch (const QueueFull&) {
        throw;
      } catch (const QueueError&) {
        if (sqlite3_extended_errcode(db_.get()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
          throw QueueError(db_.file().string() + ": event id '" + event.id +
                           "' is already in the queue; nothing of this push was stored");
        }
        throw;
      }
    }
    transaction.commit();
  }

  std::vector<Event> claim(std::string_view target, WallTime now, std::size_t max) override {
    return take(select_due_, mark_running_, target, to_ms(now), max, 1);
  }

  std::vector<Event> claim_expired(std::string_view target, WallTime enqueued_before,
                                   std::size_t max) override {
    return take(select_expired_, mark_expired_running_, target, to_ms(enqueued_before), max, 0);
  }

  void release(const Event& event) override {
    Transaction transaction(db_, Synchronous::kNormal);
    auto run = release_.run();
    run.bind(1, event.id)
        .bind(2, to_ms(event.due_at))
        .bind(3, static_cast<std::int64_t>(event.attempts))
        .bind(4, static_cast<std::int64_t>(event.failures))
        .bind_blob(5, event.last_error);
    if (run.execute() == 0) not_running("release", event.id);
    transaction.commit();
  }

  void finish(std::string_view id, std::span<const Event> follow_ups) override {
    Transaction transaction(db_, Synchronous::kNormal);
    if (delete_running_.run().bind(1, id).execute() == 0) not_running("finish", id);
    for (const Event& follow_up : follow_ups) {
      auto run = insert_or_ignore_.run();
      bind_event(run, follow_up);
      run.execute();
    }
    transaction.commit();
  }

  std::size_t recover() override {
    // A running event was due when it was claimed, so keeping its due_at makes it due at once.
    Transaction transaction(db_, Synchronous::kNormal);
    Statement reset(db_, "UPDATE events SET running = 0 WHERE running = 1");
    const int changed = reset.run().execute();
    transaction.commit();
    return static_cast<std::size_t>(changed);
  }

  std::optional<WallTime> next_due(std::string_view target) override {
    auto run = next_due_.run();
    run.bind(1, target);
    if (!run.step() || run.column_is_null(0)) return std::nullopt;
    return from_ms(run.column_int(0));
  }

  std::map<std::string, Depth, std::less<>> depths() override {
    Statement count(db_,
                    "SELECT target, sum(running = 0), sum(running = 1), min(enqueued_at_ms)"
                    " FROM events GROUP BY target");
    std::map<std::string, Depth, std::less<>> result;
    auto run = count.run();
    while (run.step()) {
      result.emplace(run.column_bytes(0),
                     Depth{.waiting = static_cast<std::uint64_t>(run.column_int(1)),
                           .running = static_cast<std::uint64_t>(run.column_int(2)),
                           .oldest = from_ms(run.column_int(3))});
    }
    return result;
  }

 private:
  // Marks up to `max` rows that `select` finds (target, bound) running, in one transaction;
  // their attempts grow by `attempt` (what `mark` adds).
  std::vector<Event> take(Statement& select, Statement& mark, std::string_view target,
                          std::int64_t bound, std::size_t max, std::uint32_t attempt) {
    std::vector<Event> taken;
    if (max == 0) return taken;
    Transaction transaction(db_, Synchronous::kNormal);
    std::vector<std::int64_t> rowids;
    {
      auto run = select.run();
      run.bind(1, target).bind(2, bound).bind(3, static_cast<std::int64_t>(max));
      while (run.step()) {
        rowids.push_back(run.column_int(0));
        Event event{
            .id = run.column_bytes(1),
            .target = run.column_bytes(2),
            .payload = run.column_bytes(3),
            .origin = run.column_bytes(4),
            .enqueued_at = from_ms(run.column_int(5)),
            .due_at = from_ms(run.column_int(6)),
            .attempts = static_cast<std::uint32_t>(run.column_int(7)) + attempt,
            .failures = static_cast<std::uint32_t>(run.column_int(8)),
            .last_error = run.column_bytes(9),
        };
        taken.push_back(std::move(event));
      }
    }
    for (const std::int64_t rowid : rowids) mark.run().bind(1, rowid).execute();
    transaction.commit();
    return taken;
  }

  static void bind_event(Statement::Run& run, const Event& event) {
    run.bind(1, event.id)
        .bind(2, event.target)
        .bind_blob(3, event.payload)
        .bind_blob(4, event.origin)
        .bind(5, to_ms(event.enqueued_at))
        .bind(6, to_ms(event.due_at))
        .bind(7, static_cast<std::int64_t>(event.attempts))
        .bind(8, static_cast<std::int64_t>(event.failures))
        .bind_blob(9, event.last_error);
  }

  [[noreturn]] void not_running(std::string_view call, std::string_view id) const {
    throw QueueError(db_.file().string() + ": " + std::string(call) + ": no running event '" +
                     std::string(id) + "' (it was never claimed, or already finished)");
  }

  Database db_;
  Statement insert_;
  Statement insert_or_ignore_;
  Statement select_due_;
  Statement select_expired_;
  Statement mark_expired_running_;
  Statement mark_running_;
  Statement release_;
  Statement delete_running_;
  Statement next_due_;
};

}  // namespace

std::unique_ptr<EventQueue> open_sqlite_queue(const fs::path& file) {
  const fs::path path = fs::absolute(file);
  const fs::path created_dir = first_missing(path.parent_path());
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw QueueError("mkdir " + path.parent_path().string() + ": " + ec.message());

  // Every check reads; the first write (the journal mode) comes after them.
  const ExistingFile existing = inspect_queue_file(path);
  Database db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.check(sqlite3_busy_timeout(db.get(), kBusyTimeoutMs), "busy_timeout");
  if (const std::string mode = db.query_text("PRAGMA journal_mode=WAL"); mode != "wal") {
    throw QueueError(path.string() + ": cannot use write-ahead logging (journal mode stays " +
                     mode + ")");
  }
  // After a checkpoint the WAL is cut back to this size instead of keeping its peak.
  db.exec("PRAGMA journal_size_limit=" + std::to_string(kWalSizeLimit));
  if (existing == ExistingFile::kNone) {
    create_schema(db);
    sync_directories(path, created_dir);
  }
  return std::make_unique<SqliteQueue>(std::move(db));
}

}  // namespace ember::queue
