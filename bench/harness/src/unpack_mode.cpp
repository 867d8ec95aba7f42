// `ember bench unpack --image oci:DIR:TAG`: an image's first use, unpacked into an empty store
// (every blob's digest checked, whiteouts applied, one syncfs), next to GNU tar extracting the
// same layer files in order into an empty directory, then `sync -f` (the same durability), in
// the same run, alternating, each on a fresh directory.
#include <chrono>
#include <stdexcept>

#include "ember/bench/progress.hpp"
#include "ember/client/oci_image.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/image/image.hpp"
#include "modes.hpp"

namespace ember::bench::detail {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_us(Clock::time_point since) {
  return std::chrono::duration<double, std::micro>(Clock::now() - since).count();
}

}  // namespace

void run_unpack_mode(const BenchOptions& o, Report& report) {
  const auto ref = image::parse_image_ref(o.image, ".");
  const auto platform = image::Platform::host();
  const auto layers = image::layout_layer_files(ref, platform);
  Series ensure{"unpack", "ImageStore::ensure, empty store", SeriesKind::kFigure, {}};
  Series tar{"baseline", "tar -x of the layers + sync -f", SeriesKind::kBaseline, {}};
  std::uint64_t unpacked = 0;
  Progress progress("unpack", o.n);
  for (std::size_t i = 0; i < o.n; ++i) {
    {
      const client::TempDir dir("ember-bench-unpack-");
      image::StoreOptions options;
      options.dir = dir.path() / "images";
      options.platform = platform;
      image::ImageStore store(options);
      const auto begin = Clock::now();
      unpacked = store.ensure(ref).unpacked_bytes;
      ensure.values.push_back(elapsed_us(begin));
    }
    {
      const client::TempDir dir("ember-bench-tar-");
      const auto begin = Clock::now();
      for (const auto& layer : layers) {
        client::run_tool({"tar", "-x", "-f", layer.string(), "-C", dir.path().string()});
      }
      client::run_tool({"sync", "-f", dir.path().string()});
      tar.values.push_back(elapsed_us(begin));
    }
    progress.tick();
  }
  report.payload = "each run into an empty store and an empty directory";
  report.client = "no HTTP";
  report.target = o.image + " (" + std::to_string(layers.size()) + " layers, " +
                  std::to_string(unpacked / 1'000'000) + " MB unpacked)";
  report.series.push_back(std::move(ensure));
  report.series.push_back(std::move(tar));
  report.add_ratio("unpack: ImageStore::ensure, empty store",
                   "baseline: tar -x of the layers + sync -f");
}

}  // namespace ember::bench::detail
