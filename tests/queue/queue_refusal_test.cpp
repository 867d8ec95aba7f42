// Files that are not ember's queue are refused with their path and left exactly as they were
// (no byte changed, no journal or WAL file left beside them).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "ember/client/temp_dir.hpp"
#include "ember/queue/event_queue.hpp"
#include "queue_test_support.hpp"

namespace ember::queue {
namespace {

namespace fs = std::filesystem;
using testing::at_ms;
using testing::make_event;

// Runs `statements` on `file` through SQLite itself, as another program would.
void run_sql(const fs::path& file, const std::string& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good());
}

// Every file of the directory with its content.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files[entry.path().filename()] = client::read_file(entry.path());
  }
  return files;
}

class QueueRefusal : public ::testing::Test {
 protected:
  // Opens the file expecting a refusal that names it and says `why`; nothing changed.
  void expect_refused(const std::string& why) {
    const auto before = snapshot(dir_.path());
    ASSERT_TRUE(before.contains("events.db"));
    try {
      open_sqlite_queue(file_);
      ADD_FAILURE() << "opened as the queue";
    } catch (const QueueFull& e) {
      ADD_FAILURE() << "refused as full: " << e.what();
    } catch (const QueueError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file_.string() + ": refused as the event queue: "), std::string::npos)
          << message;
      EXPECT_NE(message.find(why), std::string::npos) << message;
    }
    EXPECT_TRUE(snapshot(dir_.path()) == before) << "the refused file was changed";
  }

  // ember's queue with one event in it, closed.
  void make_queue() {
    auto queue = open_sqlite_queue(file_);
    queue->push(std::array{make_event("a", "f", 0)});
  }

  client::TempDir dir_{"ember-queue-refusal-"};
  fs::path file_ = dir_.path() / "events.db";
};

TEST_F(QueueRefusal, ATextFile) {
  write_file(file_, "events: none yet\n");
  expect_refused("it is not a SQLite database");
}

TEST_F(QueueRefusal, RandomBytes) {
  std::mt19937 random(11);
  std::string bytes(64 << 10, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  write_file(file_, bytes);
  expect_refused("it is not a SQLite database");
}

TEST_F(QueueRefusal, AnotherApplicationsDatabase) {
  run_sql(file_, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');");
  expect_refused("it is another application's SQLite database (application_id 0x00000000");
}

TEST_F(QueueRefusal, ADatabaseWithAnotherApplicationId) {
  run_sql(file_, "PRAGMA application_id=305419896; CREATE TABLE t (x);");
  expect_refused("application_id 0x12345678, ember's queue is 0x454d4251");
}

TEST_F(QueueRefusal, ANewerSchemaVersion) {
  make_queue();
  run_sql(file_, "PRAGMA user_version=2;");
  expect_refused("its schema version 2 is newer than this ember's (1)");
}

TEST_F(QueueRefusal, ADamagedQueue) {
  {
    auto queue = open_sqlite_queue(file_);
    for (int i = 0; i < 200; ++i) {
      queue->push(std::array{make_event("e" + std::to_string(i), "f", i, std::string(900, 'p'))});
    }
  }
  // Page 1 (the header and the schema) stays intact; the tables' pages after it do not.
  std::string bytes = client::read_file(file_);
  ASSERT_GT(bytes.size(), 16U << 10);
  for (std::size_t i = 4096; i < 16384; ++i) bytes[i] = static_cast<char>(i * 7);
  write_file(file_, bytes);
  expect_refused("it fails SQLite's quick_check: ");
}

TEST_F(QueueRefusal, NotARegularFile) {
  fs::create_directory(file_);
  try {
    open_sqlite_queue(file_);
    FAIL() << "a directory opened as the queue";
  } catch (const QueueError& e) {
    EXPECT_NE(std::string(e.what()).find(file_.string()), std::string::npos) << e.what();
  }
}

TEST(QueueOpen, TakesAnEmptyFileOrAnEmptyDatabase) {
  client::TempDir dir("ember-queue-open-");
  const auto empty_file = dir.path() / "empty.db";
  write_file(empty_file, "");
  open_sqlite_queue(empty_file)->push(std::array{make_event("a", "f", 0)});
  EXPECT_EQ(open_sqlite_queue(empty_file)->claim("f", at_ms(0), 1).size(), 1U);

  const auto empty_database = dir.path() / "empty-sqlite.db";
  run_sql(empty_database, "CREATE TABLE t (x); DROP TABLE t;");
  ASSERT_GT(fs::file_size(empty_database), 0U);
  open_sqlite_queue(empty_database)->push(std::array{make_event("a", "f", 0)});
  EXPECT_EQ(open_sqlite_queue(empty_database)->claim("f", at_ms(0), 1).size(), 1U);
}

}  // namespace
}  // namespace ember::queue
