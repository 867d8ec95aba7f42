#include "code_fingerprint.hpp"

#include <sys/stat.h>

#include <array>
#include <string_view>
#include <system_error>

namespace ember::cli {

namespace fs = std::filesystem;

namespace {

// FNV-1a, 64 bits: change detection only, nothing an adversary gains by colliding (a
// function's author could as well change its settings).
class Fnv1a {
 public:
  void add(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= kPrime;
    }
    add_separator();
  }
  void add(std::uint64_t value) {
    std::array<char, sizeof value> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes.at(i) = static_cast<char>((value >> (8U * i)) & 0xffU);
    }
    add(std::string_view(bytes.data(), bytes.size()));
  }
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  static constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  void add_separator() {
    hash_ ^= 0xffU;
    hash_ *= kPrime;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void add_stat(Fnv1a& hash, const struct stat& st) {
  hash.add(static_cast<std::uint64_t>(st.st_mode));
  hash.add(static_cast<std::uint64_t>(st.st_size));
  hash.add(static_cast<std::uint64_t>(st.st_mtim.tv_sec));
  hash.add(static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
}

// Bounds the walk of a tree someone pointed at something huge.
constexpr std::size_t kMaxEntries = 200'000;

}  // namespace

std::uint64_t tree_fingerprint(const fs::path& root) {
  Fnv1a hash;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  std::size_t entries = 0;
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (++entries > kMaxEntries) break;
    const fs::path& path = it->path();
    // Python's byte-code caches follow the sources: a worker without a sandbox writes them
    // into the code directory as it imports, which is not a change of the code.
    if (path.filename() == "__pycache__") {
      it.disable_recursion_pending();
      continue;
    }
    hash.add(path.lexically_relative(root).native());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    add_stat(hash, st);
    if (S_ISLNK(st.st_mode)) hash.add(fs::read_symlink(path, ec).native());
  }
  return hash.value();
}

std::uint64_t file_fingerprint(const fs::path& file) {
  Fnv1a hash;
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    add_stat(hash, st);
    hash.add(static_cast<std::uint64_t>(st.st_ino));
  }
  return hash.value();
}

std::map<std::string, std::uint64_t> code_fingerprints(
    const config::Config& config, const std::map<std::string, image::StoredImage>& images) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& f : config.functions) {
    Fnv1a hash;
    if (const auto it = images.find(f.name); it != images.end()) hash.add(it->second.digest);
    if (!f.code_dir.empty()) hash.add(tree_fingerprint(f.code_dir));
    for (const auto& layer : f.layers) hash.add(tree_fingerprint(layer));
    out.emplace(f.name, hash.value());
  }
  return out;
}

}  // namespace ember::cli
