// ember invoke: calls the Invoke API of a running node with libcurl and prints the answer.
#include <curl/curl.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "ember/runtime_api/base64.hpp"
#include "http_client.hpp"

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
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API")("name", po::value(&name), "function name, name:qualifier or ARN");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
    payload = read_payload(payload);
  } catch (const std::exception& e) {
    std::cerr << "ember invoke: " << e.what() << "\n" << options;
    return 2;
  }
  if (vm.count("help") != 0U || name.empty()) {
    std::cout << "Invokes a function synchronously and prints its result.\n\n" << options;
    return vm.count("help") != 0U ? 0 : 2;
  }

  std::unique_ptr<char, decltype(&curl_free)> escaped(
      curl_easy_escape(nullptr, name.c_str(), static_cast<int>(name.size())), &curl_free);
  const std::string url = endpoint + "/2015-03-31/functions/" + escaped.get() + "/invocations";
  std::vector<std::string> headers{"Content-Type: application/json"};
  if (vm.count("log-tail") != 0U) headers.emplace_back("X-Amz-Log-Type: Tail");
  const HttpReply reply = http_request(url, &payload, headers);
  if (!reply.error.empty()) {
    std::cerr << "ember invoke: " << reply.error << "\n";
    return 2;
  }

  if (!reply.log_result.empty()) {
    if (auto log = runtime_api::base64_decode(reply.log_result)) std::cerr << *log;
  }
  if (reply.status >= 300) {
    std::cerr << "ember invoke: HTTP " << reply.status << " " << reply.error_type << " (request "
              << reply.request_id << "): " << reply.body << "\n";
    return 2;
  }
  std::cout << reply.body << "\n";
  if (!reply.function_error.empty()) {
    std::cerr << "ember invoke: function error (" << reply.function_error << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace ember::cli
