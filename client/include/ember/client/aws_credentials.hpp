// The credentials the AWS CLI reads from its environment, for ember's own clients (ember
// invoke, ps, logs, reload and bench) to sign what they send to a node with `node.auth`.
#pragma once

#include <optional>
#include <string>

namespace ember::client {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
};

// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in AWS_REGION, else AWS_DEFAULT_REGION, else
// us-east-1; nullopt unless both keys are set. Reads the environment: call it before threads.
std::optional<AwsCredentials> aws_credentials_from_environment();

}  // namespace ember::client
