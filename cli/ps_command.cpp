// ember ps: the workers of a running node, from its GET /ember/v1/functions.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/client/http.hpp"
#include "sign_request.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

double number(const boost::json::value& v) { return v.is_null() ? -1 : v.to_number<double>(); }

std::string seconds_text(const boost::json::value& v) {
  const double s = number(v);
  if (s < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

// One line per worker, then the function's counters.
void print_workers(const std::string& name, const boost::json::object& function) {
  for (const auto& w : function.at("workers").as_array()) {
    const auto& worker = w.as_object();
    std::printf("%-24s %-28s %-12s %-12s %8.0f %9s %11.0f %10s %6.0f MB\n", name.c_str(),
                std::string(worker.at("id").as_string()).c_str(),
                std::string(worker.at("state").as_string()).c_str(),
                std::string(worker.at("kind").as_string()).c_str(), number(worker.at("pid")),
                seconds_text(worker.at("age_s")).c_str(), number(worker.at("invocations")),
                seconds_text(worker.at("last_used_s")).c_str(),
                number(worker.at("memory_peak_mb")));
  }
  // A node from before prepared sandboxes does not send them.
  const auto* prepared = function.if_contains("prepared_sandboxes");
  const auto* prepared_starts = function.if_contains("prepared_starts");
  std::printf(
      "%-24s invocations %.0f, cold starts %.0f, throttled %.0f, idle worker-seconds "
      "%.1f, prepared sandboxes waiting %.0f, used %.0f\n",
      name.c_str(), number(function.at("invocations")), number(function.at("cold_starts")),
      number(function.at("throttles")), number(function.at("idle_worker_seconds")),
      prepared != nullptr ? number(*prepared) : 0.0,
      prepared_starts != nullptr ? number(*prepared_starts) : 0.0);
  const auto* failures = function.if_contains("provisioned_failures");
  if (failures != nullptr && number(*failures) > 0) {
    const auto* retry = function.if_contains("provisioned_retry_in_s");
    std::printf("%-24s provisioned starts failing: %.0f in a row, next start in %s\n", name.c_str(),
                number(*failures), retry != nullptr ? seconds_text(*retry).c_str() : "-");
  }
}

// The function's asynchronous events (docs/async.md); a node without a queue sends none.
void print_async(const std::string& name, const boost::json::object& function) {
  const auto* found = function.if_contains("async");
  if (found == nullptr || !found->is_object()) return;
  const auto& async = found->as_object();
  const auto& sent = async.at("destinations").as_object();
  std::printf(
      "%-24s events queued %.0f (oldest %s), running %.0f; accepted %.0f, retried %.0f, "
      "throttled %.0f, succeeded %.0f, failed %.0f, expired %.0f; sent on_success %.0f, "
      "on_failure %.0f, dead_letter %.0f\n",
      name.c_str(), number(async.at("queued")), seconds_text(async.at("oldest_age_s")).c_str(),
      number(async.at("running")), number(async.at("accepted")), number(async.at("retries")),
      number(async.at("throttled")), number(async.at("succeeded")), number(async.at("failed")),
      number(async.at("expired")), number(sent.at("on_success")), number(sent.at("on_failure")),
      number(sent.at("dead_letter")));
}

// A line per schedule rule (docs/event-sources.md).
void print_schedules(const std::string& name, const boost::json::object& function) {
  const auto* rules = function.if_contains("schedules");
  if (rules == nullptr || !rules->is_array()) return;
  for (const auto& r : rules->as_array()) {
    const auto& rule = r.as_object();
    const auto& next = rule.at("next");
    std::printf("%-24s schedule %s %s: fired %.0f, next %s\n", name.c_str(),
                std::string(rule.at("name").as_string()).c_str(),
                std::string(rule.at("expression").as_string()).c_str(), number(rule.at("fired")),
                next.is_string() ? std::string(next.as_string()).c_str() : "never");
  }
}

// Subscribed buckets' object notifications (docs/event-sources.md); absent without any.
void print_buckets(const boost::json::object& node) {
  const auto* buckets = node.if_contains("buckets");
  if (buckets == nullptr || !buckets->is_array()) return;
  for (const auto& b : buckets->as_array()) {
    const auto& bucket = b.as_object();
    std::printf(
        "bucket %s (%s): created %.0f, removed %.0f, invocations queued %.0f, vanished %.0f, "
        "inotify overflows %.0f\n",
        std::string(bucket.at("name").as_string()).c_str(),
        std::string(bucket.at("path").as_string()).c_str(), number(bucket.at("created")),
        number(bucket.at("removed")), number(bucket.at("queued")), number(bucket.at("vanished")),
        number(bucket.at("overflows")));
  }
}

// The function's HTTP route and what it answered (docs/event-sources.md).
void print_http(const std::string& name, const boost::json::object& function) {
  const auto* http = function.if_contains("http");
  if (http == nullptr || !http->is_object()) return;
  const auto& route = http->as_object();
  std::string methods;
  for (const auto& method : route.at("methods").as_array()) {
    methods += (methods.empty() ? "" : ",") + std::string(method.as_string());
  }
  std::printf("%-24s http %s %s (%s): requests %.0f; 2xx %.0f, 3xx %.0f, 4xx %.0f, 5xx %.0f\n",
              name.c_str(), methods.empty() ? "ANY" : methods.c_str(),
              std::string(route.at("path").as_string()).c_str(),
              std::string(route.at("format").as_string()).c_str(), number(route.at("requests")),
              number(route.at("2xx")), number(route.at("3xx")), number(route.at("4xx")),
              number(route.at("5xx")));
}

void print_function(const boost::json::object& function) {
  const std::string name(function.at("name").as_string());
  print_workers(name, function);
  print_async(name, function);
  print_schedules(name, function);
  print_http(name, function);
}

}  // namespace

int ps_command(const std::vector<std::string>& args) {
  po::options_description options("ember ps [options]");
  std::string endpoint;
  options.add_options()("help,h", "show this help")(
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API")("json", "print the node's JSON as it is");
  po::variables_map vm;
  const CommandLine command_line{"ember ps",
                                 "Lists each function's workers on a running node; signs the "
                                 "request as ember invoke does.\n\n",
                                 &options};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  client::HttpRequest request;
  request.url = endpoint + "/ember/v1/functions";
  request.timeout = std::chrono::seconds(10);
  sign_from_environment(request);
  const auto reply = client::http_request(request);
  if (!reply.error.empty() || reply.status != 200) {
    std::cerr << "ember ps: "
              << (reply.error.empty() ? "HTTP " + std::to_string(reply.status) + " " +
                                            reply.header("x-amzn-errortype") + ": " + reply.body
                                      : reply.error)
              << "\n";
    return 2;
  }
  if (vm.count("json") != 0U) {
    std::cout << reply.body << "\n";
    return 0;
  }
  boost::system::error_code ec;
  const auto status = boost::json::parse(reply.body, ec);
  if (ec || !status.is_object()) {
    std::cerr << "ember ps: the node answered something that is not JSON\n";
    return 2;
  }
  const auto& node = status.as_object();
  std::printf("memory %s of %s MB, %s of %s workers\n",
              boost::json::serialize(node.at("memory_used_mb")).c_str(),
              boost::json::serialize(node.at("memory_budget_mb")).c_str(),
              boost::json::serialize(node.at("workers")).c_str(),
              boost::json::serialize(node.at("max_workers")).c_str());
  std::printf("%-24s %-28s %-12s %-12s %8s %9s %11s %10s %9s\n", "FUNCTION", "WORKER", "STATE",
              "KIND", "PID", "AGE", "INVOCATIONS", "LAST USED", "MEM PEAK");
  for (const auto& f : node.at("functions").as_array()) print_function(f.as_object());
  print_buckets(node);
  return 0;
}

}  // namespace ember::cli
