// `ember conform`'s scenarios: each starts from a runtime waiting in `next`, sends it probe
// events and reports its checks. The runtime is started again whenever a scenario left it
// anywhere else (exited, stuck, refused), so one defect fails its own checks only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "report.hpp"
#include "runtime_run.hpp"

namespace ember::cli::conform {

struct ConformOptions {
  RunSpec runtime;                           // with the probe handler in _HANDLER
  RunSpec missing_handler;                   // _HANDLER names a module that does not exist
  std::chrono::milliseconds timeout{10000};  // bounds each wait of each scenario
};

class Conformance {
 public:
  Conformance(ConformOptions options, Report& report)
      : options_(std::move(options)), report_(report) {}
  // Every scenario in order (the list is in conformance.cpp).
  void run();

 private:
  // The answer to one event, or why there was none.
  struct Answer {
    std::optional<RuntimeCall> call;  // a response, error or 413 for the event's id
    std::string problem;              // set when `call` is empty
    std::chrono::system_clock::time_point sent;
  };

  // The scenarios.
  bool starts();
  void echo();
  void context();
  void function_error();
  void non_ascii();
  void deep_json();
  void payload_in();
  void payload_out();
  void response_too_large();
  void late_response();
  void sigterm();
  void init_error();

  // A runtime waiting in `next` (started again when needed); null with `why` otherwise.
  RuntimeRun* ready(std::string& why);
  // Sends the event to a ready runtime and waits for its answer.
  Answer invoke(runtime_api::NextEvent event);
  // Waits for the runtime's next `next`; empty when it came, else what happened instead.
  std::string back_to_next();
  // An echo of `payload` that must come back as the same JSON.
  void round_trip(const char* name, const char* what, const std::string& payload);
  void add(const char* name, Result result, std::string expected, std::string actual,
           const char* section);

  ConformOptions options_;
  Report& report_;
  std::unique_ptr<RuntimeRun> run_;
  bool at_next_ = false;          // run_'s last call read is a `next` now waiting
  bool echo_cooperates_ = false;  // the handler echoed as the contract says
};

}  // namespace ember::cli::conform
