#include "worker_telemetry.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace ember::engine {

namespace json = boost::json;
using runtime_api::kFunctionTelemetry;
using runtime_api::kPlatformTelemetry;

namespace {

// What the init phase keeps for extensions that subscribe later in it: a runtime that prints
// a lot during init loses the oldest lines past this, not the node's memory.
constexpr std::size_t kBacklogEvents = 1000;
constexpr std::size_t kBacklogBytes = std::size_t{1} << 20U;

std::string now() { return iso8601_utc(std::chrono::system_clock::now()); }

// `"durationMs":2.42`: the REPORT line's own digits (Boost.JSON would print 2.42E0).
std::string duration_metric(std::string_view name, std::chrono::nanoseconds d) {
  return "\"" + std::string(name) + "\":" + format_ms(d);
}

}  // namespace

WorkerTelemetry::WorkerTelemetry(boost::asio::any_io_executor executor,
                                 TelemetrySubscriber::OpenSocket open_socket)
    : executor_(std::move(executor)), open_socket_(std::move(open_socket)) {}

WorkerTelemetry::~WorkerTelemetry() { close(); }

void WorkerTelemetry::subscribe(const std::string& extension,
                                runtime_api::TelemetrySubscription subscription) {
  std::erase_if(subscribers_, [&](const auto& s) {
    if (s->extension() != extension) return false;
    s->close();
    return true;
  });
  auto subscriber = std::make_shared<TelemetrySubscriber>(executor_, extension,
                                                          std::move(subscription), open_socket_);
  for (const auto& [type, event] : backlog_) {
    if ((subscriber->types() & type) != 0) subscriber->add(event);
  }
  subscribers_.push_back(std::move(subscriber));
  json::object record;
  record["name"] = extension;
  record["state"] = "Subscribed";
  json::array types;
  for (const auto& name : runtime_api::telemetry_type_names(subscribers_.back()->types())) {
    types.emplace_back(name);
  }
  record["types"] = std::move(types);
  emit_platform("platform.telemetrySubscription", record);
}

void WorkerTelemetry::init_ended() {
  recording_ = false;
  backlog_.clear();
  backlog_.shrink_to_fit();
  backlog_bytes_ = 0;
}

void WorkerTelemetry::flush() {
  for (const auto& subscriber : subscribers_) subscriber->flush();
}

bool WorkerTelemetry::pending() const {
  return std::any_of(subscribers_.begin(), subscribers_.end(),
                     [](const auto& s) { return s->pending(); });
}

void WorkerTelemetry::close() {
  for (const auto& subscriber : subscribers_) subscriber->close();
  subscribers_.clear();
  init_ended();
}

void WorkerTelemetry::emit(unsigned type, const std::string& event) {
  if (recording_ && backlog_.size() < kBacklogEvents &&
      backlog_bytes_ + event.size() <= kBacklogBytes) {
    backlog_bytes_ += event.size();
    backlog_.emplace_back(type, event);
  }
  for (const auto& subscriber : subscribers_) {
    if ((subscriber->types() & type) != 0) subscriber->add(event);
  }
}

void WorkerTelemetry::emit_platform(std::string_view type, const json::object& record,
                                    std::string_view metrics) {
  if (!active()) return;
  auto text = json::serialize(record);
  if (!metrics.empty()) {
    text.pop_back();  // the object's '}'
    text.append(record.empty() ? "" : ",").append("\"metrics\":{").append(metrics).append("}}");
  }
  emit(kPlatformTelemetry, telemetry_event(now(), type, text));
}

void WorkerTelemetry::function_line(std::string_view line) {
  if (!active()) return;
  emit(kFunctionTelemetry, telemetry_event(now(), "function", json::serialize(json::string(line))));
}

void WorkerTelemetry::init_start(std::string_view initialization_type,
                                 std::string_view function_name) {
  json::object record;
  record["initializationType"] = initialization_type;
  record["phase"] = "init";
  record["functionName"] = function_name;
  record["functionVersion"] = "$LATEST";
  emit_platform("platform.initStart", record);
}

void WorkerTelemetry::init_runtime_done(std::string_view initialization_type,
                                        std::string_view status, std::string_view error_type) {
  json::object record;
  record["initializationType"] = initialization_type;
  record["phase"] = "init";
  record["status"] = status;
  if (!error_type.empty()) record["errorType"] = error_type;
  emit_platform("platform.initRuntimeDone", record);
}

void WorkerTelemetry::init_report(std::string_view initialization_type, std::string_view status,
                                  std::string_view error_type, std::chrono::nanoseconds duration) {
  json::object record;
  record["initializationType"] = initialization_type;
  record["phase"] = "init";
  record["status"] = status;
  if (!error_type.empty()) record["errorType"] = error_type;
  emit_platform("platform.initReport", record, duration_metric("durationMs", duration));
}

void WorkerTelemetry::extension(std::string_view name, const std::vector<std::string>& events) {
  json::object record;
  record["name"] = name;
  record["state"] = "Ready";
  json::array list;
  for (const auto& event : events) list.emplace_back(event);
  record["events"] = std::move(list);
  emit_platform("platform.extension", record);
}

void WorkerTelemetry::start(std::string_view request_id, std::string_view trace_id) {
  if (!active()) return;
  json::object record;
  record["requestId"] = request_id;
  record["version"] = "$LATEST";
  if (!trace_id.empty()) record["tracing"] = {{"type", "X-Amzn-Trace-Id"}, {"value", trace_id}};
  emit_platform("platform.start", record);
}

void WorkerTelemetry::runtime_done(std::string_view request_id, std::string_view status,
                                   std::string_view error_type, std::chrono::nanoseconds duration,
                                   std::size_t produced_bytes) {
  if (!active()) return;
  json::object record;
  record["requestId"] = request_id;
  record["status"] = status;
  if (!error_type.empty()) record["errorType"] = error_type;
  emit_platform("platform.runtimeDone", record,
                duration_metric("durationMs", duration) +
                    ",\"producedBytes\":" + std::to_string(produced_bytes));
}

void WorkerTelemetry::report(std::string_view status, std::string_view error_type,
                             const ReportFields& report) {
  if (!active()) return;
  json::object record;
  record["requestId"] = report.request_id;
  record["status"] = status;
  if (!error_type.empty()) record["errorType"] = error_type;
  std::string metrics = duration_metric("durationMs", report.duration);
  metrics += ",\"billedDurationMs\":" + std::to_string(billed_ms(report.duration));
  metrics += ",\"memorySizeMB\":" + std::to_string(report.memory_size_mb);
  metrics += ",\"maxMemoryUsedMB\":" + std::to_string(memory_used_mb(report.max_memory_used_bytes));
  if (report.init_duration) {
    metrics += "," + duration_metric("initDurationMs", *report.init_duration);
  }
  emit_platform("platform.report", record, metrics);
}

std::string error_type_in(std::string_view error_document) {
  boost::system::error_code ec;
  const auto value = json::parse(error_document, ec);
  if (ec || !value.is_object()) return {};
  const auto* type = value.as_object().if_contains("errorType");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : std::string();
}

}  // namespace ember::engine
