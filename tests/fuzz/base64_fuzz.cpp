// Base64 as clients send it (X-Amz-Client-Context, control-plane ZipFile): whatever decodes
// encodes back to the same text, and whatever is encoded decodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/runtime_api/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ember::runtime_api;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = base64_decode(text)) {
    if (base64_encode(*decoded) != text) __builtin_trap();
  }
  auto back = base64_decode(base64_encode(text));
  if (!back || *back != text) __builtin_trap();
  return 0;
}
