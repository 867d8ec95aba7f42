// Streaming SHA-256 (OpenSSL's libcrypto), the digest of every blob an image is made of.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ember::image {

class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  ~Sha256();

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // The 32 bytes of the sum; the object cannot be updated after this.
  std::string raw_digest();
  // "sha256:<64 lowercase hex>"; the object cannot be updated after this.
  std::string digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// "sha256:<hex>" of `data`.
std::string sha256_digest(std::string_view data);

// True for "sha256:" followed by 64 lowercase hex digits (the only algorithm ember accepts).
bool is_sha256_digest(std::string_view digest);

}  // namespace ember::image
