// What makes a SQLite file ember's queue: its application_id, its schema version and its
// tables; and the checks that refuse any other file before anything writes to it.
#pragma once

#include <cstdint>
#include <filesystem>

#include "sqlite_db.hpp"

namespace ember::queue {

// "EMBQ" in the database header (PRAGMA application_id), so `file(1)` and SQLite tell ember's
// queue apart from any other database.
inline constexpr std::int32_t kApplicationId = 0x454d4251;
// PRAGMA user_version: the layout of the tables below. A newer one is refused, not guessed at.
inline constexpr std::int64_t kSchemaVersion = 1;

enum class ExistingFile {
  kNone,   // missing, empty, or a SQLite database with nothing in it: gets the schema
  kQueue,  // ember's queue at this schema version
};

// Looks at `file` through a read-only connection and throws a QueueError naming it when it
// is not ember's queue: not a SQLite database, another application's database, a newer or
// unknown schema version, or one that fails quick_check.
ExistingFile inspect_queue_file(const std::filesystem::path& file);

// Creates the tables and stamps the header, in one transaction.
void create_schema(Database& db);

}  // namespace ember::queue
