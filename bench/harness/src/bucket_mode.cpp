// `ember bench bucket`: object notifications, from a file's close in a bucket to the start of
// the function it invokes.
// - One node of the bench's own: a bucket `uploads` in a temporary directory and a Python
//   function subscribed to it that writes its handler's start time (time.time_ns(), the same
//   clock as the bench's) into a writable mount, one file per key (renamed into place). Not an
//   on_success `dir:` destination: its records are written with two fsyncs each on the event
//   queue's thread, which would set a burst's pace rather than the notifications.
// - One at a time: --n files, each written, closed and its record awaited before the next,
//   so the worker is warm and idle: close -> handler start per file.
// - Burst: --n files written back to back (after an unmeasured one that starts the pool's
//   workers); close -> handler start per file (queueing included) and the files per second
//   from the first close to the last start.
// - Baseline, in the same run: close -> the bench's own inotify read of IN_CLOSE_WRITE for a
//   file in a directory it watches: the kernel's part of the path, which every watcher pays.
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "ember/bench/progress.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "modes.hpp"

namespace ember::bench::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kWarmUpFiles = 3;
constexpr unsigned kSandboxGid = 993;  // node.sandbox_gid: every sandbox user has it
constexpr std::chrono::milliseconds kPollEvery{1};
constexpr std::chrono::seconds kRecordLimit{120};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Writes `name` into `dir` and closes it; the time right before the close (taken after it,
// the bench's thread may lose the CPU to the node between the two, and the handler would seem
// to start before the close).
std::int64_t write_closed(const fs::path& dir, const std::string& name) {
  std::ofstream out(dir / name, std::ios::binary);
  out << name;
  out.flush();
  const auto closing = now_ns();
  out.close();
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
  return closing;
}

// The stamps the handler wrote, read once each: key -> handler start (ns).
class Records {
 public:
  explicit Records(fs::path dir) : dir_(std::move(dir)) {}

  // Reads the stamps not seen yet; how many keys are known.
  std::size_t scan() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const auto name = entry.path().filename().string();
      if (name.ends_with(".tmp") || started_.contains(name)) continue;
      std::ifstream in(entry.path());
      std::int64_t started = 0;
      if (in >> started) started_[name] = started;
    }
    return started_.size();
  }

  // Waits until `count` keys are known.
  void wait_for(std::size_t count) {
    const auto limit = std::chrono::steady_clock::now() + kRecordLimit;
    while (scan() < count) {
      if (std::chrono::steady_clock::now() > limit) {
        throw std::runtime_error("only " + std::to_string(started_.size()) + " of " +
                                 std::to_string(count) + " notifications recorded after " +
                                 std::to_string(kRecordLimit.count()) + " s");
      }
      std::this_thread::sleep_for(kPollEvery);
    }
  }

  [[nodiscard]] std::int64_t started(const std::string& key) const { return started_.at(key); }

 private:
  fs::path dir_;
  std::set<std::string> read_;
  std::map<std::string, std::int64_t> started_;
};

double us_between(std::int64_t from_ns, std::int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e3;
}

// close -> IN_CLOSE_WRITE read by a plain inotify watcher, `n` times.
std::vector<double> inotify_baseline(const fs::path& dir, std::size_t n) {
  const isolation::UniqueFd fd(::inotify_init1(IN_CLOEXEC));
  if (!fd || ::inotify_add_watch(fd.get(), dir.c_str(), IN_CLOSE_WRITE) < 0) {
    throw std::runtime_error("inotify on " + dir.string() + ": " +
                             std::generic_category().message(errno));
  }
  std::vector<double> out;
  alignas(inotify_event) std::array<char, 4096> buffer{};
  for (std::size_t i = 0; i < n; ++i) {
    const auto closed = write_closed(dir, "b" + std::to_string(i));
    if (::read(fd.get(), buffer.data(), buffer.size()) <= 0) {
      throw std::runtime_error("inotify read: " + std::generic_category().message(errno));
    }
    out.push_back(us_between(closed, now_ns()));
  }
  return out;
}

void write_stamp_function(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "lambda_function.py")
      << "import os\nimport time\n\n\ndef lambda_handler(event, context):\n"
         "    started_ns = time.time_ns()\n"
         "    for record in event[\"Records\"]:\n"
         "        path = \"/mnt/stamps/\" + record[\"s3\"][\"object\"][\"key\"]\n"
         "        with open(path + \".tmp\", \"w\") as out:\n"
         "            out.write(str(started_ns))\n"
         "        os.rename(path + \".tmp\", path)\n";
}

}  // namespace

void run_bucket_mode(const BenchOptions& o, Report& report) {
  const client::TempDir work("ember-bench-bucket-");
  const auto uploads = work.path() / "uploads";
  const auto records_dir = work.path() / "stamps";
  fs::create_directories(uploads);
  fs::create_directories(records_dir);
  // Written by the sandbox's user: its own uid (node.sandbox_uid_range) in the shared group.
  if (::chown(records_dir.c_str(), 0, kSandboxGid) != 0 ||
      ::chmod(records_dir.c_str(), 0775) != 0) {
    throw std::runtime_error("chown/chmod " + records_dir.string() + ": " +
                             std::generic_category().message(errno));
  }
  write_stamp_function(work.path() / "stamp");
  client::NodeFunction f;
  f.name = "stamp";
  f.runtime = "python3";
  f.handler = "lambda_function.lambda_handler";
  f.code = work.path() / "stamp";
  f.isolation = o.isolation;
  f.network = o.network;
  client::NodeFunction::S3Events subscription;
  subscription.bucket = "uploads";
  f.s3_events = {subscription};
  client::NodeFunction::Mount stamps;
  stamps.source = records_dir.string();
  stamps.target = "/mnt/stamps";
  stamps.read_only = false;
  f.mounts = {stamps};
  client::NodeSettings settings;
  client::NodeBucket bucket;
  bucket.name = "uploads";
  bucket.path = uploads;
  settings.buckets = {bucket};
  auto node = start_node(o, {f}, settings);
  report.target =
      "a Python handler (python3) subscribed to a bucket, on a node started by the "
      "bench";
  report.payload = "S3 event records of small files";
  Records records(records_dir);

  for (std::size_t i = 0; i < kWarmUpFiles; ++i) {
    write_closed(uploads, "warm-" + std::to_string(i));
    records.wait_for(i + 1);
  }
  std::vector<double> single;
  {
    Progress progress("bucket: one at a time", o.n);
    for (std::size_t i = 0; i < o.n; ++i) {
      const auto key = "one-" + std::to_string(i);
      const auto closed = write_closed(uploads, key);
      records.wait_for(kWarmUpFiles + i + 1);
      single.push_back(us_between(closed, records.started(key)));
      progress.tick();
    }
  }
  report.series.push_back(
      {"bucket", "close->handler start, one at a time", SeriesKind::kFigure, std::move(single)});

  // A first burst, not measured, starts the pool's other workers (Python cold starts), so the
  // measured one sees the notification path and warm workers.
  for (std::size_t i = 0; i < o.n; ++i) write_closed(uploads, "pool-" + std::to_string(i));
  records.wait_for(kWarmUpFiles + 2 * o.n);
  std::vector<std::pair<std::string, std::int64_t>> closes;
  closes.reserve(o.n);
  for (std::size_t i = 0; i < o.n; ++i) {
    const auto key = "burst-" + std::to_string(i);
    closes.emplace_back(key, write_closed(uploads, key));
  }
  records.wait_for(kWarmUpFiles + 3 * o.n);
  std::vector<double> burst;
  std::int64_t last_start = 0;
  for (const auto& [key, closed] : closes) {
    burst.push_back(us_between(closed, records.started(key)));
    last_start = std::max(last_start, records.started(key));
  }
  const double burst_s = us_between(closes.front().second, last_start) / 1e6;
  report.series.push_back({"bucket", "close->handler start, " + std::to_string(o.n) + " at once",
                           SeriesKind::kFigure, std::move(burst)});
  report.figures.emplace_back("burst_files", static_cast<double>(o.n));
  report.figures.emplace_back("burst_first_close_to_last_start_s", burst_s);
  report.figures.emplace_back("burst_files_per_s",
                              burst_s > 0 ? static_cast<double>(o.n) / burst_s : 0);
  node->stop();

  if (o.baselines) {
    const auto plain = work.path() / "plain";
    fs::create_directories(plain);
    report.series.push_back({"baseline", "close->inotify event read", SeriesKind::kBaseline,
                             inotify_baseline(plain, o.n)});
    report.add_ratio("bucket: close->handler start, one at a time",
                     "baseline: close->inotify event read");
  }
}

}  // namespace ember::bench::detail
