// ember logs: a function's log lines from a running node's GET /ember/v1/logs/NAME, which
// reads its files across rotation and, with --follow, streams new lines (docs/operating.md#logs).
#include <boost/json/parse.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/client/http.hpp"
#include "sign_request.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

// "90s", "10m", "2h", "1d", "1w", and sums of them ("1h30m"); nullopt when it is not one.
std::optional<std::uint64_t> duration_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint64_t n = 0;
    const std::size_t digits_from = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > 1'000'000'000) return std::nullopt;  // far more than any log is kept
      n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
    }
    if (i == digits_from || i == text.size()) return std::nullopt;  // no number, or no unit
    switch (text[i++]) {
      case 's':
        total += n;
        break;
      case 'm':
        total += n * 60;
        break;
      case 'h':
        total += n * 3600;
        break;
      case 'd':
        total += n * 86400;
        break;
      case 'w':
        total += n * 604800;
        break;
      default:
        return std::nullopt;
    }
  }
  return total;
}

// The node's error message ({"Message": ...}), or the body as it is.
std::string message_of(const std::string& body) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (const auto* m = value.as_object().if_contains("Message"); m != nullptr && m->is_string()) {
      return std::string(m->as_string());
    }
  }
  return body;
}

}  // namespace

int logs_command(const std::vector<std::string>& args) {
  po::options_description options("ember logs NAME [options]");
  std::string name;
  std::string since;
  std::string request_id;
  std::string endpoint;
  options.add_options()("help,h", "show this help")(
      "follow,f", "keep printing new lines as the function writes them, until Ctrl-C")(
      "since,s", po::value(&since),
      "only lines of the last DURATION: 30s, 10m, 2h, 1d, 1w or sums like 1h30m")(
      "request-id,r", po::value(&request_id), "only the lines of that invocation, START to REPORT")(
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API")("name", po::value(&name), "function name");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  constexpr const char* kAbout =
      "Prints a function's log lines from a running node, oldest first, across rotated files.\n"
      "With AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, the request is signed (SigV4) for "
      "a node with node.auth; the key must allow \"*\".\n\n";
  const CommandLine command_line{"ember logs", kAbout, &options, nullptr, &positional};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  if (name.empty()) {
    std::cerr << "ember logs: name the function: ember logs NAME\n";
    return 2;
  }
  std::string query;
  if (vm.count("since") != 0U) {
    const auto seconds = duration_seconds(since);
    if (!seconds) {
      std::cerr << "ember logs: --since '" << since
                << "' is not a duration (a number and a unit s, m, h, d or w, like 10m or "
                   "1h30m)\n";
      return 2;
    }
    query += "&since=" + std::to_string(*seconds);
  }
  if (vm.count("request-id") != 0U) {
    if (request_id.empty()) {
      std::cerr << "ember logs: --request-id is empty\n";
      return 2;
    }
    query += "&request_id=" + client::url_escape(request_id);
  }
  const bool follow = vm.count("follow") != 0U;
  if (follow) query += "&follow=1";
  if (!query.empty()) query[0] = '?';

  client::HttpRequest request;
  request.url = endpoint + "/ember/v1/logs/" + client::url_escape(name) + query;
  // Without --follow the node ends the answer; with it, it runs until Ctrl-C.
  request.timeout = follow ? std::chrono::milliseconds(0) : std::chrono::milliseconds(120'000);
  request.on_body = [](std::string_view piece) {
    return std::fwrite(piece.data(), 1, piece.size(), stdout) == piece.size() &&
           std::fflush(stdout) == 0;
  };
  sign_from_environment(request);
  const auto reply = client::http_request(request);
  if (!reply.error.empty()) {
    std::cerr << "ember logs: " << reply.error << "\n";
    return 2;
  }
  if (reply.status != 200) {
    std::cerr << "ember logs: " << name << ": " << message_of(reply.body) << " (HTTP "
              << reply.status << " " << reply.header("x-amzn-errortype") << ")\n";
    return reply.status == 404 ? 1 : 2;
  }
  return 0;
}

}  // namespace ember::cli
