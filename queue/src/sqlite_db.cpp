#include "sqlite_db.hpp"

#include <cerrno>
#include <utility>

#include "ember/queue/event_queue.hpp"

namespace ember::queue {

namespace {

// SQLite reports a full disk as SQLITE_FULL from its own writes, but an fsync, ftruncate or
// the WAL index's allocation that hits ENOSPC comes back as one of the SQLITE_IOERR codes.
bool out_of_space(sqlite3* db, int rc) {
  if ((rc & 0xff) == SQLITE_FULL) return true;
  return (rc & 0xff) == SQLITE_IOERR && db != nullptr && sqlite3_system_errno(db) == ENOSPC;
}

// `file:PATH?PARAMETERS` with the characters that mean something in a URI escaped.
std::string file_uri(const std::filesystem::path& file, std::string_view parameters) {
  std::string uri = "file:";
  for (const char c : file.string()) {
    if (c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e) {
      constexpr std::string_view kHex = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(c);
      uri += '%';
      uri += kHex[byte >> 4U];
      uri += kHex[byte & 0xfU];
    } else {
      uri += c;
    }
  }
  return uri + "?" + std::string(parameters);
}

}  // namespace

Database::Database(std::filesystem::path file, int flags, std::string_view uri_parameters)
    : file_(std::move(file)) {
  sqlite3* raw = nullptr;
  // The queue is used from one thread at a time: no per-call mutex.
  flags |= SQLITE_OPEN_NOMUTEX;
  const std::string name =
      uri_parameters.empty() ? file_.string() : file_uri(file_, uri_parameters);
  if (!uri_parameters.empty()) flags |= SQLITE_OPEN_URI;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // sqlite3_open_v2 may hand back a handle even when it fails
  if (rc != SQLITE_OK) fail(rc, "open");
  sqlite3_extended_result_codes(raw, 1);
}

void Database::exec(const std::string& sql) const {
  check(sqlite3_exec(get(), sql.c_str(), nullptr, nullptr, nullptr), sql);
}

std::string Database::query_text(const std::string& sql) {
  Statement statement(*this, sql);
  auto run = statement.run();
  if (!run.step()) fail(SQLITE_ERROR, sql + ": no row");
  return run.column_bytes(0);
}

std::int64_t Database::query_int(const std::string& sql) {
  Statement statement(*this, sql);
  auto run = statement.run();
  if (!run.step()) fail(SQLITE_ERROR, sql + ": no row");
  return run.column_int(0);
}

void Database::set_synchronous(Synchronous level) {
  if (synchronous_ == level) return;
  exec(level == Synchronous::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  synchronous_ = level;
}

void Database::check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  fail(rc, what);
}

void Database::fail(int rc, std::string_view what) const {
  // sqlite3_errmsg describes the connection's last error; without a connection (out of
  // memory at open) only the code's own text is known.
  const char* message = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  std::string text = file_.string() + ": " + std::string(what) + ": " + message;
  if (out_of_space(db_.get(), rc)) throw QueueFull(text + " (the disk or file system is full)");
  throw QueueError(text);
}

Statement::Statement(Database& db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  stmt_.reset(raw);
  db.check(rc, sql);
}

Statement::Run::~Run() {
  // Both only report the last step's error again (already thrown from step()), never fail.
  sqlite3_reset(statement_.stmt_.get());
  sqlite3_clear_bindings(statement_.stmt_.get());
}

Statement::Run& Statement::Run::bind(int index, std::string_view text) {
  // A non-null pointer even for "": a null one would bind NULL, not an empty text.
  const char* data = text.data() != nullptr ? text.data() : "";
  statement_.db_.check(sqlite3_bind_text64(statement_.stmt_.get(), index, data, text.size(),
                                           SQLITE_STATIC, SQLITE_UTF8),
                       "bind");
  return *this;
}

Statement::Run& Statement::Run::bind_blob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  statement_.db_.check(
      sqlite3_bind_blob64(statement_.stmt_.get(), index, data, bytes.size(), SQLITE_STATIC),
      "bind");
  return *this;
}

Statement::Run& Statement::Run::bind(int index, std::int64_t value) {
  statement_.db_.check(sqlite3_bind_int64(statement_.stmt_.get(), index, value), "bind");
  return *this;
}

bool Statement::Run::step() {
  const int rc = sqlite3_step(statement_.stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  statement_.db_.fail(rc, sqlite3_sql(statement_.stmt_.get()));
}

int Statement::Run::execute() {
  while (step()) {
  }
  return sqlite3_changes(statement_.db_.get());
}

std::int64_t Statement::Run::column_int(int index) const {
  return sqlite3_column_int64(statement_.stmt_.get(), index);
}

std::string Statement::Run::column_bytes(int index) const {
  sqlite3_stmt* stmt = statement_.stmt_.get();
  // column_blob before column_bytes (SQLite's rule); it is null for an empty value.
  const void* data = sqlite3_column_blob(stmt, index);
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, index));
  if (data == nullptr || size == 0) return {};
  return {static_cast<const char*>(data), size};
}

bool Statement::Run::column_is_null(int index) const {
  return sqlite3_column_type(statement_.stmt_.get(), index) == SQLITE_NULL;
}

Transaction::Transaction(Database& db, Synchronous level) : db_(db) {
  db.set_synchronous(level);
  db.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  // After SQLITE_FULL or an I/O error SQLite may already have rolled the transaction back;
  // a ROLLBACK then only says there is none, so its result is not needed either way.
  if (!done_ && sqlite3_get_autocommit(db_.get()) == 0) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace ember::queue
