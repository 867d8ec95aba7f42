#include "ember/client/aws_credentials.hpp"

#include <cstdlib>

namespace ember::client {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::optional<AwsCredentials> aws_credentials_from_environment() {
  AwsCredentials out{.access_key_id = env("AWS_ACCESS_KEY_ID"),
                     .secret_access_key = env("AWS_SECRET_ACCESS_KEY"),
                     .region = env("AWS_REGION")};
  if (out.access_key_id.empty() || out.secret_access_key.empty()) return std::nullopt;
  if (out.region.empty()) out.region = env("AWS_DEFAULT_REGION");
  if (out.region.empty()) out.region = "us-east-1";
  return out;
}

}  // namespace ember::client
