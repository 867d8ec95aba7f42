// Base64 for X-Amz-Client-Context and X-Amz-Log-Result, on OpenSSL's libcrypto.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ember::runtime_api {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not canonical base64 (bad characters, bad length or padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ember::runtime_api
