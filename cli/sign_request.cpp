#include "sign_request.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "ember/runtime_api/sigv4.hpp"

namespace ember::cli {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads
  return value == nullptr ? std::string() : std::string(value);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return text;
}

}  // namespace

void sign_from_environment(client::HttpRequest& request) {
  const std::string key_id = env("AWS_ACCESS_KEY_ID");
  const std::string secret = env("AWS_SECRET_ACCESS_KEY");
  if (key_id.empty() || secret.empty()) return;
  std::string region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = "us-east-1";

  // http://AUTHORITY/TARGET: libcurl sends AUTHORITY as the Host header; it is set here so
  // what is signed is what is sent.
  const auto scheme_end = request.url.find("://");
  const auto authority_begin = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto target_begin = std::min(request.url.find('/', authority_begin), request.url.size());
  const std::string authority = request.url.substr(authority_begin, target_begin - authority_begin);
  const std::string target =
      target_begin < request.url.size() ? request.url.substr(target_begin) : std::string("/");
  const std::string amz_date = runtime_api::sigv4::amz_date(std::chrono::system_clock::now());
  request.headers.push_back("Host: " + authority);
  request.headers.push_back("X-Amz-Date: " + amz_date);

  runtime_api::sigv4::SignedRequest signed_request;
  signed_request.method = request.body ? "POST" : "GET";
  signed_request.target = target;
  std::vector<std::string> names;
  for (const std::string& header : request.headers) {
    const auto colon = header.find(':');
    const std::string_view name = std::string_view(header).substr(0, colon);
    std::string_view value = std::string_view(header).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    signed_request.headers.emplace_back(name, value);
    names.push_back(lower(std::string(name)));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers;
  for (const std::string& name : names) {
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  const std::string payload_hash = runtime_api::sigv4::sha256_hex(request.body.value_or(""));
  signed_request.payload_hash = payload_hash;
  const runtime_api::sigv4::Signer signer{
      .access_key_id = key_id, .secret_access_key = secret, .region = region, .service = "lambda"};
  request.headers.push_back(
      "Authorization: " +
      runtime_api::sigv4::authorization_header(signer, signed_request, amz_date, signed_headers));
}

}  // namespace ember::cli
