// ember invoke: calls the Invoke API of a running node and prints the answer.
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/client/http.hpp"
#include "ember/runtime_api/base64.hpp"
#include "sign_request.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

std::string read_payload(const std::string& arg) {
  if (!arg.starts_with("@")) return arg;
  const std::string path = arg.substr(1);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read payload file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int invoke_command(const std::vector<std::string>& args) {
  po::options_description options("ember invoke NAME [options]");
  std::string name;
  std::string payload;
  std::string endpoint;
  options.add_options()("help,h", "show this help")(
      "payload,p", po::value(&payload)->default_value("{}"), "JSON event, or @FILE to read it")(
      "log-tail,l", "print the invocation's log tail (X-Amz-Log-Type: Tail) to stderr")(
      "event,E",
      "invoke asynchronously (X-Amz-Invocation-Type: Event): print the request id once the "
      "node has stored the event")(
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API")("name", po::value(&name), "function name, name:qualifier or ARN");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  constexpr const char* kAbout =
      "Invokes a function and prints its result (or, with --event, the accepted request id).\n"
      "With AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, the request is signed (SigV4, "
      "region AWS_REGION or AWS_DEFAULT_REGION) for a node with node.auth.\n\n";
  const CommandLine command_line{"ember invoke", kAbout, &options, nullptr, &positional};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  if (name.empty()) {
    std::cout << kAbout << options;
    return 2;
  }
  try {
    payload = read_payload(payload);
  } catch (const std::exception& e) {
    std::cerr << "ember invoke: " << e.what() << "\n";
    return 2;
  }

  client::HttpRequest request;
  request.url = endpoint + "/2015-03-31/functions/" + client::url_escape(name) + "/invocations";
  request.body = payload;
  request.headers = {"Content-Type: application/json"};
  if (vm.count("log-tail") != 0U) request.headers.emplace_back("X-Amz-Log-Type: Tail");
  const bool event = vm.count("event") != 0U;
  if (event) request.headers.emplace_back("X-Amz-Invocation-Type: Event");
  // The answer may take as long as the function may run (timeout_s up to 900 s), plus its
  // start (init is bounded at 10 s).
  request.timeout = std::chrono::seconds(930);
  sign_from_environment(request);
  const auto reply = client::http_request(request);
  if (!reply.error.empty()) {
    std::cerr << "ember invoke: " << reply.error << "\n";
    return 2;
  }

  if (const auto tail = reply.header("x-amz-log-result"); !tail.empty()) {
    if (auto log = runtime_api::base64_decode(tail)) std::cerr << *log;
  }
  if (reply.status >= 300) {
    std::cerr << "ember invoke: HTTP " << reply.status << " " << reply.header("x-amzn-errortype")
              << " (request " << reply.header("x-amzn-requestid") << "): " << reply.body << "\n";
    return 2;
  }
  if (event) {
    std::cout << "accepted: request " << reply.header("x-amzn-requestid") << "\n";
    return 0;
  }
  std::cout << reply.body << "\n";
  if (const auto error = reply.header("x-amz-function-error"); !error.empty()) {
    std::cerr << "ember invoke: function error (" << error << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace ember::cli
