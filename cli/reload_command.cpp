// ember reload: asks a running node to re-read its configuration file, as SIGHUP does, and
// says what changed.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>
#include <iostream>

#include "command_line.hpp"
#include "commands.hpp"
#include "ember/client/http.hpp"
#include "sign_request.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

std::string names(const boost::json::object& outcome, const char* key) {
  std::string out;
  for (const auto& name : outcome.at(key).as_array()) {
    out += (out.empty() ? "" : ", ") + std::string(name.as_string());
  }
  return out.empty() ? "-" : out;
}

}  // namespace

int reload_command(const std::vector<std::string>& args) {
  po::options_description options("ember reload [options]");
  std::string endpoint;
  options.add_options()("help,h", "show this help")(
      "endpoint,e", po::value(&endpoint)->default_value("http://127.0.0.1:9000"),
      "the node's Invoke API");
  po::variables_map vm;
  const CommandLine command_line{
      "ember reload",
      "Makes a running node re-read its YAML file, as SIGHUP does: added, removed and changed "
      "functions take effect, invocations in flight finish. Exits 1 when the node refused the "
      "file (it keeps serving the previous one). Signs the request as ember invoke does.\n\n",
      &options};
  if (const auto exit_code = parse_command_line(args, command_line, vm)) return *exit_code;
  client::HttpRequest request;
  request.url = endpoint + "/ember/v1/reload";
  request.body = "";
  request.timeout = std::chrono::minutes(10);  // a changed image may be unpacked first
  sign_from_environment(request);
  const auto reply = client::http_request(request);
  boost::system::error_code ec;
  const auto answer = boost::json::parse(reply.body, ec);
  if (!reply.error.empty() || ec || !answer.is_object() ||
      (reply.status != 200 && !answer.as_object().contains("refused"))) {
    std::cerr << "ember reload: "
              << (reply.error.empty() ? "HTTP " + std::to_string(reply.status) + " " +
                                            reply.header("x-amzn-errortype") + ": " + reply.body
                                      : reply.error)
              << "\n";
    return 2;
  }
  const auto& outcome = answer.as_object();
  if (const auto* refused = outcome.if_contains("refused")) {
    std::cerr << "ember reload: refused, the node serves its previous configuration: "
              << refused->as_string().c_str() << "\n";
    return 1;
  }
  std::cout << "added:     " << names(outcome, "added") << "\n"
            << "replaced:  " << names(outcome, "replaced") << "\n"
            << "removed:   " << names(outcome, "removed") << "\n"
            << "unchanged: " << boost::json::serialize(outcome.at("unchanged")) << "\n";
  if (!outcome.at("not_applied").as_array().empty()) {
    std::cout << "at the next start only: " << names(outcome, "not_applied") << "\n";
  }
  return 0;
}

}  // namespace ember::cli
