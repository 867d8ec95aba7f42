#include "log_reader.hpp"

#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <utility>
#include <vector>

#include "ember/engine/report.hpp"

namespace ember::engine {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kJsonStart = R"({"timestamp":")";
constexpr std::size_t kIsoLength = 24;  // 2019-11-24T21:52:47.333Z
constexpr std::size_t kReadBytes = std::size_t{256} * 1024;
constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;

// The stream a file belongs to: its name up to the first dot (DATE-ID of DATE-ID.2.log).
std::string stream_key(const fs::path& file) {
  const auto name = file.filename().string();
  return name.substr(0, name.find('.'));
}

struct FilePart {
  fs::path path;
  std::uint64_t size = 0;  // read up to here: what was written when the request came
  std::string key;
};

}  // namespace

LogFilter::LogFilter(const runtime_api::LogQuery& query, std::chrono::system_clock::time_point now)
    : request_id_(query.request_id) {
  if (!request_id_.empty()) {
    json_request_field_ = R"(,"requestId":")" + request_id_ + "\"";
  }
  if (query.since) {
    has_since_ = true;
    since_ = now - *query.since;
    since_iso_ = iso8601_utc(since_);
  }
}

bool LogFilter::wants_file(std::chrono::system_clock::time_point written) const {
  return !has_since_ || written >= since_;
}

bool LogFilter::keep(std::string_view key, std::string_view line) {
  if (line.starts_with(kJsonStart)) {
    // node.log_format json: the line says its time and invocation itself; a function's own
    // words are inside its escaped "message" and cannot fake either field.
    if (has_since_ && line.substr(kJsonStart.size(), kIsoLength) < since_iso_) return false;
    return request_id_.empty() || line.find(json_request_field_) != std::string_view::npos;
  }
  if (request_id_.empty()) return true;
  // Text: START .. REPORT of the invocation, in the stream that ran it.
  auto& inside = inside_[std::string(key)];
  if (!inside) {
    if (!line.starts_with("START RequestId: ")) return false;
    const auto rest = line.substr(17);
    inside = rest.starts_with(request_id_) &&
             (rest.size() == request_id_.size() || rest[request_id_.size()] == ' ');
    return inside;
  }
  if (line.starts_with("REPORT RequestId: ")) {
    const auto rest = line.substr(18);
    if (rest.starts_with(request_id_) &&
        (rest.size() == request_id_.size() || rest[request_id_.size()] == '\t')) {
      inside = false;
    }
  }
  return true;
}

namespace {

// Appends the kept lines of `bytes` ("key\tline\n" each) to `out`.
void filter_followed(LogFilter& filter, std::string_view bytes, std::string& out) {
  while (!bytes.empty()) {
    const auto end = bytes.find('\n');
    const auto entry = bytes.substr(0, end);
    bytes.remove_prefix(end == std::string_view::npos ? bytes.size() : end + 1);
    const auto tab = entry.find('\t');
    if (tab == std::string_view::npos) continue;
    const auto line = entry.substr(tab + 1);
    if (filter.keep(entry.substr(0, tab), line)) out.append(line).push_back('\n');
  }
}

std::vector<FilePart> parts_of(const FunctionLog& log, const LogFilter& filter) {
  std::vector<FilePart> parts;
  for (const auto& path : log.files()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // removed meanwhile
    const auto written = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    if (!filter.wants_file(written)) continue;
    parts.push_back({path, static_cast<std::uint64_t>(st.st_size), stream_key(path)});
  }
  return parts;
}

}  // namespace

namespace {

// The kept lines of the files as they were when the request came, a chunk at a time: read
// here, written by the coroutine that serves the request.
class FileCursor {
 public:
  FileCursor(const std::vector<FilePart>& parts, LogFilter& filter)
      : parts_(parts), filter_(filter), buffer_(kReadBytes, '\0') {}

  // About kChunkBytes of kept lines (more when a block held more); empty at the end.
  std::string next() {
    std::string out;
    while (out.size() < kChunkBytes && read_block(out)) {
    }
    return out;
  }

 private:
  // Reads one block of the current file, opening the next one when it is done; false at the
  // end of the last. A file's last line without its newline is left out.
  bool read_block(std::string& out) {
    while (!in_.is_open() || !in_ || left_ == 0) {
      if (index_ == parts_.size()) return false;
      const FilePart& part = parts_[index_++];
      in_ = std::ifstream(part.path, std::ios::binary);
      key_ = part.key;
      left_ = part.size;
      carry_.clear();
    }
    in_.read(buffer_.data(),
             static_cast<std::streamsize>(std::min<std::uint64_t>(left_, kReadBytes)));
    const auto got = static_cast<std::size_t>(in_.gcount());
    if (got == 0) {
      left_ = 0;
      return true;
    }
    left_ -= got;
    carry_.append(buffer_.data(), got);
    std::string_view rest(carry_);
    for (auto end = rest.find('\n'); end != std::string_view::npos; end = rest.find('\n')) {
      const auto line = rest.substr(0, end);
      if (filter_.keep(key_, line)) out.append(line).push_back('\n');
      rest.remove_prefix(end + 1);
    }
    carry_.erase(0, carry_.size() - rest.size());
    return true;
  }

  const std::vector<FilePart>& parts_;
  LogFilter& filter_;
  std::string buffer_;
  std::size_t index_ = 0;
  std::ifstream in_;
  std::string key_;
  std::uint64_t left_ = 0;
  std::string carry_;
};

// The lines the function's streams write from now on, until the node closes or the reader
// goes.
asio::awaitable<bool> send_followed(const asio::any_io_executor& executor,
                                    const std::shared_ptr<LogFollower>& follower, LogFilter& filter,
                                    runtime_api::ResponseWriter& writer) {
  asio::steady_timer timer(executor);
  follower->wake = [&timer] { timer.cancel(); };
  bool open = true;
  while (open && !follower->closed) {
    if (follower->pending.empty() && follower->dropped == 0) {
      timer.expires_after(std::chrono::seconds(1));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    std::string out;
    filter_followed(filter, std::exchange(follower->pending, {}), out);
    if (const auto dropped = std::exchange(follower->dropped, 0); dropped != 0) {
      out.append("ember: " + std::to_string(dropped) +
                 " bytes of log lines were not sent here (this reader did not keep up)\n");
    }
    if (!out.empty()) {
      open = co_await writer.chunk(out);
    }
  }
  follower->wake = nullptr;
  co_return open;
}

asio::awaitable<bool> serve(asio::any_io_executor executor, std::shared_ptr<FunctionLog> log,
                            runtime_api::LogQuery query, runtime_api::ResponseWriter& writer) {
  LogFilter filter(query, std::chrono::system_clock::now());
  std::shared_ptr<LogFollower> follower;
  if (query.follow) {
    follower = log->follow();
    if (!follower) {
      co_return co_await writer.send(runtime_api::log_error_reply(
          http::status::too_many_requests, "TooManyRequestsException",
          "too many readers follow the logs of " + log->function() + " already"));
    }
  }
  // The files as they are now, on the node's thread: what is written from here on reaches the
  // follower, so no line is sent twice or missed.
  const auto parts = parts_of(*log, filter);
  runtime_api::Response head{http::status::ok, 11};
  head.set(http::field::content_type, log->limits().format == config::LogFormat::kJson
                                          ? "application/x-ndjson"
                                          : "text/plain; charset=utf-8");
  const bool begun = co_await writer.begin(std::move(head));
  if (!begun) co_return false;
  FileCursor files(parts, filter);
  for (auto chunk = files.next(); !chunk.empty(); chunk = files.next()) {
    const bool sent = co_await writer.chunk(chunk);
    if (!sent) co_return false;
  }
  if (follower) {
    const bool followed = co_await send_followed(executor, follower, filter, writer);
    if (!followed) co_return false;
  }
  const bool ended = co_await writer.end();
  co_return ended;
}

}  // namespace

// Not a coroutine: it returns the coroutine's awaitable (clang's analyzer misreads the awaits
// of a coroutine with external linkage).
asio::awaitable<bool> serve_logs(asio::any_io_executor executor, std::shared_ptr<FunctionLog> log,
                                 runtime_api::LogQuery query, runtime_api::ResponseWriter& writer) {
  return serve(std::move(executor), std::move(log), std::move(query), writer);
}

}  // namespace ember::engine
