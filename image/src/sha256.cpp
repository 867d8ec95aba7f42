#include "sha256.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace ember::image {

struct Sha256::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Context() {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      throw std::runtime_error("EVP_DigestInit_ex sha256 failed");
    }
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&&) = delete;
  Context& operator=(Context&&) = delete;
  ~Context() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(context_->ctx, data, size) != 1) {
    throw std::runtime_error("EVP_DigestUpdate sha256 failed");
  }
}

std::string Sha256::raw_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->ctx, md.data(), &length) != 1) {
    throw std::runtime_error("EVP_DigestFinal_ex sha256 failed");
  }
  return {md.begin(), md.begin() + length};
}

// image's own hex loop, the one copy besides runtime_api::hex_encode. image sits below the
// Lambda APIs, beside isolation (config links it too); linking runtime-api for these lines
// would put the HTTP APIs and Boost.URL under the image store and the config loader.
std::string Sha256::digest() {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "sha256:";
  for (const char c : raw_digest()) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4U];
    out += kHex[byte & 0xFU];
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.digest();
}

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  return std::all_of(digest.begin() + kPrefix.size(), digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace ember::image
