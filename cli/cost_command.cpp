// ember cost: what a running node's invocations would cost on Lambda, per function, with the
// free tier apart; from its GET /ember/v1/functions (the node prices them, node.cost).
#include <boost/json/parse.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/client/http.hpp"
#include "ember/metrics/cost.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

double number(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || v->is_null() ? 0.0 : v->to_number<double>();
}

void print_row(const char* name, const boost::json::object& usage) {
  std::printf("%-24s %12.0f %16.6f %14.8f %14.8f %14.8f\n", name, number(usage, "requests"),
              number(usage, "gb_seconds"), number(usage, "requests_usd"),
              number(usage, "compute_usd"), number(usage, "cost_usd"));
}

}  // namespace

int cost_command(const std::vector<std::string>& args) {
  po::options_description options("ember cost [options]");
  std::string endpoint;
  options.add_options()("help,h", "show this help")(
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API");
  po::variables_map vm;
  const CommandLine command_line{
      "ember cost",
      "Prints what a running node's invocations since it started would cost on Lambda: per "
      "function its billed requests and GB-seconds (Billed Duration x Memory Size) at the "
      "node's prices (node.cost), then the free tier apart.\n\n",
      &options};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  client::HttpRequest request;
  request.url = endpoint + "/ember/v1/functions";
  request.timeout = std::chrono::seconds(10);
  const auto reply = client::http_request(request);
  if (!reply.error.empty() || reply.status != 200) {
    // The client's error names the URL already.
    std::cerr << "ember cost: "
              << (reply.error.empty() ? request.url + ": HTTP " + std::to_string(reply.status)
                                      : reply.error)
              << "\n";
    return 2;
  }
  boost::system::error_code ec;
  const auto status = boost::json::parse(reply.body, ec);
  if (ec || !status.is_object()) {
    std::cerr << "ember cost: " << endpoint << " answered something that is not JSON\n";
    return 2;
  }
  const auto& node = status.as_object();
  const auto* cost = node.if_contains("cost");
  if (cost == nullptr || !cost->is_object()) {
    std::cerr << "ember cost: the node at " << endpoint
              << " keeps no cost figures (node.metrics: false, or a node from before them)\n";
    return 2;
  }
  const auto& total = cost->as_object();
  std::printf("%-24s %12s %16s %14s %14s %14s\n", "FUNCTION", "REQUESTS", "GB-SECONDS",
              "REQUESTS USD", "COMPUTE USD", "TOTAL USD");
  for (const auto& f : node.at("functions").as_array()) {
    const auto& function = f.as_object();
    const auto* billed = function.if_contains("billed");
    if (billed == nullptr || !billed->is_object()) continue;
    print_row(std::string(function.at("name").as_string()).c_str(), billed->as_object());
  }
  print_row("all functions", total);
  const auto& tier = total.at("free_tier").as_object();
  std::printf(
      "free tier (%.0f requests and %.0f GB-seconds a month): covers %.0f requests and %.6f "
      "GB-seconds, %.8f USD\n",
      number(tier, "free_requests"), number(tier, "free_gb_seconds"), number(tier, "requests"),
      number(tier, "gb_seconds"), number(tier, "covered_usd"));
  std::printf("due after the free tier: %.8f USD\n", number(total, "due_usd"));
  std::printf("since the node started, at %s USD per million requests and %s USD per GB-second\n",
              metrics::price_text(number(total, "usd_per_million_requests")).c_str(),
              metrics::price_text(number(total, "usd_per_gb_second")).c_str());
  return 0;
}

}  // namespace ember::cli
