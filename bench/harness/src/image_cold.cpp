// `ember bench cold --images`: the same runtime packaged as a container image, cold-started on
// the native backend and through each OCI runtime that works here, measured in the run that
// measures it as a code function and the `runc run` baseline. The image: the code directory at
// /var/task (the static bootstrap as its entrypoint), built with umoci.
#include <filesystem>
#include <stdexcept>

#include "ember/bench/progress.hpp"
#include "ember/client/oci_image.hpp"
#include "ember/client/temp_dir.hpp"
#include "modes.hpp"

namespace ember::bench::detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kImageTag = "bench";

// An OCI layout of `code` under /var/task, started as /var/task/bootstrap; its reference.
std::string build_bench_image(const fs::path& code, const fs::path& dir) {
  const fs::path root = dir / "root";
  for (const char* mount_point : {"proc", "dev", "tmp", "var/task"}) {
    fs::create_directories(root / mount_point);
  }
  fs::copy(code, root / "var" / "task", fs::copy_options::recursive);
  client::OciImageSpec spec;
  spec.entrypoint = {"/var/task/bootstrap"};
  spec.working_dir = "/var/task";
  client::build_oci_image(root, dir / "layout", kImageTag, spec);
  return "oci:" + (dir / "layout").string() + ":" + kImageTag;
}

// One cold start per invocation (max_reuse: 1), as the code function's series.
client::NodeFunction image_function(const BenchOptions& o, const std::string& name,
                                    const std::string& image, const std::string& isolation) {
  client::NodeFunction f = function_for(o, name);
  f.image = image;
  f.isolation = isolation;
  f.max_reuse = 1;
  f.reserved_concurrency = 1;
  return f;
}

void measure(const BenchOptions& o, Report& report, const std::string& group,
             const client::NodeFunction& f, const client::NodeSettings& settings) {
  const auto node = start_node(o, {f}, settings);
  auto client = make_client(o.client, endpoint_of(*node));
  const auto payload = event_payload(o.payload_bytes);
  Progress progress(group, o.n);
  add_measured(report, group,
               run_sequential(*client, {f.name}, payload, o.n, &progress, o.cold_gap), true);
}

}  // namespace

void add_image_cold_starts(const BenchOptions& o, Report& report) {
  if (is_python(o.runtime)) {
    report.notes.emplace_back(
        "--images skipped: the image holds the code directory's static "
        "bootstrap, not a Python runtime");
    return;
  }
  const client::TempDir dir("ember-bench-image-");
  const std::string image = build_bench_image(o.code, dir.path());
  measure(o, report, "cold image native", image_function(o, "image-native", image, "native"), {});
  for (const std::string runtime : {"runc", "crun"}) {
    const std::string group = "cold image " + runtime;
    client::NodeSettings settings;
    settings.oci_runtime = runtime;
    try {
      measure(o, report, group, image_function(o, "image-" + runtime, image, "oci"), settings);
    } catch (const std::runtime_error& e) {
      std::string why = e.what();
      if (const auto cut = why.find('\n', 200); cut != std::string::npos) why.resize(cut);
      report.notes.push_back(
          std::string(group).append(" skipped: the node refused it: ").append(why));
    }
  }
}

}  // namespace ember::bench::detail
