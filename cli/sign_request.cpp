#include "sign_request.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "ember/client/aws_credentials.hpp"
#include "ember/runtime_api/sigv4.hpp"

namespace ember::cli {

void sign_from_environment(client::HttpRequest& request) {
  const auto credentials = client::aws_credentials_from_environment();
  if (!credentials) return;

  // http://AUTHORITY/TARGET: libcurl sends AUTHORITY as the Host header; it is set here so
  // what is signed is what is sent.
  const auto scheme_end = request.url.find("://");
  const auto authority_begin = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto target_begin = std::min(request.url.find('/', authority_begin), request.url.size());
  const std::string authority = request.url.substr(authority_begin, target_begin - authority_begin);
  const std::string target =
      target_begin < request.url.size() ? request.url.substr(target_begin) : std::string("/");
  request.headers.push_back("Host: " + authority);

  const runtime_api::sigv4::Signer signer{.access_key_id = credentials->access_key_id,
                                          .secret_access_key = credentials->secret_access_key,
                                          .region = credentials->region,
                                          .service = "lambda"};
  auto signature =
      runtime_api::sigv4::sign(signer, request.body ? "POST" : "GET", target,
                               runtime_api::sigv4::header_views(request.headers),
                               request.body.value_or(""), std::chrono::system_clock::now());
  request.headers.push_back("X-Amz-Date: " + signature.amz_date);
  request.headers.push_back("Authorization: " + signature.authorization);
}

}  // namespace ember::cli
