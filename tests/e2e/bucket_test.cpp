// Object notifications through a real `ember serve`: files closed in (or moved into, or
// removed from) a bucket's directory invoke subscribed functions in native sandboxes with
// S3's event record, as asynchronous invocations. Each subscribed function's successes go to
// a `dir:` destination, whose records hold the event (requestPayload) and the answer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>

#include "../support/eventually.hpp"
#include "async_support.hpp"
#include "ember/client/local_node.hpp"
#include "ember/isolation/unique_fd.hpp"

namespace ember::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::system_clock;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// A node whose functions' successes land in WORK/records/FUNCTION.
class Buckets : public ::testing::Test {
 protected:
  [[nodiscard]] fs::path bucket(const std::string& name) const { return work_.path() / name; }
  [[nodiscard]] fs::path records(const std::string& function) const {
    return work_.path() / "records" / function;
  }

  // A function that records each event it gets (and what it answered) in records(name).
  client::NodeFunction recorder(const std::string& name, const std::string& code = "s3_stamp") {
    client::NodeFunction f{.name = name,
                           .runtime = "python3",
                           .handler = "lambda_function.lambda_handler",
                           .code = testcases_dir() / "python" / code};
    f.async.on_success = "dir:" + records(name).string();
    return f;
  }

  void start(std::vector<client::NodeFunction> functions, std::vector<std::string> buckets) {
    client::LocalNodeSpec spec{.ember = ember_exe(), .functions = std::move(functions)};
    for (const auto& name : buckets) spec.settings.buckets.push_back({name, bucket(name)});
    node_ = std::make_unique<client::LocalNode>(spec);
  }

  // The node's counters of a subscribed bucket (GET /ember/v1/functions, "buckets").
  [[nodiscard]] json::object bucket_status(const std::string& name) const {
    const auto reply =
        client::http_request({.url = "http://" + node_->address() + "/ember/v1/functions"});
    if (reply.status != 200) return {};
    const auto status = json::parse(reply.body).as_object();
    const auto* buckets = status.if_contains("buckets");
    if (buckets == nullptr) return {};
    for (const auto& b : buckets->as_array()) {
      if (b.at("name").as_string() == name) return b.as_object();
    }
    return {};
  }
  [[nodiscard]] std::int64_t counter(const std::string& bucket_name, const std::string& key) const {
    const auto status = bucket_status(bucket_name);
    const auto* value = status.if_contains(key);
    return value == nullptr ? -1 : value->to_number<std::int64_t>();
  }

  // A counter of the function's asynchronous events ("async" in GET /ember/v1/functions).
  [[nodiscard]] std::int64_t async_counter(const std::string& function,
                                           const std::string& key) const {
    const auto reply =
        client::http_request({.url = "http://" + node_->address() + "/ember/v1/functions"});
    if (reply.status != 200) return -1;
    const auto status = json::parse(reply.body);
    for (const auto& f : status.at("functions").as_array()) {
      if (f.at("name").as_string() != function) continue;
      const auto* value = f.at("async").as_object().if_contains(key);
      return value == nullptr ? -1 : value->to_number<std::int64_t>();
    }
    return -1;
  }

  // The S3 records each record file of `function` holds, by object key (as encoded).
  [[nodiscard]] std::vector<json::object> s3_records(const std::string& function) const {
    std::vector<json::object> out;
    for (const auto& record : read_records(records(function))) {
      for (const auto& r : record.json.at("requestPayload").at("Records").as_array()) {
        out.push_back(r.as_object());
      }
    }
    return out;
  }
  [[nodiscard]] std::multiset<std::string> keys(const std::string& function) const {
    std::multiset<std::string> out;
    for (const auto& r : s3_records(function)) {
      out.insert(std::string(r.at("eventName").as_string()) + " " +
                 std::string(r.at("s3").at("object").at("key").as_string()));
    }
    return out;
  }
  // Waits until the watcher has queued `n` invocations for `bucket_name` and `function` has
  // recorded `records_expected` of them: the counter is final once a later file's record is
  // seen, so "exactly" is checked without waiting for something not to happen.
  void wait_for(const std::string& function, std::size_t n) const {
    ASSERT_TRUE(
        eventually([&] { return record_count(records(function)) >= n; }, std::chrono::seconds(120)))
        << record_count(records(function)) << " of " << n << "\n"
        << node_->stdout_text() << node_->stderr_text();
  }

  TempDir work_{"ember-buckets-"};
  std::unique_ptr<client::LocalNode> node_;
};

TEST_F(Buckets, ACreatedObjectGivesS3sRecordFieldByFieldAndItsRemovalADelete) {
  auto f = recorder("recorder");
  f.s3_events = {{.bucket = "uploads", .events = {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}};
  start({f}, {"uploads"});
  const auto before = Clock::now();
  fs::create_directories(bucket("uploads") / "dir");
  write_file(bucket("uploads") / "dir" / "red flower=ü.jpg", "hello");
  wait_for("recorder", 1);
  fs::remove(bucket("uploads") / "dir" / "red flower=ü.jpg");
  wait_for("recorder", 2);
  const auto records = s3_records("recorder");
  ASSERT_EQ(records.size(), 2U);
  const auto created_at = std::find_if(records.begin(), records.end(), [](const auto& r) {
    return r.at("eventName") == "ObjectCreated:Put";
  });
  ASSERT_NE(created_at, records.end());
  const json::object& created = *created_at;
  const json::object& removed = created_at == records.begin() ? records[1] : records[0];

  // notification-content-structure, eventVersion 2.1.
  EXPECT_EQ(created.at("eventVersion"), "2.1");
  EXPECT_EQ(created.at("eventSource"), "aws:s3");
  EXPECT_EQ(created.at("awsRegion"), "us-east-1");
  const std::string time(created.at("eventTime").as_string());
  EXPECT_TRUE(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << time;
  // Made when the node saw the close: within the test's own window.
  const auto at = [](const std::string& text) {
    std::tm tm{};
    ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return Clock::from_time_t(::timegm(&tm)) +
           std::chrono::milliseconds(std::stoi(text.substr(20, 3)));
  };
  EXPECT_GE(at(time), std::chrono::floor<std::chrono::milliseconds>(before)) << time;
  EXPECT_LE(at(time), Clock::now()) << time;
  EXPECT_EQ(created.at("userIdentity").at("principalId"), "AWS:000000000000");
  EXPECT_EQ(created.at("requestParameters").at("sourceIPAddress"), "127.0.0.1");
  const std::string request_id(created.at("responseElements").at("x-amz-request-id").as_string());
  EXPECT_TRUE(std::regex_match(request_id, std::regex("[0-9A-F]{16}"))) << request_id;
  EXPECT_FALSE(created.at("responseElements").at("x-amz-id-2").as_string().empty());
  const auto& s3 = created.at("s3").as_object();
  EXPECT_EQ(s3.at("s3SchemaVersion"), "1.0");
  EXPECT_EQ(s3.at("configurationId"), "recorder.s3_events[0]");
  EXPECT_EQ(s3.at("bucket").at("name"), "uploads");
  EXPECT_EQ(s3.at("bucket").at("ownerIdentity").at("principalId"), "000000000000");
  EXPECT_EQ(s3.at("bucket").at("arn"), "arn:aws:s3:::uploads");
  const auto& object = s3.at("object").as_object();
  // Form encoding: space as '+', '=' and the two bytes of 'ü' as %XX, '/' kept.
  EXPECT_EQ(object.at("key"), "dir/red+flower%3D%C3%BC.jpg");
  EXPECT_EQ(object.at("size").to_number<std::int64_t>(), 5);
  EXPECT_EQ(object.at("eTag"), "5d41402abc4b2a76b9719d911017c592");  // md5("hello")
  const std::string created_sequencer(object.at("sequencer").as_string());
  EXPECT_TRUE(std::regex_match(created_sequencer, std::regex("[0-9A-F]{18}"))) << created_sequencer;
  EXPECT_EQ(object.size(), 4U) << json::serialize(object);  // no versionId: unversioned

  EXPECT_EQ(removed.at("eventName"), "ObjectRemoved:Delete");
  const auto& removed_object = removed.at("s3").at("object").as_object();
  EXPECT_EQ(removed_object.at("key"), "dir/red+flower%3D%C3%BC.jpg");
  EXPECT_EQ(removed_object.if_contains("size"), nullptr);
  EXPECT_EQ(removed_object.if_contains("eTag"), nullptr);
  // Fixed width: the later event's sequencer is the greater string.
  EXPECT_GT(std::string(removed_object.at("sequencer").as_string()), created_sequencer);
}

TEST_F(Buckets, AFileRenamedIntoTheBucketGivesOneEvent) {
  auto f = recorder("recorder");
  f.s3_events = {{.bucket = "uploads"}};
  start({f}, {"uploads"});
  // Written and closed outside the bucket (same file system), then moved in.
  write_file(work_.path() / "outside.bin", "made elsewhere");
  fs::rename(work_.path() / "outside.bin", bucket("uploads") / "moved.bin");
  write_file(bucket("uploads") / "marker", "after");
  wait_for("recorder", 2);
  EXPECT_EQ(counter("uploads", "queued"), 2);
  EXPECT_EQ(keys("recorder"), (std::multiset<std::string>{"ObjectCreated:Put moved.bin",
                                                          "ObjectCreated:Put marker"}));
  const auto ps = run({ember_exe().string(), "ps", "--endpoint", "http://" + node_->address()});
  EXPECT_NE(ps.out.find("bucket uploads (" + bucket("uploads").string() +
                        "): created 2, removed 0, invocations queued 2, vanished 0, inotify "
                        "overflows 0"),
            std::string::npos)
      << ps.out << ps.err;
}

TEST_F(Buckets, APartialWriteGivesNoEventUntilTheFileIsClosed) {
  auto f = recorder("recorder");
  f.s3_events = {{.bucket = "uploads"}};
  start({f}, {"uploads"});
  const auto path = bucket("uploads") / "partial.bin";
  isolation::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::write(fd.get(), "first half ", 11), 11);
  // A later, complete file is notified; once its record is in, the open one had its chance.
  write_file(bucket("uploads") / "marker", "done");
  wait_for("recorder", 1);
  EXPECT_EQ(counter("uploads", "created"), 1);
  EXPECT_EQ(keys("recorder"), (std::multiset<std::string>{"ObjectCreated:Put marker"}));
  ASSERT_EQ(::write(fd.get(), "second half", 11), 11);
  fd.reset();
  wait_for("recorder", 2);
  for (const auto& r : s3_records("recorder")) {
    if (r.at("s3").at("object").at("key") == "partial.bin") {
      EXPECT_EQ(r.at("s3").at("object").at("size").to_number<std::int64_t>(), 22);
    }
  }
  EXPECT_EQ(counter("uploads", "queued"), 2);
}

TEST_F(Buckets, PrefixSuffixAndEventTypesFilterWhatEachFunctionGets) {
  auto jpgs = recorder("jpgs");
  jpgs.s3_events = {{.bucket = "uploads", .prefix = "in/", .suffix = ".jpg"}};
  auto removals = recorder("removals");
  removals.s3_events = {{.bucket = "uploads", .events = {"s3:ObjectRemoved:Delete"}}};
  start({jpgs, removals}, {"uploads"});
  // Directories made and written into at once race their watch; these are watched once
  // their first files are notified.
  fs::create_directories(bucket("uploads") / "in");
  fs::create_directories(bucket("uploads") / "out");
  write_file(bucket("uploads") / "in" / "ready", "");
  write_file(bucket("uploads") / "out" / "ready", "");
  ASSERT_TRUE(eventually([&] { return counter("uploads", "created") == 2; }));
  for (const char* name : {"in/a.jpg", "in/b.png", "out/c.jpg", "d.jpg"}) {
    write_file(bucket("uploads") / name, name);
  }
  fs::remove(bucket("uploads") / "out" / "c.jpg");
  write_file(bucket("uploads") / "in" / "z.jpg", "last");
  wait_for("jpgs", 2);
  wait_for("removals", 1);
  EXPECT_EQ(counter("uploads", "created"), 7);
  EXPECT_EQ(counter("uploads", "removed"), 1);
  EXPECT_EQ(counter("uploads", "queued"), 3);
  EXPECT_EQ(keys("jpgs"), (std::multiset<std::string>{"ObjectCreated:Put in/a.jpg",
                                                      "ObjectCreated:Put in/z.jpg"}));
  EXPECT_EQ(keys("removals"), (std::multiset<std::string>{"ObjectRemoved:Delete out/c.jpg"}));
}

// Percentile of sorted values.
double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values.at(at);
}

TEST_F(Buckets, ABurstOfAThousandFilesGivesOneEventEachAndTheDelayToStartIsMeasured) {
  auto f = recorder("recorder");
  f.s3_events = {{.bucket = "uploads"}};
  start({f}, {"uploads"});
  // One at a time first: the delay from a file's close to its function's start, on a warm
  // worker (the first file's invocation is the cold start).
  write_file(bucket("uploads") / "warm-up", "");
  wait_for("recorder", 1);
  std::vector<double> delays_ms;
  for (int i = 0; i < 100; ++i) {
    const auto name = "single-" + std::to_string(i);
    const auto closed = Clock::now();
    write_file(bucket("uploads") / name, name);
    wait_for("recorder", static_cast<std::size_t>(i) + 2);
    for (const auto& record : read_records(records("recorder"))) {
      const auto& answer = record.json.at("responsePayload").as_object();
      if (answer.at("keys").at(0).as_string() != name) continue;
      const auto started = answer.at("started_ns").to_number<std::int64_t>();
      delays_ms.push_back(
          static_cast<double>(started - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            closed.time_since_epoch())
                                            .count()) /
          1e6);
    }
  }
  ASSERT_EQ(delays_ms.size(), 100U);
  std::cout << "close -> START, one file at a time (warm worker), ms: p50 "
            << percentile(delays_ms, 0.5) << " p99 " << percentile(delays_ms, 0.99) << "\n";

  // Then 1,000 at once, half of them in a directory made just before (the watcher adds its
  // watch while files already appear in it).
  const auto burst_start = std::chrono::steady_clock::now();
  fs::create_directories(bucket("uploads") / "burst");
  std::set<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = (i % 2 == 0 ? "burst/f" : "f") + std::to_string(i);
    write_file(bucket("uploads") / key, std::to_string(i));
    expected.insert("ObjectCreated:Put " + key);
  }
  wait_for("recorder", 1101);
  const double burst_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - burst_start).count();
  std::cout << "1000 files: all invocations recorded after " << burst_s << " s\n";
  EXPECT_EQ(counter("uploads", "overflows"), 0);
  EXPECT_EQ(counter("uploads", "created"), 1101);
  EXPECT_EQ(counter("uploads", "queued"), 1101);
  const auto got = keys("recorder");
  EXPECT_EQ(got.size(), 1101U);
  for (const auto& key : expected) EXPECT_EQ(got.count(key), 1U) << key;
}

// examples/thumbnails as the README runs it: images in, thumbnails out, a non-image retried
// and then dead-lettered; the thumbnails bucket notifies another function, never the writer.
TEST_F(Buckets, APngUploadMakesAThumbnailAndANonImageEndsInTheDeadLetterDirectory) {
  client::NodeFunction thumbnail{.name = "thumbnail",
                                 .runtime = "python3",
                                 .handler = "lambda_function.lambda_handler",
                                 .code = source_dir() / "examples" / "thumbnails"};
  thumbnail.timeout_s = 30;
  thumbnail.s3_events = {{.bucket = "images"}};
  thumbnail.mounts = {{.source = "images", .target = "/mnt/images"},
                      {.source = "thumbnails", .target = "/mnt/thumbnails", .read_only = false}};
  thumbnail.async.max_retries = 2;
  thumbnail.async.retry_delays_s = {0};
  thumbnail.async.on_success = "dir:" + records("thumbnail").string();
  thumbnail.async.dead_letter = "dir:" + (work_.path() / "dead-letters").string();
  auto watcher = recorder("watcher");
  watcher.s3_events = {{.bucket = "thumbnails"}};
  watcher.mounts = {{.source = "thumbnails", .target = "/mnt/thumbnails"}};
  start({thumbnail, watcher}, {"images", "thumbnails"});

  // Made outside, moved in whole (as an upload tool would).
  const auto made = run({"/usr/bin/python3", "-c",
                         "import sys; from PIL import Image; "
                         "Image.new('RGB', (640, 480), 'red').save(sys.argv[1], 'PNG')",
                         (work_.path() / "photo.png").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  fs::rename(work_.path() / "photo.png", bucket("images") / "photo.png");
  wait_for("thumbnail", 1);
  const auto size = run({"/usr/bin/python3", "-c",
                         "import sys; from PIL import Image; im = Image.open(sys.argv[1]); "
                         "print(im.format, im.size[0], im.size[1])",
                         (bucket("thumbnails") / "photo.png").string()});
  EXPECT_EQ(size.out, "PNG 128 96\n") << size.err;
  // The thumbnail notified the watcher, once; the writer got only its upload.
  wait_for("watcher", 1);
  EXPECT_EQ(keys("watcher"), (std::multiset<std::string>{"ObjectCreated:Put photo.png"}));

  write_file(bucket("images") / "notes.txt", "not an image");
  ASSERT_TRUE(eventually([&] { return record_count(work_.path() / "dead-letters") >= 1; },
                         std::chrono::seconds(60)))
      << node_->stdout_text();
  const auto dead = read_records(work_.path() / "dead-letters");
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_NE(json::serialize(dead[0].json).find("notes.txt"), std::string::npos)
      << json::serialize(dead[0].json);
  EXPECT_EQ(keys("thumbnail"), (std::multiset<std::string>{"ObjectCreated:Put photo.png"}));
  EXPECT_EQ(counter("images", "queued"), 2);
  EXPECT_EQ(counter("thumbnails", "queued"), 1);
  EXPECT_EQ(async_counter("thumbnail", "failed"), 1);
  EXPECT_EQ(async_counter("thumbnail", "retries"), 2);
}

}  // namespace
}  // namespace ember::test
