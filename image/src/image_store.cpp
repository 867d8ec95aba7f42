// The node's store of unpacked images (docs/images.md, "The store"):
//   DIR/sha256-HEX/rootfs/        the image's root, complete (renamed into place last)
//   DIR/sha256-HEX/image.json     digest, source, unpacked size, config
//   DIR/tmp-sha256-HEX/           an unpack in progress, or one a crash left behind
//   DIR/locks/sha256-HEX.lock     exclusive: unpacking or removing; shared: leased
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "ember/image/image.hpp"
#include "ember/isolation/unique_fd.hpp"
#include "image_source.hpp"
#include "layer_unpacker.hpp"
#include "manifest.hpp"
#include "sha256.hpp"
#include "store_lock.hpp"

namespace ember::image {

namespace fs = std::filesystem;
namespace json = boost::json;
using isolation::UniqueFd;

namespace {

constexpr std::string_view kMetadata = "image.json";
constexpr std::string_view kTmpPrefix = "tmp-";

// "sha256:HEX" -> "sha256-HEX" (':' is awkward in paths, and in mount options).
std::string dir_name(const std::string& digest) {
  std::string name = digest;
  name[name.find(':')] = '-';
  return name;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// Runs `body`, turning its ImageError into one that names the image.
template <class Body>
auto naming(const ImageRef& ref, Body body) {
  try {
    return body();
  } catch (const ImageError& e) {
    throw ImageError(ref.to_string() + ": " + e.what());
  }
}

json::array to_json(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) out.emplace_back(item.as_string());
  return out;
}

std::string metadata_json(const StoredImage& image) {
  const ImageConfig& c = image.config;
  const json::object o = {{"digest", image.digest},
                          {"source", image.source},
                          {"unpacked_bytes", image.unpacked_bytes},
                          {"config",
                           {{"entrypoint", to_json(c.entrypoint)},
                            {"cmd", to_json(c.cmd)},
                            {"env", to_json(c.env)},
                            {"working_dir", c.working_dir},
                            {"user", c.user}}}};
  return json::serialize(o);
}

// The image stored at `dir`, or nullopt when `dir` is not a complete image.
std::optional<StoredImage> read_stored(const fs::path& dir) {
  std::ifstream in(dir / kMetadata);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json::value v = json::parse(text.str());
    StoredImage image;
    image.digest = std::string(v.at("digest").as_string());
    image.source = std::string(v.at("source").as_string());
    image.unpacked_bytes = v.at("unpacked_bytes").to_number<std::uint64_t>();
    const auto& c = v.at("config");
    image.config.entrypoint = strings(c.at("entrypoint"));
    image.config.cmd = strings(c.at("cmd"));
    image.config.env = strings(c.at("env"));
    image.config.working_dir = std::string(c.at("working_dir").as_string());
    image.config.user = std::string(c.at("user").as_string());
    image.rootfs = dir / "rootfs";
    return image;
  } catch (const std::exception&) {
    return std::nullopt;  // not written by this version: treated as absent
  }
}

void write_file(const fs::path& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw ImageError("open " + path.string() + ": " + errno_text(errno));
  if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    throw ImageError("write " + path.string() + ": " + errno_text(errno));
  }
}

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace

ImageLease::ImageLease(ImageLease&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ImageLease& ImageLease::operator=(ImageLease&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ImageLease::~ImageLease() {
  if (fd_ >= 0) ::close(fd_);
}

ImageStore::ImageStore(StoreOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.dir / "locks", ec);
  if (ec) {
    throw ImageError("create " + (options_.dir / "locks").string() + ": " + ec.message());
  }
  // Sandboxes of any uid traverse it to their root.
  fs::permissions(options_.dir, fs::perms(0755), ec);
}

std::string ImageStore::resolve(const ImageRef& ref) const {
  return naming(ref, [&] {
    auto source = open_source(ref);
    return resolve_image(*source, ref, options_.platform).digest;
  });
}

// Not const: it changes the store on disk.
// NOLINTNEXTLINE(readability-make-member-function-const)
StoredImage ImageStore::ensure(const ImageRef& ref) {
  return naming(ref, [&] {
    auto source = open_source(ref);
    const ResolvedImage resolved = resolve_image(*source, ref, options_.platform);
    const fs::path final_dir = options_.dir / dir_name(resolved.digest);
    if (auto stored = read_stored(final_dir)) return *stored;

    // One unpack per image across threads and processes; the loser finds it done.
    const UniqueFd lock =
        lock_file(options_.dir / "locks" / (dir_name(resolved.digest) + ".lock"), LOCK_EX);
    if (auto stored = read_stored(final_dir)) return *stored;

    const fs::path tmp = options_.dir / (std::string(kTmpPrefix) + dir_name(resolved.digest));
    remove_quietly(tmp);        // a crashed unpack's leftovers (we hold the lock)
    remove_quietly(final_dir);  // not an image without its image.json (made by hand?)
    try {
      if (::mkdir(tmp.c_str(), 0755) != 0 || ::mkdir((tmp / "rootfs").c_str(), 0755) != 0) {
        throw ImageError("mkdir " + tmp.string() + ": " + errno_text(errno));
      }
      const UniqueFd root(::open((tmp / "rootfs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!root) throw ImageError("open " + tmp.string() + "/rootfs: " + errno_text(errno));
      LayerUnpacker unpacker(root.get(), options_.max_unpacked_bytes);
      for (const auto& layer : resolved.layers) {
        auto blob = source->open(layer.path);
        if (!blob) {
          throw ImageError("layer " + layer.digest + ": blob missing (" + layer.path + ")");
        }
        unpacker.apply(*blob, layer);
      }
      unpacker.finish();

      StoredImage image;
      image.digest = resolved.digest;
      image.config = resolved.config;
      image.unpacked_bytes = unpacker.unpacked_bytes();
      image.source = ref.to_string();
      write_file(tmp / kMetadata, metadata_json(image));
      write_file(tmp / "config.json", resolved.config_json);
      // Durable before it is visible: one syncfs for the whole tree, not an fsync per file.
      if (::syncfs(root.get()) != 0) throw ImageError("syncfs: " + errno_text(errno));
      if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
        throw ImageError("rename " + tmp.string() + ": " + errno_text(errno));
      }
      const UniqueFd dir(::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dir) ::fsync(dir.get());
      image.rootfs = final_dir / "rootfs";
      return image;
    } catch (...) {
      remove_quietly(tmp);
      throw;
    }
  });
}

ImageLease ImageStore::lease(const std::string& digest) const {
  if (!is_sha256_digest(digest)) throw ImageError("not an image digest: \"" + digest + "\"");
  const fs::path dir = options_.dir / dir_name(digest);
  if (!read_stored(dir)) throw ImageError("image " + digest + " is not in the store");
  UniqueFd fd = lock_file(options_.dir / "locks" / (dir_name(digest) + ".lock"), LOCK_SH);
  // prune() may have removed it between the check and the lock.
  if (!read_stored(dir)) throw ImageError("image " + digest + " is not in the store");
  return ImageLease(fd.release());
}

std::optional<StoredImage> ImageStore::find(const std::string& digest) const {
  if (!is_sha256_digest(digest)) return std::nullopt;
  return read_stored(options_.dir / dir_name(digest));
}

std::vector<StoredImage> ImageStore::list() const {
  std::vector<StoredImage> images;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.substr(0, 7) != "sha256-") continue;
    if (auto image = read_stored(entry.path())) images.push_back(std::move(*image));
  }
  std::sort(images.begin(), images.end(),
            [](const StoredImage& a, const StoredImage& b) { return a.digest < b.digest; });
  return images;
}

// Not const: it changes the store on disk.
// NOLINTNEXTLINE(readability-make-member-function-const)
std::vector<std::string> ImageStore::prune(const std::set<std::string>& keep) {
  std::vector<std::string> removed;
  std::vector<fs::path> leftovers;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.substr(0, kTmpPrefix.size()) == kTmpPrefix) leftovers.push_back(entry.path());
  }
  // Unpacks that crashed: their lock is free (a live unpack holds it).
  for (const auto& tmp : leftovers) {
    const std::string digest_dir = tmp.filename().string().substr(kTmpPrefix.size());
    const UniqueFd lock =
        lock_file(options_.dir / "locks" / (digest_dir + ".lock"), LOCK_EX | LOCK_NB);
    if (lock) remove_quietly(tmp);
  }
  for (const auto& image : list()) {
    if (keep.contains(image.digest)) continue;
    const fs::path lock_path = options_.dir / "locks" / (dir_name(image.digest) + ".lock");
    const UniqueFd lock = lock_file(lock_path, LOCK_EX | LOCK_NB);
    if (!lock) continue;  // leased: in use
    const fs::path dir = options_.dir / dir_name(image.digest);
    const fs::path tmp = options_.dir / (std::string(kTmpPrefix) + dir_name(image.digest));
    // Renamed first, so a crash while deleting leaves a leftover, never a partial image.
    remove_quietly(tmp);
    if (::rename(dir.c_str(), tmp.c_str()) != 0) continue;
    remove_quietly(tmp);
    ::unlink(lock_path.c_str());
    removed.push_back(image.digest);
  }
  return removed;
}

}  // namespace ember::image
