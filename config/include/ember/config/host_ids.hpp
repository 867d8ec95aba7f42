// Whether a sandbox id range (node.sandbox_uid_range) is the node's own: no user or group of
// the host, and no subordinate range of a host user (rootless containers' ids), lies in it.
// A sandbox sharing a uid with anything else would share its per-user kernel limits and, where
// a writable mount allows, its files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "ember/config/config.hpp"

namespace ember::config {

struct HostIdFiles {
  std::filesystem::path passwd = "/etc/passwd";
  std::filesystem::path group = "/etc/group";
  std::filesystem::path subuid = "/etc/subuid";
  std::filesystem::path subgid = "/etc/subgid";
};

// The first id of `range` that the host uses, described ("uid 1000 is user debian
// (/etc/passwd)", "uids 100000-165535 are subordinate ids of debian (/etc/subuid)"), or
// nullopt. Only the local files: users of a directory service (LDAP, sssd) are not seen.
std::optional<std::string> host_use_of(const UidRange& range, const HostIdFiles& files = {});

}  // namespace ember::config
