#include "queue_schema.hpp"

#include <cstdio>
#include <string>
#include <system_error>

#include "ember/queue/event_queue.hpp"

namespace ember::queue {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& why) {
  throw QueueError(file.string() + ": refused as the event queue: " + why +
                   " (the file was left unchanged; move it away or pick another node.state_dir)");
}

std::string hex(std::int64_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

}  // namespace

ExistingFile inspect_queue_file(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec == std::errc::no_such_file_or_directory) return ExistingFile::kNone;
  if (ec) throw QueueError(file.string() + ": " + ec.message());
  if (size == 0) return ExistingFile::kNone;

  // Read-only: a foreign file's hot journal is not rolled back and nothing is written to it.
  // Without a WAL beside it the file holds all its content, and immutable=1 keeps SQLite from
  // creating the -wal and -shm files a WAL-mode database otherwise gets even when only read.
  // With one (ember's queue after a crash), SQLite must read it: its -shm may be created.
  std::filesystem::path wal = file;
  wal += "-wal";
  const bool has_wal = fs::exists(wal, ec);
  Database db(file, SQLITE_OPEN_READONLY, has_wal ? "mode=ro" : "immutable=1");
  std::int64_t application_id = 0;
  try {
    application_id = db.query_int("PRAGMA application_id");
  } catch (const QueueError& e) {
    if (sqlite3_errcode(db.get()) == SQLITE_NOTADB) refuse(file, "it is not a SQLite database");
    throw;
  }
  const std::int64_t version = db.query_int("PRAGMA user_version");
  const std::int64_t objects = db.query_int("SELECT count(*) FROM sqlite_schema");

  if (application_id != kApplicationId) {
    if (application_id == 0 && version == 0 && objects == 0) return ExistingFile::kNone;
    refuse(file, "it is another application's SQLite database (application_id " +
                     hex(application_id) + ", ember's queue is " + hex(kApplicationId) + ")");
  }
  if (version > kSchemaVersion) {
    refuse(file, "its schema version " + std::to_string(version) + " is newer than this ember's (" +
                     std::to_string(kSchemaVersion) + "); run the ember that wrote it");
  }
  if (version != kSchemaVersion) {
    refuse(file, "unknown schema version " + std::to_string(version));
  }
  const std::string verdict = db.query_text("PRAGMA quick_check");
  if (verdict != "ok") refuse(file, "it fails SQLite's quick_check: " + verdict);
  return ExistingFile::kQueue;
}

void create_schema(Database& db) {
  Transaction transaction(db, Synchronous::kFull);
  // Payloads, origins and errors are BLOBs: bytes kept as given, embedded NULs included.
  // running is 0 (waiting) or 1 (claimed); claim reads the index as one range scan per target.
  db.exec(
      "CREATE TABLE events ("
      "  id TEXT PRIMARY KEY NOT NULL,"
      "  target TEXT NOT NULL,"
      "  payload BLOB NOT NULL,"
      "  origin BLOB NOT NULL,"
      "  enqueued_at_ms INTEGER NOT NULL,"
      "  due_at_ms INTEGER NOT NULL,"
      "  attempts INTEGER NOT NULL,"
      "  failures INTEGER NOT NULL,"
      "  last_error BLOB NOT NULL,"
      "  running INTEGER NOT NULL DEFAULT 0 CHECK (running IN (0, 1)));"
      "CREATE INDEX events_by_target ON events (target, running, due_at_ms);"
      "CREATE INDEX events_by_age ON events (target, running, enqueued_at_ms);"
      "PRAGMA application_id=" +
      std::to_string(kApplicationId) + "; PRAGMA user_version=" + std::to_string(kSchemaVersion) +
      ";");
  transaction.commit();
}

}  // namespace ember::queue
