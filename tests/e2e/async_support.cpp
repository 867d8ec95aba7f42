#include "async_support.hpp"

#include <boost/json/parse.hpp>
#include <set>

#include "../support/eventually.hpp"

namespace ember::test {

namespace fs = std::filesystem;
namespace json = boost::json;

HttpReply send_event(const Node& node, const std::string& function, const std::string& payload) {
  return node.invoke(function, payload, {"X-Amz-Invocation-Type: Event"});
}

std::string DestinationRecord::request_id() const {
  return std::string(json.at("requestContext").at("requestId").as_string());
}

std::int64_t DestinationRecord::invoke_count() const {
  return json.at("requestContext").at("approximateInvokeCount").to_number<std::int64_t>();
}

namespace {

std::set<fs::path> record_files(const fs::path& dir) {
  std::set<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (it->path().extension() == ".json" && !name.starts_with('.')) files.insert(it->path());
  }
  return files;
}

}  // namespace

std::vector<DestinationRecord> read_records(const fs::path& dir) {
  std::vector<DestinationRecord> records;
  for (const auto& file : record_files(dir)) {
    // A record file is complete once it has its name (written, fsync'd, renamed).
    records.push_back({file, json::parse(client::read_file(file)).as_object()});
  }
  return records;
}

std::size_t record_count(const fs::path& dir) { return record_files(dir).size(); }

std::vector<DestinationRecord> wait_for_records(const fs::path& dir, std::size_t n,
                                                std::chrono::seconds bound) {
  eventually([&] { return record_count(dir) >= n; }, bound);
  return read_records(dir);
}

json::object async_status(const Node& node, const std::string& function) {
  const auto reply = client::http_request({.url = node.endpoint() + "/ember/v1/functions"});
  if (reply.status != 200) return {};
  const auto status = json::parse(reply.body);
  for (const auto& f : status.at("functions").as_array()) {
    if (f.at("name").as_string() == function) return f.at("async").as_object();
  }
  return {};
}

std::int64_t async_counter(const Node& node, const std::string& function, const std::string& key) {
  const auto status = async_status(node, function);
  const auto* value = status.if_contains(key);
  return value == nullptr ? -1 : value->to_number<std::int64_t>();
}

}  // namespace ember::test
