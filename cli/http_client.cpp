#include "http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <string_view>

namespace ember::cli {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<HttpReply*>(user)->body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* reply = static_cast<HttpReply*>(user);
  std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  if (name == "x-amz-function-error") reply->function_error = value;
  if (name == "x-amz-log-result") reply->log_result = value;
  if (name == "x-amzn-errortype") reply->error_type = value;
  if (name == "x-amzn-requestid") reply->request_id = value;
  return size * count;
}

}  // namespace

HttpReply http_request(const std::string& url, const std::string* body,
                       const std::vector<std::string>& headers) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  curl_slist* raw = nullptr;
  for (const auto& h : headers) raw = curl_slist_append(raw, h.c_str());
  std::unique_ptr<curl_slist, CurlDeleter> list(raw);

  HttpReply reply;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  if (body != nullptr) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &reply);
  if (const CURLcode rc = curl_easy_perform(curl.get()); rc != CURLE_OK) {
    reply.error = url + ": " + curl_easy_strerror(rc);
    return reply;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace ember::cli
