// Owners of one SQLite connection and its prepared statements, and the one place SQLite's
// result codes become QueueError / QueueFull (every message names the database file).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ember::queue {

enum class Synchronous { kNormal, kFull };

class Database {
 public:
  // Opens `file` with sqlite3_open_v2's `flags` (SQLITE_OPEN_READONLY, or READWRITE|CREATE)
  // and, when given, URI parameters ("immutable=1").
  Database(std::filesystem::path file, int flags, std::string_view uri_parameters = {});

  [[nodiscard]] sqlite3* get() const noexcept { return db_.get(); }
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

  // Runs statements that return no rows needed (schema, pragmas, BEGIN/COMMIT).
  void exec(const std::string& sql) const;
  // The first column of the first row of a one-row query (a pragma's value).
  std::string query_text(const std::string& sql);
  std::int64_t query_int(const std::string& sql);

  // PRAGMA synchronous, issued only when it changes (it applies to the next commit).
  void set_synchronous(Synchronous level);

  // Throws for a result code that is not SQLITE_OK/ROW/DONE: QueueFull when the disk or the
  // file system is full, QueueError otherwise, as "FILE: WHAT: SQLite's message".
  void check(int rc, std::string_view what) const;
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  struct Close {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::filesystem::path file_;
  std::unique_ptr<sqlite3, Close> db_;
  std::optional<Synchronous> synchronous_;
};

// A prepared statement, kept for the connection's life (the queue's hot paths reuse theirs).
class Statement {
 public:
  Statement(Database& db, std::string_view sql);

  // One execution: bind, step, read columns; resets the statement and drops its bindings
  // when it goes out of scope, so a cached statement never holds a lock or a stale pointer.
  class Run {
   public:
    explicit Run(Statement& statement) noexcept : statement_(statement) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    Run(Run&&) = delete;
    Run& operator=(Run&&) = delete;
    ~Run();

    // The bound bytes must outlive the Run (SQLITE_STATIC: no copy on the hot path).
    Run& bind(int index, std::string_view text);  // TEXT with an explicit length
    Run& bind_blob(int index, std::string_view bytes);
    Run& bind(int index, std::int64_t value);

    // True when a row is ready, false when the statement is done.
    bool step();
    // Steps a statement that returns no rows; its number of changed rows.
    int execute();

    [[nodiscard]] std::int64_t column_int(int index) const;
    [[nodiscard]] std::string column_bytes(int index) const;  // TEXT or BLOB, NULs kept
    [[nodiscard]] bool column_is_null(int index) const;

   private:
    Statement& statement_;
  };

  Run run() noexcept { return Run(*this); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
  };
  Database& db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

// BEGIN IMMEDIATE (the write lock up front, so a statement never fails half-way for a lock);
// rolled back unless commit() was reached, as when a statement of it throws.
class Transaction {
 public:
  explicit Transaction(Database& db, Synchronous level);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace ember::queue
