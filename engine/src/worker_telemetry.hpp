// One worker's Telemetry API (2022-07-01): its extensions' subscriptions, and the events the
// worker emits for them, in Lambda's shapes (`platform.*` records, `function` log lines). Events
// of the init phase are kept until it ends, so that an extension subscribing during init still
// receives `platform.initStart` and what came after it, as on Lambda.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/engine/report.hpp"
#include "ember/runtime_api/telemetry_api.hpp"
#include "telemetry_subscriber.hpp"

namespace ember::engine {

class WorkerTelemetry {
 public:
  WorkerTelemetry(boost::asio::any_io_executor executor,
                  TelemetrySubscriber::OpenSocket open_socket);
  WorkerTelemetry(const WorkerTelemetry&) = delete;
  WorkerTelemetry& operator=(const WorkerTelemetry&) = delete;
  WorkerTelemetry(WorkerTelemetry&&) = delete;
  WorkerTelemetry& operator=(WorkerTelemetry&&) = delete;
  ~WorkerTelemetry();

  // Someone may receive an event: a subscriber exists, or the init phase still records. The
  // worker skips building events otherwise (the warm path of a worker without subscribers).
  [[nodiscard]] bool active() const { return recording_ || !subscribers_.empty(); }

  // `extension` subscribes (again: its earlier subscription is replaced). It receives what the
  // init phase emitted so far, then `platform.telemetrySubscription`.
  void subscribe(const std::string& extension, runtime_api::TelemetrySubscription subscription);
  // The init phase is over: its events are no longer kept for later subscribers.
  void init_ended();
  // Sends whatever waits (before the shutdown phase kills the subscribers).
  void flush();
  // Events wait or a POST is out: freezing the sandbox now would stall their delivery.
  [[nodiscard]] bool pending() const;
  // Ends every subscription.
  void close();

  // --- events, each stamped now
  void function_line(std::string_view line);
  void init_start(std::string_view initialization_type, std::string_view function_name);
  void init_runtime_done(std::string_view initialization_type, std::string_view status,
                         std::string_view error_type);
  void init_report(std::string_view initialization_type, std::string_view status,
                   std::string_view error_type, std::chrono::nanoseconds duration);
  void extension(std::string_view name, const std::vector<std::string>& events);
  void start(std::string_view request_id, std::string_view trace_id);
  void runtime_done(std::string_view request_id, std::string_view status,
                    std::string_view error_type, std::chrono::nanoseconds duration,
                    std::size_t produced_bytes);
  // `report` as the REPORT line has it, so the two always agree.
  void report(std::string_view status, std::string_view error_type, const ReportFields& report);

 private:
  void emit_platform(std::string_view type, const boost::json::object& record,
                     std::string_view metrics = {});
  void emit(unsigned type, const std::string& event);

  boost::asio::any_io_executor executor_;
  TelemetrySubscriber::OpenSocket open_socket_;
  std::vector<std::shared_ptr<TelemetrySubscriber>> subscribers_;
  bool recording_ = true;  // the init phase: events are kept in backlog_
  std::vector<std::pair<unsigned, std::string>> backlog_;
  std::size_t backlog_bytes_ = 0;
};

// errorType of a Runtime API error document; empty when it has none.
std::string error_type_in(std::string_view error_document);

}  // namespace ember::engine
