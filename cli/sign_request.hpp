// Signs what `ember invoke` and `ember ps` send with AWS Signature Version 4, from the same
// environment variables the AWS CLI reads, so they work against a node with `node.auth`.
#pragma once

#include "ember/client/http.hpp"

namespace ember::cli {

// With AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, adds Host, X-Amz-Date and an
// Authorization header signing `request` (its URL, body and every header it has) for service
// `lambda` in AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. Without them: nothing.
void sign_from_environment(client::HttpRequest& request);

}  // namespace ember::cli
