// ember invoke: calls the Invoke API of a running node with libcurl and prints the answer.
#include <curl/curl.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "ember/runtime_api/base64.hpp"

namespace ember::cli {

namespace po = boost::program_options;

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Reply {
  long status = 0;
  std::string body;
  std::string function_error;
  std::string log_result;
  std::string error_type;
  std::string request_id;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<Reply*>(user)->body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* reply = static_cast<Reply*>(user);
  std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  if (name == "x-amz-function-error") reply->function_error = value;
  if (name == "x-amz-log-result") reply->log_result = value;
  if (name == "x-amzn-errortype") reply->error_type = value;
  if (name == "x-amzn-requestid") reply->request_id = value;
  return size * count;
}

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

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<char, decltype(&curl_free)> escaped(
      curl_easy_escape(curl.get(), name.c_str(), static_cast<int>(name.size())), &curl_free);
  const std::string url = endpoint + "/2015-03-31/functions/" + escaped.get() + "/invocations";
  curl_slist* raw_headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (vm.count("log-tail") != 0U)
    raw_headers = curl_slist_append(raw_headers, "X-Amz-Log-Type: Tail");
  std::unique_ptr<curl_slist, CurlDeleter> headers(raw_headers);

  Reply reply;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &reply);
  if (const CURLcode rc = curl_easy_perform(curl.get()); rc != CURLE_OK) {
    std::cerr << "ember invoke: " << url << ": " << curl_easy_strerror(rc) << "\n";
    return 2;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);

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
