#include "oci_config.hpp"

#include <boost/json/array.hpp>

#include "cgroup.hpp"
#include "ember_paths.hpp"
#include "per_user_limits.hpp"
#include "proc_masks.hpp"

namespace ember::isolation {
namespace {

namespace json = boost::json;

// The architecture libseccomp and the runtimes name the one ember runs on; syscalls of any
// other ABI fail the runtime's default bad-architecture action (kill), as the native filter's.
constexpr const char* kNativeArch =
#if defined(__x86_64__)
    "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
    "SCMP_ARCH_AARCH64";
#else
#error "add this architecture's SCMP_ARCH name"
#endif

json::object mount(const std::string& destination, const std::string& type,
                   const std::string& source, std::initializer_list<std::string> options) {
  json::array opts;
  for (const auto& o : options) opts.emplace_back(o);
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", opts}};
}

json::object read_only_bind(const std::string& source, const std::string& destination) {
  return mount(destination, "bind", source, {"rbind", "ro", "nosuid", "nodev"});
}

json::array mounts(const OciContainerInput& in) {
  const SandboxSpec& spec = *in.spec;
  json::array list;
  // A fresh /proc for the pid namespace; the minimal /dev the runtime fills with its default
  // devices (null zero full random urandom tty) and links (fd stdin stdout stderr ptmx).
  list.emplace_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  list.emplace_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "noexec", "mode=755", "size=64k"}));
  list.emplace_back(
      mount("/tmp", "tmpfs", "tmpfs",
            {"nosuid", "nodev", "mode=1777", "size=" + std::to_string(spec.tmp_mb) + "m"}));
  // Not recursive: a mount below the source stays out, as in the native sandbox.
  for (const auto& m : spec.mounts) {
    list.emplace_back(mount(m.target, "bind", m.source.string(),
                            {"bind", m.read_only ? "ro" : "rw", "nosuid", "nodev"}));
  }
  if (!spec.image_root.empty()) return list;
  for (const auto& host : in.host_root->binds) list.emplace_back(read_only_bind(host, host));
  if (!in.passwd_file.empty()) {
    list.emplace_back(read_only_bind(in.passwd_file.string(), "/etc/passwd"));
  }
  if (!in.group_file.empty()) {
    list.emplace_back(read_only_bind(in.group_file.string(), "/etc/group"));
  }
  list.emplace_back(read_only_bind(spec.code_dir.string(), kTaskRoot));
  if (!spec.runtime_dir.empty()) {
    list.emplace_back(read_only_bind(spec.runtime_dir.string(), kRuntimeRoot));
  }
  if (spec.opt_layers.size() == 1) {
    list.emplace_back(read_only_bind(spec.opt_layers.front().string(), "/opt"));
  } else if (!spec.opt_layers.empty()) {
    // As the native sandbox does (init/rootfs.cpp, mount_layers): the last layer on top.
    std::string lower;
    for (auto it = spec.opt_layers.rbegin(); it != spec.opt_layers.rend(); ++it) {
      lower += (lower.empty() ? "" : ":") + it->string();
    }
    list.emplace_back(
        mount("/opt", "overlay", "overlay", {"ro", "nosuid", "nodev", "lowerdir=" + lower}));
  }
  return list;
}

json::object process(const OciContainerInput& in) {
  json::array args;
  for (const auto& a : in.argv) args.emplace_back(a);
  json::array env;
  for (const auto& e : in.env) env.emplace_back(e);
  const json::array none;
  return {
      {"terminal", false},
      {"user",
       {{"uid", in.uid},
        {"gid", in.gid},
        {"additionalGids",
         in.group == in.gid ? json::array{in.gid} : json::array{in.gid, in.group}}}},
      {"args", args},
      {"env", env},
      {"cwd", in.cwd},
      {"capabilities",
       {{"bounding", none},
        {"effective", none},
        {"inheritable", none},
        {"permitted", none},
        {"ambient", none}}},
      // As the native worker's: RLIMIT_NPROC would count across every sandbox of the uid;
      // pids.max bounds each sandbox instead.
      {"rlimits",
       json::array{
           json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}},
           json::object{{"type", "RLIMIT_CORE"}, {"hard", 0}, {"soft", 0}},
           json::object{{"type", "RLIMIT_SIGPENDING"},
                        {"hard", kSigPendingLimit},
                        {"soft", kSigPendingLimit}},
           json::object{
               {"type", "RLIMIT_MSGQUEUE"}, {"hard", kMsgQueueBytes}, {"soft", kMsgQueueBytes}}}},
      {"noNewPrivileges", true},
  };
}

json::object resources(const OciContainerInput& in) {
  const SandboxSpec& spec = *in.spec;
  // No memory limit here: it is on the sandbox's own cgroup, the container's parent (memory =
  // memory_mb, swap off). With the same limit on the container's cgroup the kernel would count
  // the OOM kill there, and the runtime removes that cgroup when the container ends, before
  // the engine asks whether it was an OOM kill.
  json::object out{
      {"pids", {{"limit", in.pids_max}}},
      {"devices", json::array{json::object{{"allow", false}, {"access", "rwm"}}}},
  };
  // During an init burst the quota lives on the sandbox's own cgroup, the container's parent,
  // which Sandbox::end_init_burst() sets; a quota here could not be lifted.
  if (!spec.init_cpu_burst) {
    out["cpu"] = {{"quota", cpu_quota_us(spec.memory_mb, kCpuPeriodUs)}, {"period", kCpuPeriodUs}};
  }
  return out;
}

json::object linux_section(const OciContainerInput& in) {
  json::array namespaces{json::object{{"type", "pid"}}, json::object{{"type", "mount"}},
                         json::object{{"type", "ipc"}}, json::object{{"type", "uts"}}};
  if (in.cgroup_namespace) namespaces.emplace_back(json::object{{"type", "cgroup"}});
  if (!in.netns_path.empty()) {
    namespaces.emplace_back(json::object{{"type", "network"}, {"path", in.netns_path}});
  }
  json::array masked;
  for (const char* path : kMaskedPaths) masked.emplace_back(path);
  json::array read_only;
  for (const char* path : kReadOnlyPaths) read_only.emplace_back(path);
  return {{"namespaces", namespaces},      {"cgroupsPath", in.cgroups_path},
          {"resources", resources(in)},    {"seccomp", oci_seccomp(in.seccomp)},
          {"maskedPaths", masked},         {"readonlyPaths", read_only},
          {"rootfsPropagation", "private"}};
}

}  // namespace

json::object oci_seccomp(const std::vector<SeccompRule>& rules) {
  json::array syscalls;
  for (const auto& rule : rules) {
    for (const auto& entry : filter_entries(rule)) {
      json::object call{{"names", json::array{json::string(entry.syscall)}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", entry.errno_value}};
      if (entry.arg_masked) {
        // MASKED_EQ compares (arg & value) with valueTwo, as libseccomp's datum_a and datum_b.
        call["args"] = json::array{json::object{{"index", entry.arg_index},
                                                {"value", entry.mask},
                                                {"valueTwo", entry.value},
                                                {"op", "SCMP_CMP_MASKED_EQ"}}};
      }
      syscalls.emplace_back(std::move(call));
    }
  }
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures", json::array{kNativeArch}},
          {"syscalls", syscalls}};
}

json::object oci_container_config(const OciContainerInput& in) {
  const SandboxSpec& spec = *in.spec;
  const std::string root =
      spec.image_root.empty() ? in.host_root->dir.string() : spec.image_root.string();
  return {{"ociVersion", "1.0.2"},
          {"process", process(in)},
          {"root", {{"path", root}, {"readonly", true}}},
          {"hostname", "sandbox"},
          {"mounts", mounts(in)},
          {"linux", linux_section(in)}};
}

}  // namespace ember::isolation
