#include "ember/runtime_api/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace ember::runtime_api {

namespace b64 = boost::beast::detail::base64;

std::string base64_encode(std::string_view data) {
  std::string out(b64::encoded_size(data.size()), '\0');
  out.resize(b64::encode(out.data(), data.data(), data.size()));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(b64::decoded_size(text.size()), '\0');
  const auto [written, consumed] = b64::decode(out.data(), text.data(), text.size());
  // Beast stops at the first character outside the alphabet; '=' padding is the only
  // allowed stop, and only in the last two places.
  if (consumed != text.size()) {
    const auto tail = text.substr(consumed);
    if (tail.size() > 2 || tail.find_first_not_of('=') != std::string_view::npos) {
      return std::nullopt;
    }
  }
  out.resize(written);
  return out;
}

}  // namespace ember::runtime_api
