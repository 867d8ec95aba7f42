// Container images (package type Image): references in skopeo's transport syntax, and the
// node's store of unpacked images (docs/images.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ember::image {

// Any problem with an image or its reference. what() is one line naming the image (the
// reference as written) and the problem: "oci:/x/img:v1: layer sha256:ab..: digest mismatch".
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Transport {
  kOciLayout,      // oci:DIR[:TAG]
  kOciArchive,     // oci-archive:FILE[:TAG]
  kDockerArchive,  // docker-archive:FILE[:NAME:TAG]   (what `docker save` writes)
};

struct ImageRef {
  Transport transport = Transport::kOciLayout;
  std::filesystem::path path;  // absolute
  std::string tag;             // oci: the tag; docker-archive: "NAME:TAG"; empty = the only one

  // Canonical text with the absolute path: parse_image_ref(to_string(), "/") gives it back.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

// Parses "TRANSPORT:PATH[:TAG]"; a relative PATH is taken relative to `relative_to`.
// Throws ImageError for an unknown transport or an empty path. Does not touch the file.
ImageRef parse_image_ref(std::string_view text, const std::filesystem::path& relative_to);

// What the image's config says about running it (OCI image-spec config "config" object).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=VALUE", in the image's order
  std::string working_dir;       // empty = "/"
  std::string user;              // as written in the image; informational

  friend bool operator==(const ImageConfig&, const ImageConfig&) = default;
};

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH names: amd64, arm64, ...
  std::string variant;       // e.g. "v8"; empty when none

  // The platform of the running node.
  static Platform host();
  // "linux/amd64", "linux/arm64/v8".
  [[nodiscard]] std::string to_string() const;
};

// The layer blobs of an OCI layout's image (`oci:DIR[:TAG]`) for `platform`, in the order
// they apply, as files other tools can read (the bench's `tar -x` baseline). Checks the index
// and manifest as ImageStore::resolve does; throws ImageError, also for other transports.
std::vector<std::filesystem::path> layout_layer_files(const ImageRef& ref,
                                                      const Platform& platform);

// An image unpacked in the store.
struct StoredImage {
  std::string digest;            // "sha256:<hex>" of the platform's image manifest
  std::filesystem::path rootfs;  // read-only root for sandboxes; readable by any uid
  ImageConfig config;
  std::uint64_t unpacked_bytes = 0;
  std::string source;  // the reference it was first unpacked from
};

// While alive, the image it names is in use (a shared lock on it): prune() leaves it alone,
// also when prune runs in another process (`ember image prune` beside a running node).
class ImageLease {
 public:
  ImageLease() = default;
  explicit ImageLease(int locked_fd) : fd_(locked_fd) {}
  ImageLease(const ImageLease&) = delete;
  ImageLease& operator=(const ImageLease&) = delete;
  ImageLease(ImageLease&& other) noexcept;
  ImageLease& operator=(ImageLease&& other) noexcept;
  ~ImageLease();

 private:
  int fd_ = -1;
};

struct StoreOptions {
  std::filesystem::path dir;                       // STATE_DIR/images; created when missing
  std::uint64_t max_unpacked_bytes = 10ULL << 30;  // Lambda's limit
  Platform platform = Platform::host();
};

// The unpacked images of a node: each image once per manifest digest, shared by every
// function and worker that uses it. Safe to use from several threads and processes at once
// (a lock file in `dir`): two nodes unpacking the same image unpack it once.
class ImageStore {
 public:
  explicit ImageStore(StoreOptions options);

  // The manifest digest `ref` names for the store's platform. Reads the index and manifest
  // and checks their digests; unpacks nothing. Throws ImageError.
  [[nodiscard]] std::string resolve(const ImageRef& ref) const;

  // The image `ref` names, unpacked. When the store lacks it: every blob's sha256 checked,
  // layers applied in order into a temporary directory that is renamed into place only when
  // complete. Throws ImageError (the temporary directory is removed).
  StoredImage ensure(const ImageRef& ref);

  // Marks the stored image `digest` in use until the lease ends. Throws ImageError when the
  // store does not have it.
  [[nodiscard]] ImageLease lease(const std::string& digest) const;

  // The stored image `digest` ("sha256:HEX"), or nullopt when the store does not have it
  // (never unpacks; the source it came from may be gone).
  [[nodiscard]] std::optional<StoredImage> find(const std::string& digest) const;

  // Every complete image in the store.
  [[nodiscard]] std::vector<StoredImage> list() const;

  // Removes the stored images whose digest is not in `keep` and no running node uses (see
  // lease()); returns the digests removed.
  std::vector<std::string> prune(const std::set<std::string>& keep);

 private:
  StoreOptions options_;
};

}  // namespace ember::image
