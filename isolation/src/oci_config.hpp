// The bundle's config.json (OCI runtime-spec 1.0.2) of one sandbox, as Boost.JSON values.
#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ember/isolation/sandbox.hpp"
#include "seccomp_policy.hpp"

namespace ember::isolation {

// A code function's root: a directory of mount points shared by every sandbox of a backend,
// and the host paths bound onto them (the native root's pieces, host_root_paths.hpp).
struct OciHostRoot {
  std::filesystem::path dir;
  std::vector<std::string> binds;  // host paths mounted read-only at the same path inside
};

struct OciContainerInput {
  const SandboxSpec* spec = nullptr;  // sizes, paths, image_root, network_host, init burst
  std::vector<std::string> argv;
  std::vector<std::string> env;  // with AWS_LAMBDA_RUNTIME_API
  std::string cwd;               // inside the container
  std::vector<SeccompRule> seccomp;
  const OciHostRoot* host_root = nullptr;  // used when spec->image_root is empty
  uid_t uid = 993;
  gid_t gid = 993;
  gid_t group = 993;  // supplementary (OciOptions::ids); gid when none
  // Files bound over the host root's /etc/passwd and /etc/group (a user of its own per
  // sandbox); empty: the host root's.
  std::filesystem::path passwd_file;
  std::filesystem::path group_file;
  std::uint32_t pids_max = 1024;
  std::string cgroups_path;  // "/..." relative to each hierarchy's root
  std::string netns_path;    // the namespace the Runtime API listens in; empty = the host's
  bool cgroup_namespace = true;
};

// runtime-spec "linux.seccomp": default allow, each rule an SCMP_ACT_ERRNO entry with errnoRet
// and its argument condition, translated from filter_entries() as the native filter is.
boost::json::object oci_seccomp(const std::vector<SeccompRule>& rules);

boost::json::object oci_container_config(const OciContainerInput& input);

}  // namespace ember::isolation
